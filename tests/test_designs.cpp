// Each dmaengine design's per-use get/put and unregister semantics in isolation,
// on a driver with no hardware; NUMA channel choice and CPU-hotplug rebalance;
// the RCU and percpu_ref primitives under them.
#include "sw/dmaengine/client.h"
#include "sw/kernel/percpu_ref.h"
#include "tests/fake_dma.h"

#include <doctest/doctest.h>

using namespace ioatsim;
using namespace ioatsim::sw;

namespace {

int64_t violations(const char* kind) { return sim_report().get(std::string("violations.") + kind); }

bool logged(const std::string& text) {
    for (auto& l : sim_report().log_lines())
        if (l.find(text) != std::string::npos) return true;
    return false;
}

// A device with one public channel and one public client; another task on CPU 1
// takes a use at 10 us and drops it at 2 ms; unregister starts at 100 us.
struct hold_run {
    ktime_t unregister_returned = 0, put_at = 0;
    dma_chan* late_lookup = reinterpret_cast<dma_chan*>(1);
    bool late_tryget = true;
};

hold_run unregister_while_held(const std::string& design, fake_dev& d, module& m) {
    hold_run r;
    dma_client cl;
    cl.name = "test";
    cl.cap_mask.set(DMA_MEMCPY);
    const bool callbacks = design == "client_callbacks";
    with_kernel(
        [&](kernel& k, dmaengine& dma) {
            d.owner = &m;
            d.dev_name = "fake0";
            dma.dma_async_device_register(&d);
            if (callbacks) {
                dma.dma_async_client_register(&cl);
                dma.dma_async_client_chan_request(&cl);
            } else {
                dma.dmaengine_get();
            }
            k.schedule_timeout(100 * USEC);
            dma.dma_async_device_unregister(&d);
            r.unregister_returned = k.now();
        },
        design, "minimal",
        [&](kernel& k, dmaengine& dma) {
            k.schedule_timeout(10 * USEC);
            dma_chan* c = dma.dma_get_channel(DMA_MEMCPY, &cl);
            REQUIRE(c == d.chans[0].get());
            k.schedule_timeout(200 * USEC);  // unregister has begun
            r.late_lookup = dma.dma_get_channel(DMA_MEMCPY, &cl);
            r.late_tryget = dma.dma_chan_tryget(c);
            if (r.late_tryget) dma.dma_put_channel(c);
            k.schedule_timeout(1800 * USEC);
            r.put_at = k.now();
            dma.dma_put_channel(c);
        });
    return r;
}

}  // namespace

TEST_CASE("legacy: a lookup takes no reference, unregister neither waits nor drops the holds") {
    fake_dev d(1);
    module m{"fake"};
    hold_run r = unregister_while_held("legacy", d, m);
    CHECK(r.unregister_returned < r.put_at);
    CHECK(r.late_lookup == nullptr);  // the table was rebalanced away from it
    CHECK(r.late_tryget);             // but a raw pointer still "works"
    CHECK(d.terminated == 0);
    CHECK(d.frees == 0);
    CHECK(m.refcnt == 1);  // the pin leaks
    CHECK(logged("dma_async_device_unregister called while 1 clients hold a reference"));
}

TEST_CASE("atomic: each use is a locked RMW on the channel, and unregister waits for the last one") {
    fake_dev d(1);
    module m{"fake"};
    hold_run r = unregister_while_held("atomic", d, m);
    CHECK(r.unregister_returned >= r.put_at);
    CHECK(r.late_lookup == nullptr);
    CHECK_FALSE(r.late_tryget);
    CHECK(d.chans[0]->uses.value == 0);
    CHECK(d.terminated == 0);  // no fail-back in 2012: the wait is for the holders alone
    CHECK(d.frees == 1);       // the client's hold dropped after it
    CHECK(d.chans[0]->client_count == 0);
    CHECK(m.refcnt == 0);
    CHECK(violations("use_after_unregister") == 0);
}

TEST_CASE("percpu: uses count on the CPU that takes or drops them, and removal waits for the sum") {
    fake_dev d(1);
    module m{"fake"};
    hold_run r = unregister_while_held("percpu", d, m);
    CHECK(r.unregister_returned >= r.put_at);
    CHECK_FALSE(r.late_tryget);
    long sum = 0;
    for (long v : d.chans[0]->uses_pcpu.v) sum += v;
    CHECK(sum == 0);
    CHECK(d.chans[0]->uses.value == 0);  // the atomic is not used
    CHECK(d.frees == 1);
    CHECK(m.refcnt == 0);
}

// A public client holds the device (dmaengine_get), a task uses a raw channel
// pointer across the unregister; then the public client lets go.
struct keep_run {
    ktime_t unregister_returned = 0;
    bool released_at_unregister = true, released_after_put = false, tryget_after = false;
    long kref_in_use = 0, kref_after_unregister = 0;
};

keep_run unregister_kept(const std::string& design, fake_dev& d, module& m) {
    keep_run r;
    with_kernel(
        [&](kernel& k, dmaengine& dma) {
            d.owner = &m;
            dma.dma_async_device_register(&d);
            dma.dmaengine_get();
            r.kref_in_use = d.ref.value;
            k.schedule_timeout(100 * USEC);
            dma.dma_async_device_unregister(&d);
            r.unregister_returned = k.now();
            r.kref_after_unregister = d.ref.value;
            r.released_at_unregister = d.released;
            r.tryget_after = dma.dma_chan_tryget(d.chans[0].get());
            dma.dmaengine_put();  // the public client unloads
            r.released_after_put = d.released;
        },
        design);
    return r;
}

TEST_CASE("mainline: no per-use reference, unregister does not wait, and public holders keep the memory for ever") {
    fake_dev d(1);
    module m{"fake"};
    keep_run r = unregister_kept("mainline", d, m);
    CHECK(r.kref_in_use == 2);           // the initial reference and one channel in use
    CHECK(r.kref_after_unregister == 1); // the initial one dropped
    CHECK_FALSE(r.released_at_unregister);
    CHECK(r.tryget_after);               // nothing to take: a raw pointer
    CHECK(d.cap_mask.test(DMA_PRIVATE)); // v5.6 marks it private...
    CHECK_FALSE(r.released_after_put);   // ...so dmaengine_put skips it: the memory is never freed
    CHECK(d.frees == 0);
    CHECK(violations("use_after_unregister") == 0);
}

TEST_CASE("prep_null: unregister does not wait, and the last dmaengine_put frees the memory") {
    fake_dev d(1);
    module m{"fake"};
    keep_run r = unregister_kept("prep_null", d, m);
    CHECK(r.kref_after_unregister == 1);
    CHECK_FALSE(r.released_at_unregister);
    CHECK(r.released_after_put);
    CHECK(d.frees == 1);
    CHECK(m.refcnt == 0);
    CHECK(logged("dma_async_device_unregister called while 1 clients hold a reference"));  // 3.4's core still warns
}

TEST_CASE("client_callbacks: clients hear of channels, keep their own table, and removal waits for uses") {
    fake_dev d(1);
    module m{"fake"};
    hold_run r = unregister_while_held("client_callbacks", d, m);
    CHECK(r.unregister_returned >= r.put_at);
    CHECK(r.late_lookup == nullptr);  // the client dropped it from its table
    CHECK_FALSE(r.late_tryget);
    CHECK(d.terminated == 0);  // no fail-back in 2006 either
    CHECK(d.frees == 1);
    CHECK(d.chans[0]->holders.empty());
    CHECK(m.refcnt == 0);
}

TEST_CASE("client_callbacks: AVAILABLE and REMOVED events reach the client") {
    with_kernel(
        [](kernel& k, dmaengine& dma) {
            fake_dev d(2);
            std::vector<std::string> events;
            dma_client cl;
            cl.name = "test";
            cl.cap_mask.set(DMA_MEMCPY);
            cl.accept = [&](dma_chan* c) { return c == d.chans[0].get(); };  // NAK the second
            cl.notify = [&](dma_chan* c, dma_state s) {
                events.push_back((s == DMA_RESOURCE_AVAILABLE ? "add " : "remove ") + c->name);
            };
            dma.dma_async_client_register(&cl);
            dma.dma_async_device_register(&d);
            CHECK(d.chans[0]->client_count == 1);
            CHECK(d.chans[1]->client_count == 0);
            CHECK(cl.table[0] == d.chans[0].get());
            CHECK(cl.table[1] == d.chans[0].get());
            dma.dma_async_device_unregister(&d);
            CHECK(events == std::vector<std::string>{"add dma0chan0", "remove dma0chan0"});
            CHECK(cl.table[0] == nullptr);
        },
        "client_callbacks");
}

// Two devices, one per node of a two-socket machine: how many CPUs got a channel
// of another node's device.
int remote_slots(bool numa) {
    int remote = -1;
    with_kernel(
        [&](kernel& k, dmaengine& dma) {
            fake_dev d0(2, 0), d1(2, 1);
            dma.dma_async_device_register(&d0);
            dma.dma_async_device_register(&d1);
            dma.dmaengine_get();
            remote = 0;
            for (unsigned cpu = 0; cpu < k.nr_cpus(); ++cpu) {
                dma_chan* c = dma.table(DMA_MEMCPY, cpu);
                REQUIRE(c);
                remote += c->device->node != int(k.cpu_node(cpu));
            }
        },
        "atomic", "westmere-ep-2s", {}, numa);
    return remote;
}

TEST_CASE("numa_affinity: each CPU gets a channel of its own node") { CHECK(remote_slots(true) == 0); }

TEST_CASE("without numa_affinity the table is 3.4's round robin across nodes") { CHECK(remote_slots(false) > 0); }

// CPU 1 goes offline, a device registers (a rebalance while it is away), CPU 1
// comes back: whether it has a channel, and what the checker said.
std::pair<bool, int64_t> cpu_back_with_channel(const char* design) {
    bool has = false;
    with_kernel(
        [&](kernel& k, dmaengine& dma) {
            fake_dev d0(1), d1(1);
            dma.dma_async_device_register(&d0);
            dma.dmaengine_get();
            REQUIRE(k.cpu_down(1) == 0);
            dma.dma_async_device_register(&d1);
            REQUIRE(k.cpu_up(1) == 0);
            has = dma.table(DMA_MEMCPY, 1) != nullptr;
        },
        design);
    return {has, violations("table")};
}

TEST_CASE("CPU hotplug: the designs rebalance the table when a CPU comes back") {
    CHECK(cpu_back_with_channel("percpu") == std::pair<bool, int64_t>{true, 0});
}

TEST_CASE("CPU hotplug under legacy: a CPU offline at the last rebalance comes back to an empty slot") {
    CHECK(cpu_back_with_channel("legacy") == std::pair<bool, int64_t>{false, 1});
}

TEST_CASE("CPU hotplug under mainline: v5.6 has no CPU callback either, so the slot stays empty") {
    CHECK(cpu_back_with_channel("mainline") == std::pair<bool, int64_t>{false, 1});
}

// A grace period begun at 10 us against a task on CPU 1 that runs kernel code
// for 6 ms, with or without cond_resched in its loop.
ktime_t grace_period_end(bool cond_resched) {
    ktime_t gp_done = 0;
    with_kernel(
        [&](kernel& k, dmaengine&) {
            k.schedule_timeout(10 * USEC);
            k.synchronize_rcu();
            gp_done = k.now();
        },
        "legacy", "minimal",
        [&](kernel& k, dmaengine&) {
            for (int i = 0; i < 600; ++i) {
                k.cost(10 * USEC);
                if (cond_resched) k.cond_resched();
            }
        });
    return gp_done;
}

TEST_CASE("a grace period waits for a CPU spinning in the kernel, as 3.4's non-preemptible RCU does") {
    CHECK(grace_period_end(false) >= 6 * MSEC);  // no quiescent state until the loop ends
}

TEST_CASE("a grace period ends soon after its minimum when the busy CPU calls cond_resched") {
    ktime_t yielding = grace_period_end(true);
    CHECK(yielding >= 3 * MSEC + 10 * USEC);  // the normal grace period, no shorter
    CHECK(yielding < 3 * MSEC + 100 * USEC);
}

TEST_CASE("synchronize_rcu waits for read sections begun before it") {
    ktime_t reader_left = 0, gp_done = 0;
    with_kernel(
        [&](kernel& k, dmaengine&) {
            k.schedule_timeout(10 * USEC);  // the reader is inside by now
            k.synchronize_rcu();
            gp_done = k.now();
        },
        "legacy", "minimal",
        [&](kernel& k, dmaengine&) {
            k.rcu_read_lock();
            k.cost(5000 * USEC);  // a long read section, on the CPU
            reader_left = k.now();
            k.rcu_read_unlock();
        });
    CHECK(gp_done >= reader_left);
}

TEST_CASE("percpu_ref: per-CPU while live, folded after a grace period, released at zero") {
    with_kernel([](kernel& k, dmaengine& dma) {
        percpu_ref ref;
        int released = 0;
        ref.init(dma.mem(), [&] { ++released; });
        ref.get();
        ref.get();
        uint64_t rmws = dma.mem().rmw_count();
        ref.put();
        CHECK(dma.mem().rmw_count() == rmws);  // no shared line while live
        CHECK(ref.count() == 2);               // the initial reference and one use
        CHECK_FALSE(ref.atomic_mode());
        ref.kill();
        CHECK(ref.dead());
        CHECK_FALSE(ref.tryget_live());
        k.schedule_timeout(4 * MSEC);  // the fold runs after a grace period
        CHECK(ref.count() == 1);
        CHECK(released == 0);
        ref.put();
        CHECK(released == 1);
        CHECK(ref.count() == 0);
    });
}
