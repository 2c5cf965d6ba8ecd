// The 3.4 ioatdma details ioatsim follows (ioat-hardware.md §5-10, dma_v2.c,
// dma_v3.c, pci.c), each checked on the booted minimal platform: when the
// doorbell rings, the null descriptor that ends XOR and PQ, cookies that live
// from probe to remove, what free_chan_resources stops, the watchdog's BUG
// condition, and the managed teardown after remove().
#include "cli.h"
#include "models/ioat/descriptor.h"
#include "models/ioat/ioat_function.h"
#include "models/ioat/regs.h"
#include "models/pcie/config_space.h"
#include "platform/params.h"
#include "platform/platform.h"
#include "platform/scenario.h"
#include "sw/drivers/ioat/ioatdma.h"
#include "sw/kernel/kernel.h"
#include "sw/pci/pci.h"

#include <doctest/doctest.h>
#include <systemc>

using namespace ioatsim;
using namespace ioatsim::sw;

namespace {

struct booted {
    scenario sc;
    params p;
    platform plat;
    explicit booted(const std::string& yaml = "name: t\nplatform: {preset: minimal}\n")
        : sc(parse_scenario(yaml, "t.yaml", {})), p(params::resolve(sc)), plat(sc, p) {}
    kernel& k() { return *plat.kernel(); }
    dmaengine& dma() { return *plat.dma(); }
    // Runs `fn` in a task once the boot is over, for `ms` of simulated time.
    void run(std::function<void()> fn, int ms = 50) {
        plat.boot();
        k().kthread_run("test", 0, [this, fn] {
            k().msleep(2);
            fn();
        });
        sc_core::sc_start(sc_core::sc_time(ms, sc_core::SC_MS));
    }
    // A public memcpy channel, as net_dma takes it.
    ioat_chan& channel() {
        dma().dmaengine_get();
        dma_chan* c = dma().dma_find_channel(DMA_MEMCPY);
        REQUIRE(c != nullptr);
        return *static_cast<ioat_chan*>(c);
    }
    ioat::descriptor desc(uint64_t hw) {
        uint8_t raw[64];
        k().mem_read(hw, raw, sizeof raw);
        return ioat::decode_descriptor(raw);
    }
    dma_cookie_t copy(ioat_chan& c, uint64_t len = 256) {
        uint64_t src = k().alloc_phys(len, 64), dst = k().alloc_phys(len, 64);
        dma_async_tx_descriptor* tx = c.device->prep_dma_memcpy(&c, dst, src, len, 0);
        REQUIRE(tx != nullptr);
        return tx->tx_submit(tx);
    }
    void wait(ioat_chan& c, dma_cookie_t cookie) {
        dmaengine::dma_async_issue_pending(&c);
        while (dmaengine::dma_async_is_tx_complete(&c, cookie) == DMA_IN_PROGRESS) k().udelay(1);
    }
};

int64_t violations(const char* kind) { return sim_report().get(std::string("violations.") + kind); }

}  // namespace

TEST_CASE("tx_submit rings the doorbell once more than ioat_pending_level descriptors wait") {
    booted b;
    bool ran = false;
    b.run([&] {
        ioat_chan& c = b.channel();
        const uint16_t count0 = c.dmacount;
        for (int i = 0; i < 4; ++i) b.copy(c);
        CHECK(c.dmacount == count0);  // four pending: not yet
        CHECK(c.pending() == 4);
        b.copy(c);                    // the fifth submit rings it, no prep or issue_pending needed
        CHECK(c.dmacount == uint16_t(count0 + 5));
        CHECK(c.pending() == 0);
        ran = true;
    });
    CHECK(ran);
}

TEST_CASE("XOR ends with a null descriptor that writes the completion, the operation itself does not") {
    // A RAID engine, which 3.4 offers XOR only without DCA.
    booted b("name: t\nplatform: {preset: jasper-forest}\nsoftware: {cmdline: \"clearcpuid=146\"}\n");
    bool ran = false;
    b.run([&] {
        ioat_chan& c = b.channel();
        REQUIRE(c.device->cap_mask.test(DMA_XOR));
        uint64_t s0 = b.k().alloc_phys(4096, 64), s1 = b.k().alloc_phys(4096, 64), d = b.k().alloc_phys(4096, 64);
        const uint16_t head = c.head;
        dma_async_tx_descriptor* tx = c.device->prep_dma_xor(&c, d, {s0, s1}, 4096, DMA_PREP_INTERRUPT);
        REQUIRE(tx != nullptr);
        dma_cookie_t cookie = tx->tx_submit(tx);
        CHECK(uint16_t(c.head - head) == 2);
        ioat::descriptor op = b.desc(c.ent(head).hw), null = b.desc(c.ent(uint16_t(head + 1)).hw);
        CHECK(op.op() == ioat::OP_XOR);
        CHECK_FALSE(op.has(ioat::DESC_COMPL_WRITE));
        CHECK_FALSE(op.has(ioat::DESC_INT_EN));
        CHECK(null.has(ioat::DESC_NULL));
        CHECK(null.has(ioat::DESC_COMPL_WRITE));
        CHECK(null.has(ioat::DESC_INT_EN));
        CHECK(null.size == NULL_DESC_BUFFER_SIZE);
        b.wait(c, cookie);
        ran = true;
    });
    CHECK(ran);
}

TEST_CASE("cookies are set once at probe: a channel freed and allocated again keeps counting") {
    booted b;
    dma_cookie_t first = 0, second = 0;
    b.run([&] {
        ioat_chan& c = b.channel();
        first = b.copy(c);
        b.wait(c, first);
        b.dma().dmaengine_put();  // the last reference: free_chan_resources
        REQUIRE(c.ring.empty());
        ioat_chan& again = b.channel();
        REQUIRE(&again == &c);
        second = b.copy(c);
        b.wait(c, second);
    });
    CHECK(first > DMA_MIN_COOKIE);
    CHECK(second > first);
}

TEST_CASE("free_chan_resources disables the cleanup tasklet and deletes the watchdog timer") {
    booted b;
    bool ran = false;
    b.run([&] {
        ioat_chan& c = b.channel();
        CHECK(c.cleanup_task.disabled == 0);
        dma_cookie_t cookie = b.copy(c);
        CHECK(b.k().timer_pending(c.timer));  // armed by the submit
        b.wait(c, cookie);
        b.dma().dmaengine_put();
        CHECK(c.cleanup_task.disabled > 0);
        CHECK_FALSE(b.k().timer_pending(c.timer));
        ran = true;
    });
    CHECK(ran);
}

TEST_CASE("after unbind, devres has cleared Bus Master and unmapped the BAR: a late register read oopses") {
    booted b;
    bool before = false, after_read = false;
    uint64_t bar = 0;
    b.run([&] {
        sw::pci_dev* d = b.plat.pci()->find("0000:00:16.0");
        REQUIRE(d != nullptr);
        bar = d->resource_start[0];
        before = b.plat.find_function("0000:00:16.0")->config().bus_master();
        REQUIRE(b.plat.pci()->unbind("0000:00:16.0") == 0);
        b.k().kthread_run("late", 1, [&] {
            b.k().readl(bar + ioat::CHANSTS);  // through the stale mapping
            after_read = true;                 // never: the task died in the oops
        });
    });
    CHECK(before);
    CHECK_FALSE(b.plat.find_function("0000:00:16.0")->config().bus_master());
    CHECK(violations("oops") == 1);
    CHECK_FALSE(after_read);
}

TEST_CASE("an engine whose Bus Master is off cannot reach memory: the copy fails with a read error") {
    // legacy: 3.4's remove neither stops nor resets the channel, so a copy
    // submitted just before the unbind meets the disabled function.
    booted b("name: t\nplatform: {preset: minimal}\nsoftware: {dmaengine: {design: legacy}}\n");
    b.run([&] {
        ioat_chan& c = b.channel();
        b.copy(c, 8 << 20);  // eight 1 MiB descriptors (XFERCAP), about 2 ms of streaming
        dmaengine::dma_async_issue_pending(&c);
        b.k().udelay(5);
        REQUIRE(b.plat.pci()->unbind("0000:00:16.0") == 0);
        b.k().msleep(2);
    });
    auto& fn = b.plat.ioat(0);
    CHECK(fn.chan(0).state() == ioat::HALTED);
    CHECK((fn.reg(0x80 + ioat::CHANERR, 4) & (ioat::CHANERR_READ_DATA | ioat::CHANERR_WRITE_DATA)) != 0);
}

TEST_CASE("the watchdog BUGs on a running channel halted with a CHANERR bit, not on a halt without one") {
    auto run = [](bool clear) {
        cli::tmpdir t;
        cli::fs::path sc = t.path / "wd.yaml";
        // At 10 ms an APPEND (a CB1 command) halts the channel with CHANERR 0x20.
        std::ofstream(sc) << "name: wd\nplatform: {preset: minimal}\nsoftware:\n  clients:\n"
                             "    dmatest: {iterations: 400}\nrun: {until: 150 ms}\ntimeline:\n"
                             "  - {at: 10 ms, do: mmio.write, device: \"0000:00:16.0\", offset: 0x84, width: 1, "
                             "value: 0x02}\n"
                          << (clear ? "  - {at: 50 ms, do: mmio.write, device: \"0000:00:16.0\", offset: 0xa8, "
                                      "width: 4, value: 0xffffffff}\n"
                                    : "");
        cli::result r = cli::ioatsim("run " + sc.string() + " --quiet --out " + (t.path / "o").string(), t);
        return std::make_pair(r.status, cli::slurp(t.path / "o" / "log.txt"));
    };
    auto [status, log] = run(false);
    CHECK(status == 1);
    CHECK(log.find("ioat2_timer_event: Channel halted (20)") != std::string::npos);
    CHECK(log.find("checker: bug: ioatdma 0000:00:16.0: BUG_ON(is_ioat_bug(0x20)) in the watchdog") !=
          std::string::npos);
    auto [status2, log2] = run(true);
    CHECK(log2.find("ioat2_timer_event: Channel halted (0)") != std::string::npos);
    CHECK(log2.find("checker: bug:") == std::string::npos);
    CHECK(status2 == 0);
}
