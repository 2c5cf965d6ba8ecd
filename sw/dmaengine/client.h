// The 2006 dmaengine client (include/linux/dmaengine.h of 2.6.18-2.6.28): a
// client registers with an event callback and asks for channels; the core offers
// each channel (DMA_RESOURCE_AVAILABLE) and takes it back (DMA_RESOURCE_REMOVED).
// Clients of that era kept their own per-CPU channel choice and rebalanced it on
// every event; that part is here, shared by net_dma, async_tx and dmatest.
#pragma once
#include "sw/dmaengine/dmaengine.h"

#include <functional>
#include <string>
#include <vector>

namespace ioatsim::sw {

enum dma_state { DMA_RESOURCE_AVAILABLE, DMA_RESOURCE_REMOVED };

struct dma_client {
    std::string name;
    dma_cap_mask_t cap_mask;       // what a channel must offer
    // Optional: say no to a channel (DMA_NAK: a filter, a channel limit), or hear of it.
    std::function<bool(dma_chan*)> accept;
    std::function<void(dma_chan*, dma_state)> notify;

    // The client's own state, changed by the core as it delivers the events
    // (under dma_list_mutex; nothing there sleeps) and read locklessly by lookups.
    std::vector<dma_chan*> chans;  // acked, in the order offered
    std::vector<dma_chan*> table;  // per CPU
};

}  // namespace ioatsim::sw
