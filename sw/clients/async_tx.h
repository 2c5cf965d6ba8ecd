// async_tx as loaded in 3.4 (crypto/async_tx): one dmaengine reference taken at
// module load, so every public channel is held for md/raid's offloads.
#pragma once
#include "sw/dmaengine/dmaengine.h"

namespace ioatsim::sw {

class async_tx {
public:
    async_tx(kernel& k, dmaengine& dma) : k_(k), dma_(dma) {}
    void init() {
        dma_.dmaengine_get();
        k_.printk("async_tx: api initialized (async)");
    }
private:
    kernel& k_;
    dmaengine& dma_;
};

}  // namespace ioatsim::sw
