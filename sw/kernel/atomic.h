// Shared-memory primitives with a cost, through the coherence model: atomics on
// a line that moves between CPUs, and per-CPU counters, each CPU's on its own
// line, that stay local until someone sums them. Every reference-count design
// charges its operations here, as the design's references (coh_kind::refs).
#pragma once
#include "sw/kernel/kernel.h"

#include <string>
#include <vector>

namespace ioatsim::sw {

struct atomic_long {
    long value = 0;
    cacheline line;
};

struct percpu_long {
    std::vector<long> v;             // one slot per CPU
    std::vector<cacheline> lines;    // each on its own line
};

class shared_memory {
public:
    explicit shared_memory(kernel& k) : k_(k) {}
    long atomic_add_return(atomic_long& a, long delta);  // a locked RMW on the line
    void this_cpu_add(percpu_long& p, long delta);       // local once the CPU holds its line
    long percpu_sum(percpu_long& p);                     // loads every CPU's line
    const coherence_costs& costs() const { return k_.coh().costs(); }
    kernel& k() { return k_; }
    uint64_t rmw_count() const { return rmws_; }
    ktime_t charged() const { return charged_; }         // CPU time spent in these primitives

private:
    void size(percpu_long& p) const;
    kernel& k_;
    uint64_t rmws_ = 0;
    ktime_t charged_ = 0;
};

}  // namespace ioatsim::sw
