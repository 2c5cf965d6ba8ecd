// Test support for the dmaengine core: a DMA driver with no hardware, and a
// booted machine (no drivers loaded) whose kernel runs a test body as a task.
#pragma once
#include "platform/params.h"
#include "platform/platform.h"
#include "platform/scenario.h"
#include "sw/dmaengine/dmaengine.h"
#include "sw/kernel/kernel.h"

#include <systemc>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ioatsim::sw {

// Counts what the core asks of it; its "in-flight" work is whatever the test says.
struct fake_dev : dma_device {
    std::vector<std::unique_ptr<dma_chan>> chans;
    std::map<dma_chan*, bool> allocated;
    std::vector<std::unique_ptr<dma_async_tx_descriptor>> txs;
    int allocs = 0, frees = 0, terminated = 0;
    bool released = false;
    explicit fake_dev(unsigned n, int numa_node = -1) {
        for (unsigned i = 0; i < n; ++i) {
            chans.push_back(std::make_unique<dma_chan>());
            channels.push_back(chans.back().get());
        }
        cap_mask.set(DMA_MEMCPY);
        node = numa_node;
    }
    int alloc_chan_resources(dma_chan* c) override { ++allocs; allocated[c] = true; return 16; }
    void free_chan_resources(dma_chan* c) override { ++frees; allocated[c] = false; }
    dma_async_tx_descriptor* prep_dma_memcpy(dma_chan* c, uint64_t, uint64_t, uint64_t, unsigned f) override {
        txs.push_back(std::make_unique<dma_async_tx_descriptor>());
        auto* tx = txs.back().get();
        tx->chan = c;
        tx->flags = f;
        tx->tx_submit = [](dma_async_tx_descriptor* t) { return dmaengine::dma_cookie_assign(t); };
        return tx;
    }
    dma_status tx_status(dma_chan* c, dma_cookie_t k, dma_tx_state* st) override {
        return dmaengine::dma_cookie_status(c, k, st);
    }
    void issue_pending(dma_chan*) override {}
    void terminate_all(dma_chan*) override { ++terminated; }
    void device_release() override { released = true; }
    bool chan_resources_allocated(dma_chan* c) const override {
        auto it = allocated.find(c);
        return it != allocated.end() && it->second;
    }
};

// A machine of `preset` running `design`; `body` runs as a kernel task on CPU 0,
// `other` (when given) as a second task on CPU 1.
inline void with_kernel(const std::function<void(kernel&, dmaengine&)>& body, const std::string& design = "legacy",
                        const std::string& preset = "minimal",
                        const std::function<void(kernel&, dmaengine&)>& other = {}, bool numa = false) {
    scenario sc = parse_scenario("name: t\nplatform: {preset: " + preset + "}\nsoftware: {dmaengine: {design: " +
                                     design + ", numa_affinity: " + (numa ? "true" : "false") + "}}\n",
                                 "t.yaml", {});
    params p = params::resolve(sc);
    platform plat(sc, p);
    plat.kernel()->kthread_run("test", 0, [&] { body(*plat.kernel(), *plat.dma()); });
    if (other) plat.kernel()->kthread_run("other", 1, [&] { other(*plat.kernel(), *plat.dma()); });
    sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_SEC));
}

}  // namespace ioatsim::sw
