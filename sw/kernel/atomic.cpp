#include "sw/kernel/atomic.h"

namespace ioatsim::sw {

long shared_memory::atomic_add_return(atomic_long& a, long delta) {
    ++rmws_;
    charged_ += k_.touch(a.line, coh_op::rmw, coh_kind::refs);
    return a.value += delta;
}

void shared_memory::size(percpu_long& p) const {
    if (p.v.size() < k_.nr_cpus()) p.v.resize(k_.nr_cpus(), 0);
    if (p.lines.size() < k_.nr_cpus()) p.lines.resize(k_.nr_cpus());
}

// A non-locked add on the CPU's own line: ~3 cycles once the line is here; a
// miss (after a sum read it) costs its transfer.
void shared_memory::this_cpu_add(percpu_long& p, long delta) {
    size(p);
    unsigned cpu = k_.smp_processor_id();
    p.v[cpu] += delta;
    cacheline& l = p.lines[cpu];
    if (l.owner == int(cpu)) {
        charged_ += costs().percpu_op;
        k_.cost(costs().percpu_op);
    } else {
        charged_ += k_.touch(l, coh_op::store, coh_kind::refs);
    }
}

long shared_memory::percpu_sum(percpu_long& p) {
    size(p);
    long sum = 0;
    // Every possible CPU, as for_each_possible_cpu: what a CPU that went away
    // left in its slot still counts (docs/sources/socket-hotplug.md §5).
    for (unsigned c = 0; c < p.v.size(); ++c) {
        sum += p.v[c];
        if (p.v[c] && !k_.cpu_online(c)) ++k_.rep().counter("percpu.offline_counts_summed");
        charged_ += k_.touch(p.lines[c], coh_op::load, coh_kind::refs);
    }
    return sum;
}

}  // namespace ioatsim::sw
