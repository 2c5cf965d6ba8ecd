// The costed shared-memory primitives: an atomic's price depends on where its
// line was, a contended line serialises its users, per-CPU counters stay local.
#include "platform/params.h"
#include "platform/platform.h"
#include "platform/scenario.h"
#include "sw/kernel/atomic.h"
#include "sw/kernel/kernel.h"

#include <doctest/doctest.h>
#include <systemc>

using namespace ioatsim;
using namespace ioatsim::sw;

namespace {
struct machine {
    scenario sc = parse_scenario("name: t\nplatform: {preset: x3850x5}\n", "t.yaml", {});
    params p = params::resolve(sc);
    platform plat{sc, p};
    kernel& k() { return *plat.kernel(); }
    void run() { sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_SEC)); }
};
}  // namespace

TEST_CASE("an atomic costs by the distance to the line's last writer") {
    machine m;
    shared_memory sm(m.k());
    atomic_long a;
    ktime_t first = 0, local = 0, same_die = 0, remote = 0;
    m.k().kthread_run("a", 0, [&] {
        ktime_t t = m.k().now();
        sm.atomic_add_return(a, 1);
        first = m.k().now() - t;
        t = m.k().now();
        sm.atomic_add_return(a, 1);
        local = m.k().now() - t;
    });
    m.k().kthread_run("b", 1, [&] {  // same socket as CPU 0
        m.k().msleep(1);
        ktime_t t = m.k().now();
        sm.atomic_add_return(a, 1);
        same_die = m.k().now() - t;
    });
    m.k().kthread_run("c", 8, [&] {  // socket 1
        m.k().msleep(2);
        ktime_t t = m.k().now();
        sm.atomic_add_return(a, 1);
        remote = m.k().now() - t;
    });
    m.run();
    CHECK(a.value == 4);
    CHECK(first == sm.costs().load_i[0] + sm.costs().rmw_local);  // from local memory first
    CHECK(local == sm.costs().rmw_local);
    CHECK(same_die == sm.costs().atomic_m[0]);
    CHECK(remote == sm.costs().atomic_m[1]);
}

TEST_CASE("a contended line serialises its users, per-CPU counters do not") {
    machine m;
    shared_memory sm(m.k());
    atomic_long shared;
    percpu_long local;
    const int cpus = 32, ops = 100;
    ktime_t atomic_end = 0, percpu_end = 0;
    for (int c = 0; c < cpus; ++c)
        m.k().kthread_run("hammer" + std::to_string(c), unsigned(c), [&] {
            for (int i = 0; i < ops; ++i) sm.atomic_add_return(shared, 1);
            atomic_end = std::max(atomic_end, m.k().now());
            ktime_t t0 = m.k().now();
            for (int i = 0; i < ops; ++i) sm.this_cpu_add(local, 1);
            percpu_end = std::max(percpu_end, m.k().now() - t0);
        });
    long sum = 0;
    m.k().kthread_run("sum", 0, [&] {
        m.k().msleep(100);
        sum = sm.percpu_sum(local);
    });
    m.run();
    CHECK(shared.value == cpus * ops);
    CHECK(sum == cpus * ops);
    // One RMW at a time: at least one same-die transfer per operation overall.
    CHECK(atomic_end >= ktime_t(cpus * ops) * sm.costs().atomic_m[0]);
    // Each CPU's line comes from memory once, then every add is local.
    CHECK(percpu_end == sm.costs().load_i[0] + ktime_t(ops - 1) * sm.costs().percpu_op);
}
