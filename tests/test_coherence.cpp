// The coherence model on its own (sw/kernel/coherence.h): each state a line can
// be found in, by distance, as SOSP'13's Table 2 gives it; a device write;
// false sharing; one miss at a time; the 8-socket topology. Then, on a booted
// machine, a lock handed over locally and across sockets, and the same
// contended workload at two quanta.
#include "tests/booted.h"
#include "platform/params.h"
#include "platform/platform.h"
#include "platform/scenario.h"
#include "sw/kernel/atomic.h"
#include "sw/kernel/coherence.h"
#include "sw/kernel/kernel.h"

#include <doctest/doctest.h>
#include <systemc>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

using namespace ioatsim;
using namespace ioatsim::sw;

namespace {
// Four sockets of eight CPUs, fully connected, as the x3850 X5.
coherence x3850() {
    return coherence({}, coherence_topology(0, 4), [](unsigned cpu) { return cpu / 8; });
}
constexpr unsigned A = 0, SAME_DIE = 1, OTHER = 8, THIRD = 16;
// Accesses a microsecond apart: none waits for the one before.
coh_time t() {
    static coh_time now = 0;
    return now += 1000000;
}
}  // namespace

TEST_CASE("coherence: a load costs by the state it finds and the distance to who answers") {
    coherence m = x3850();
    const coherence_costs& c = m.costs();
    cacheline l;
    CHECK(m.access(l, A, coh_op::load, t()) == c.load_i[0]);  // from memory: now Exclusive at A
    CHECK(l.owner == int(A));
    CHECK(m.access(l, A, coh_op::load, t()) == c.load_local);
    CHECK(m.access(l, OTHER, coh_op::load, t()) == c.load_e[1]);  // Exclusive one hop away
    CHECK(l.owner == -1);
    CHECK(l.shared_by(A));
    CHECK(l.shared_by(OTHER));
    CHECK(m.access(l, SAME_DIE, coh_op::load, t()) == c.load_s[0]);  // the nearest sharer answers
    CHECK(m.access(l, THIRD, coh_op::store, t()) == c.store_s[1]);   // invalidates every sharer
    CHECK(l.owner == int(THIRD));
    CHECK_FALSE(l.shared_by(A));
    CHECK(m.access(l, A, coh_op::load, t()) == c.load_m[1]);  // Modified one hop away
    CHECK(m.access(l, OTHER, coh_op::rmw, t()) == c.atomic_s[1]);
    CHECK(m.access(l, OTHER, coh_op::rmw, t()) == c.rmw_local);
    CHECK(m.access(l, SAME_DIE, coh_op::rmw, t()) == c.atomic_m[1]);
    CHECK(m.access(l, A, coh_op::rmw, t()) == c.atomic_m[0]);
    CHECK(m.of(coh_kind::path).transfers == 8);
}

TEST_CASE("coherence: the twisted hypercube puts three sockets one hop away and four two hops") {
    auto h = coherence_topology(1, 8);
    for (unsigned a = 0; a < 8; ++a) {
        int one = 0, two = 0;
        for (unsigned b = 0; b < 8; ++b) {
            if (a == b) continue;
            one += h[a][b] == 1;
            two += h[a][b] == 2;
        }
        CHECK(one == 3);
        CHECK(two == 4);
    }
    coherence m({}, h, [](unsigned cpu) { return cpu / 10; });
    cacheline l;
    m.access(l, 0, coh_op::store, t());
    CHECK(m.access(l, 70, coh_op::rmw, t()) == m.costs().atomic_m[2]);  // socket 7 from socket 0
    CHECK(m.access(l, 10, coh_op::rmw, t()) == m.costs().atomic_m[2]);  // socket 1 from 7: two bits apart
    CHECK(m.access(l, 30, coh_op::rmw, t()) == m.costs().atomic_m[1]);  // socket 3 from 1: one bit
}

TEST_CASE("coherence: a device write invalidates every copy, so the next poll misses") {
    coherence m = x3850();
    cacheline l;
    m.access(l, A, coh_op::store, t());  // the driver zeroes the completion word
    CHECK(m.access(l, A, coh_op::load, t()) == m.costs().load_local);
    CHECK(m.hit(l, A, coh_op::load));
    m.device_write(l);
    CHECK_FALSE(m.hit(l, A, coh_op::load));
    CHECK(m.access(l, A, coh_op::load, t()) == m.costs().load_i[0]);
}

TEST_CASE("coherence: false sharing: a read-mostly field pays for a counter written on its line") {
    coherence m = x3850();
    cacheline together, apart_counter, apart_field;
    coh_time with = 0, without = 0;
    for (int i = 0; i < 100; ++i) {
        m.access(together, OTHER, coh_op::store, t());  // the counter, one socket away
        with += m.access(together, A, coh_op::load, t());  // the field beside it
        m.access(apart_counter, OTHER, coh_op::store, t());
        without += m.access(apart_field, A, coh_op::load, t());
    }
    CHECK(with == 100 * m.costs().load_m[1]);
    CHECK(without == m.costs().load_i[0] + 99 * m.costs().load_local);
}

TEST_CASE("coherence: a line serves one miss at a time") {
    coherence m = x3850();
    cacheline l;
    m.access(l, A, coh_op::store, 0);
    const coh_time at = 1000000, rmw = m.costs().atomic_m[0];
    CHECK(m.access(l, 1, coh_op::rmw, at) == rmw);            // until at + rmw
    CHECK(m.access(l, 2, coh_op::rmw, at) == 2 * rmw);        // waits for the first
    CHECK(m.access(l, 3, coh_op::rmw, at + 3 * rmw) == rmw);  // the line is free again
}

namespace {
struct machine {
    scenario sc;
    params p;
    platform plat;
    explicit machine(const std::string& extra = "")
        : sc(parse_scenario("name: t\nplatform: {preset: x3850x5}\nrun: {" + extra + "}\n", "t.yaml", {})),
          p(params::resolve(sc)), plat(sc, p) {}
    kernel& k() { return *plat.kernel(); }
    void run() { sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_SEC)); }
};

double in_child(const std::function<double()>& f) { return ioatsim::in_child<double>(f); }

// Eight CPUs (two per socket) each take a spinlock, hold it 200 ns, let go and
// do 1 us of other work, 200 times: the mean CPU time of a lock-unlock pair.
double contended_lock_cost(const std::string& quantum) {
    machine m("quantum: " + quantum);
    spinlock lock;
    ktime_t total = 0;
    const int per = 200;
    const unsigned cpus[] = {0, 1, 8, 9, 16, 17, 24, 25};
    for (unsigned cpu : cpus)
        m.k().kthread_run("t" + std::to_string(cpu), cpu, [&] {
            for (int i = 0; i < per; ++i) {
                ktime_t t0 = m.k().now();
                m.k().spin_lock(lock);
                m.k().cost(200 * NSEC);
                m.k().spin_unlock(lock);
                total += m.k().now() - t0 - 200 * NSEC;
                m.k().cost(1 * USEC);
            }
        });
    m.run();
    return double(total) / double(per * 8);
}
}  // namespace

TEST_CASE("a contended lock costs the same per operation at a 1 us quantum and at 10 ns") {
    double coarse = in_child([] { return contended_lock_cost("1 us"); });
    double fine = in_child([] { return contended_lock_cost("10 ns"); });
    MESSAGE("lock+unlock under contention: " << coarse / 1000 << " ns at 1 us, " << fine / 1000 << " ns at 10 ns");
    REQUIRE(fine > 0);
    CHECK(coarse > 100000);  // contended across sockets: well above an uncontended pair
    CHECK(std::abs(coarse - fine) / fine < 0.05);
}

TEST_CASE("a lock handed over across sockets costs more than one handed over on the die") {
    auto handoff = [](unsigned second) {
        return in_child([second] {
            machine m;
            spinlock lock;
            m.k().kthread_run("first", 0, [&] {
                m.k().spin_lock(lock);
                m.k().cost(10 * USEC);
                m.k().spin_unlock(lock);
            });
            m.k().kthread_run("second", second, [&] {
                m.k().cost(1 * USEC);  // asks while the first holds it
                m.k().spin_lock(lock);
                m.k().spin_unlock(lock);
            });
            m.run();
            return double(m.k().coh().of(coh_kind::path).time);  // the lock line's traffic, all of it
        });
    };
    double local = handoff(1), remote = handoff(8);
    MESSAGE("lock line traffic, handed over on the die: " << local / 1000 << " ns; one hop away: " << remote / 1000
                                                          << " ns");
    CHECK(remote > local * 1.5);
}
