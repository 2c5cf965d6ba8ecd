// The reference-count and hot-removal designs the dmaengine core can run, chosen
// at run time (software.dmaengine.design), each as its source wrote it
// (dmaengine-semantics.md §3-5, ioat-hardware.md §10), and the core's options.
#pragma once
#include <string>

namespace ioatsim::sw {

enum class dma_design {
    legacy,            // 3.4: module-level pins, no per-use reference, no wait (the seed failure)
    atomic,            // 2012 v1: one atomic per channel, taken and dropped on every use
    percpu,            // 2012 v2: the same references as per-CPU counters, summed on removal
    client_callbacks,  // 2006: dma_client with event callbacks and per-CPU "bigref"
    prep_null,         // Dan Williams, 2009/2012: no per-use reference; after removal prep returns NULL
    mainline,          // v5.6: device kref and device_release, ioatdma shut down first (2019 order)
    percpu_ref,        // idxd (2021): percpu_ref gating each submission, applied to ioatdma on mainline
};

constexpr const char* dma_design_names[] = {"legacy",    "atomic",   "percpu",    "client_callbacks",
                                            "prep_null", "mainline", "percpu_ref"};
constexpr int dma_design_count = int(sizeof dma_design_names / sizeof *dma_design_names);

inline const char* to_string(dma_design d) { return dma_design_names[int(d)]; }
inline bool parse_dma_design(const std::string& s, dma_design& out) {
    for (int i = 0; i < dma_design_count; ++i)
        if (s == dma_design_names[i]) {
            out = dma_design(i);
            return true;
        }
    return false;
}

// What each design's sources did, as the core, the driver and the clients ask it.
struct design_traits {
    bool per_use;       // clients take a reference per use (the 2012 series' patches 6-7, 2006's bigref)
    bool memory_held;   // device and channel memory stay until the last client lets go
    bool shutdown_first;// ioatdma's 2019 remove: ioat_shutdown, then unregister, free on the last reference
    bool submit_gate;   // a percpu_ref around each submission, killed at shutdown (idxd)
    bool cpu_notifier;  // the core rebalances its tables on CPU hotplug
    bool aer_handler;   // ioatdma has ioat_pcie_error_detected (2016 on)
    bool owner_in_device;// v5.6 keeps the module in dma_device; 3.4 reads dev->driver->owner, NULL once unbound
    bool failback;      // the era's default for software.dmaengine.failback
};

inline design_traits traits(dma_design d) {
    switch (d) {
    case dma_design::legacy: return {false, false, false, false, false, false, false, false};
    // 2012 patch 2 added the CPU notifier [reconstructed, dmaengine-semantics.md §3.2].
    case dma_design::atomic:
    case dma_design::percpu: return {true, false, false, false, true, false, false, false};
    // 2006: clients rebuilt their own per-CPU tables on every event.
    case dma_design::client_callbacks: return {true, false, false, false, true, false, false, false};
    // The driver keeps its memory until the clients let go [inference from "the
    // driver can simply return NULL to a ->prep() request"].
    case dma_design::prep_null: return {false, true, false, false, false, false, false, false};
    // v5.6 has no CPU hotplug callback in dmaengine; v5.6 ioatdma drops in-flight
    // descriptors silently (ioat-hardware.md §10.3).
    case dma_design::mainline: return {false, true, true, false, false, true, true, false};
    // idxd completes what it aborts with DMA_TRANS_ABORTED (dmaengine_result).
    case dma_design::percpu_ref: return {false, true, true, true, false, true, true, true};
    }
    return {};
}

struct dmaengine_config {
    dma_design design = dma_design::legacy;
    // Each CPU gets a channel of a device on its own node when one exists, the
    // least used otherwise (later mainline's min_chan); off: 3.4's round robin.
    bool numa_affinity = false;
    // Not in any era but percpu_ref's: when a channel is shut down (a surprise
    // removal's error report, or removal) the driver completes every unfinished
    // descriptor with DMA_TRANS_ABORTED, and the clients redo those copies on the
    // CPU. Unset: the design's era (design_traits::failback).
    int failback = -1;
    bool fails_back() const { return failback < 0 ? traits(design).failback : failback != 0; }
};

}  // namespace ioatsim::sw
