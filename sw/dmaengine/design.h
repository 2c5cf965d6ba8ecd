// The reference-count and hot-removal designs the dmaengine core can run, chosen
// at run time (software.dmaengine.design), and the core's other options.
#pragma once
#include <string>

namespace ioatsim::sw {

enum class dma_design {
    legacy,            // 3.4: module-level pins, no per-use reference, no wait (the seed failure)
    atomic,            // 2012 v1: one atomic per channel, taken and dropped on every use
    percpu,            // 2012 v2: the same references as per-CPU counters, summed on removal
    percpu_ref,        // mainline: percpu_ref per channel, device kref and device_release
    client_callbacks,  // 2006: dma_client with event callbacks and per-CPU "bigref"
};

constexpr const char* dma_design_names[] = {"legacy", "atomic", "percpu", "percpu_ref", "client_callbacks"};

inline const char* to_string(dma_design d) { return dma_design_names[int(d)]; }
inline bool parse_dma_design(const std::string& s, dma_design& out) {
    for (int i = 0; i < 5; ++i)
        if (s == dma_design_names[i]) {
            out = dma_design(i);
            return true;
        }
    return false;
}

struct dmaengine_config {
    dma_design design = dma_design::legacy;
    // Each CPU gets a channel of a device on its own node when one exists, the
    // least used otherwise (later mainline's min_chan); off: 3.4's round robin.
    bool numa_affinity = false;
};

}  // namespace ioatsim::sw
