#include "sw/kernel/atomic.h"

#include <algorithm>

namespace ioatsim::sw {

// Distance decides the cost: the same CPU, another core of the socket, or
// another socket (every socket is one hop away up to four, as on the x3850 X5).
ktime_t shared_memory::transfer(int from_cpu, bool atomic) const {
    unsigned me = k_.smp_processor_id();
    if (from_cpu < 0 || unsigned(from_cpu) == me) return atomic ? c_.rmw_local : 0;
    bool same_socket = k_.cpu_node(unsigned(from_cpu)) == k_.cpu_node(me);
    if (atomic) return same_socket ? c_.atomic_same_die : c_.atomic_one_hop;
    return same_socket ? c_.load_same_die : c_.load_one_hop;
}

long shared_memory::atomic_add_return(atomic_long& a, long delta) {
    ktime_t now = k_.now();
    ktime_t start = std::max(now, a.line.busy_until);  // wait for the line's previous RMW
    ktime_t end = start + transfer(a.line.owner, true);
    a.line.busy_until = end;
    a.line.owner = int(k_.smp_processor_id());
    ++rmws_;
    charged_ += end - now;
    k_.cost(end - now);
    return a.value += delta;
}

void shared_memory::this_cpu_add(percpu_long& p, long delta) {
    if (p.v.size() < k_.nr_cpus()) p.v.resize(k_.nr_cpus(), 0);
    p.v[k_.smp_processor_id()] += delta;
    charged_ += c_.percpu_op;
    k_.cost(c_.percpu_op);
}

long shared_memory::percpu_sum(percpu_long& p) {
    if (p.v.size() < k_.nr_cpus()) p.v.resize(k_.nr_cpus(), 0);
    long sum = 0;
    ktime_t t = 0;
    for (unsigned c = 0; c < p.v.size(); ++c) {
        sum += p.v[c];
        t += transfer(int(c), false);  // each CPU's line is Modified there
    }
    charged_ += t;
    k_.cost(t);
    return sum;
}

}  // namespace ioatsim::sw
