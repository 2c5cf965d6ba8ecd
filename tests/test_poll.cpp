// kernel::poll (run.poll_skip): a busy-wait whose passes have settled sleeps
// until something could change them, and comes out where spinning every pass
// comes out, within a pass, with the same passes, time and coherence cost.
// Each figure is measured twice, with the skip and without, in child processes.
#include "tests/booted.h"
#include "cli.h"

#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <functional>

using namespace ioatsim;
using namespace ioatsim::sw;

namespace {
struct machine : booted {
    explicit machine(bool skip)
        : booted(std::string("name: t\nplatform: {preset: x3850x5}\nrun: {poll_skip: ") + (skip ? "true" : "false") +
                 "}\n") {}
    kernel& k() { return *plat.kernel(); }
    void run() { sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_SEC)); }
    int64_t slept() { return k().rep().get("kernel.poll_passes_slept"); }
};

// What a run measured: [0] when the polls left (the last one), [1] passes run
// or slept, [2] the coherence time of the path, [3] passes slept.
using figures = std::array<double, 4>;

figures in_child(const std::function<figures()>& f) { return ioatsim::in_child<figures>(f); }

// `pollers` tasks poll a flag under one spinlock, as readers draining one
// channel take its cleanup lock; a task on another socket sets the flag under
// that lock at 2 ms.
figures lock_pollers(bool skip, std::vector<unsigned> cpus) {
    machine m(skip);
    spinlock lock;
    cacheline word;
    bool flag = false;
    ktime_t left = 0;
    int64_t passes = 0;
    for (unsigned cpu : cpus)
        m.k().kthread_run("poller" + std::to_string(cpu), cpu, [&] {
            m.k().poll([&] {
                ++passes;
                m.k().spin_lock(lock);
                m.k().touch(word, coh_op::load);
                const bool done = flag;
                m.k().spin_unlock(lock);
                if (done) return true;
                m.k().cost(100 * NSEC);
                return false;
            });
            left = std::max(left, m.k().now());
        });
    m.k().kthread_run("writer", 24, [&] {
        m.k().cost(2 * MSEC);
        m.k().spin_lock(lock);
        m.k().touch(word, coh_op::store);
        flag = true;
        m.k().spin_unlock(lock);
    });
    m.run();
    return {double(left), double(passes + m.slept()), double(m.k().coh().of(coh_kind::path).time), double(m.slept())};
}

void check_alike(const figures& on, const figures& off, double pass_ps) {
    MESSAGE("left at " << on[0] / 1e6 << " us (skip) vs " << off[0] / 1e6 << " us; passes " << on[1] << " vs "
                       << off[1] << ", " << on[3] << " slept; coherence " << on[2] / 1e6 << " us vs "
                       << off[2] / 1e6 << " us");
    REQUIRE(off[3] == 0);
    CHECK(on[3] > 0.9 * on[1]);                         // nearly every pass slept
    CHECK(std::abs(on[0] - off[0]) <= 2 * pass_ps);     // out within a pass or two of spinning
    CHECK(std::abs(on[1] - off[1]) <= 0.001 * off[1] + 4);
    CHECK(std::abs(on[2] - off[2]) <= 0.001 * off[2]);
}
}  // namespace

TEST_CASE("a settled poll sleeps until another CPU writes its line, and leaves where spinning leaves") {
    figures on = in_child([] { return lock_pollers(true, {1}); });
    figures off = in_child([] { return lock_pollers(false, {1}); });
    CHECK(off[1] > 10000);  // 2 ms of passes of about 120 ns
    check_alike(on, off, 2e9 / off[1]);  // 2 ms of passes, in ps
}

TEST_CASE("polls contending for a lock sleep as one group, with the passes and coherence cost of spinning") {
    // Three pollers on two sockets: the lock line moves between them every pass.
    figures on = in_child([] { return lock_pollers(true, {1, 9, 10}); });
    figures off = in_child([] { return lock_pollers(false, {1, 9, 10}); });
    check_alike(on, off, 3 * 2e9 / off[1]);  // each poller passes once a round
}

TEST_CASE("a poll with a deadline leaves at the same pass with or without the skip") {
    auto deadline = [](bool skip) {
        return in_child([skip] {
            machine m(skip);
            cacheline word;
            ktime_t left = 0;
            int64_t passes = 0;
            m.k().kthread_run("poller", 3, [&] {
                const ktime_t end = m.k().now() + 1 * MSEC;
                m.k().poll([&] {
                    ++passes;
                    m.k().touch(word, coh_op::load);
                    if (m.k().now() > end) return true;
                    m.k().cost(100 * NSEC);
                    return false;
                }, end);
                left = m.k().now();
            });
            m.run();
            return figures{double(left), double(passes + m.slept()), double(m.k().coh().of(coh_kind::path).time),
                           double(m.slept())};
        });
    };
    figures on = deadline(true), off = deadline(false);
    CHECK(on[3] > 0.9 * on[1]);
    CHECK(on[0] == off[0]);
    CHECK(on[1] == off[1]);
    CHECK(on[2] == off[2]);
}

TEST_CASE("readers draining a dead channel: the same verdict and violations with or without the skip") {
    // removal-sweep under atomic without fail-back, IOH1 removed at 2 ms: the
    // readers on its channels spin in tcp_service_net_dma until the run ends.
    cli::tmpdir t;
    const std::string base = cli::scenario("removal-sweep.yaml") +
                             " -q --set software.dmaengine.design=atomic --set software.dmaengine.failback=false"
                             " --set timeline.0.at=\"2 ms\" --set run.until=\"30 ms\"";
    cli::result on = cli::ioatsim("run " + base + " --out " + (t.path / "on").string(), t);
    cli::result off = cli::ioatsim("run " + base + " --set run.poll_skip=false --out " + (t.path / "off").string(), t);
    CHECK(on.status == 1);
    CHECK(off.status == 1);
    auto a = cli::summary(t.path / "on"), b = cli::summary(t.path / "off");
    CHECK(a["counters"]["kernel.poll_passes_slept"].get<int64_t>() > 1000000);
    CHECK(b["counters"]["kernel.poll_passes_slept"].get<int64_t>() == 0);
    for (auto& [k, v] : b["counters"].items())
        if (k.rfind("violations.", 0) == 0) CHECK_MESSAGE(a["counters"][k] == v, k);
    CHECK(a["clients"]["net_dma"]["copies"] == b["clients"]["net_dma"]["copies"]);
    const double pa = a["shared_lines"]["path"]["cpu_time_ps"].get<double>();
    const double pb = b["shared_lines"]["path"]["cpu_time_ps"].get<double>();
    CHECK(std::abs(pa - pb) <= 0.001 * pb);
}
