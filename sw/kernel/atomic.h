// Shared-memory primitives with a cost: atomics on a cache line that moves between
// CPUs, and per-CPU counters that stay local. Every reference-count design charges
// its operations here, so a finer coherence model changes the figures without
// touching the designs (timing-defaults.md §1.1, §3).
#pragma once
#include "sw/kernel/kernel.h"

#include <string>
#include <vector>

namespace ioatsim::sw {

// A cache line software declares shared: the CPU that last wrote it, and until
// when it is busy (a contended line serves one RMW at a time).
struct cacheline {
    int owner = -1;
    ktime_t busy_until = 0;
};

struct atomic_long {
    long value = 0;
    cacheline line;
};

struct percpu_long {
    std::vector<long> v;  // one slot per CPU, each on its own line
};

class shared_memory {
public:
    explicit shared_memory(kernel& k) : k_(k), c_(k.config().coherence) {}
    long atomic_add_return(atomic_long& a, long delta);  // charges transfer + RMW, serialised on the line
    void this_cpu_add(percpu_long& p, long delta);       // local: no shared line is dirtied
    long percpu_sum(percpu_long& p);                     // reads every CPU's line
    const coherence_costs& costs() const { return c_; }
    kernel& k() { return k_; }
    uint64_t rmw_count() const { return rmws_; }
    ktime_t charged() const { return charged_; }         // CPU time spent in these primitives

private:
    ktime_t transfer(int from_cpu, bool atomic) const;
    kernel& k_;
    coherence_costs c_;
    uint64_t rmws_ = 0;
    ktime_t charged_ = 0;
};

}  // namespace ioatsim::sw
