// The DMA-mapping layer wired into the machine (issue 16): software.iommu and
// software.dma_debug, the ioatdma driver's coherent rings and DMA masks, what
// each client maps and the driver unmaps at completion (DMA_COMPL_* flags
// honoured), dma-debug fed by the DMA path and the CPUs' writes, the DMAR units
// at an IOH's removal (3.4 and later), and the cost in summary.json and
// `ioatsim compare`. Facts: shared/reference/dma-mapping-vtd.md.
#include "cli.h"
#include "models/core/report.h"
#include "models/ioat/ioat_function.h"
#include "models/ioat/regs.h"
#include "models/ioh/ioh.h"
#include "models/ioh/vtd.h"
#include "platform/params.h"
#include "platform/platform.h"
#include "platform/scenario.h"
#include "sw/dma-mapping/dma_api.h"
#include "sw/dma-mapping/dma_debug.h"
#include "sw/dma-mapping/intel_iommu.h"
#include "sw/dmaengine/dmaengine.h"
#include "sw/drivers/ioat/ioatdma.h"
#include "sw/kernel/kernel.h"

#include <doctest/doctest.h>
#include <systemc>

#include <functional>

using namespace ioatsim;
using namespace ioatsim::sw;

namespace {

std::string error_of(const std::string& text) {
    try {
        parse_scenario(text, "t.yaml", {});
    } catch (const input_error& e) {
        return e.what();
    }
    return "";
}

struct booted {
    scenario sc;
    params p;
    platform plat;
    explicit booted(const std::string& yaml) : sc(parse_scenario(yaml, "t.yaml", {})), p(params::resolve(sc)), plat(sc, p) {}
    kernel& k() { return *plat.kernel(); }
    // Boots, then runs `fn` in a task on CPU 1 once the boot is over.
    void run(std::function<void()> fn, int ms = 20) {
        plat.boot();
        k().kthread_run("test", 1, [this, fn] {
            k().msleep(3);
            fn();
        });
        sc_core::sc_start(sc_core::sc_time(ms, sc_core::SC_MS));
    }
};

int64_t counter(const std::string& c) { return sim_report().get(c); }
bool logged(const std::string& part) {
    for (auto& l : sim_report().log_lines())
        if (l.find(part) != std::string::npos) return true;
    return false;
}

const std::string x3850 = "name: t\nplatform: {preset: x3850x5}\n";

}  // namespace

TEST_CASE("software.iommu and software.dma_debug: parsed, checked, bad values named by file, line and key") {
    scenario s = parse_scenario(x3850 + "software: {iommu: lazy, dma_debug: true, cmdline: \"iommu=forcesac\"}\n",
                                "t.yaml", {});
    CHECK(s.iommu == "lazy");
    CHECK(s.dma_debug);
    CHECK(s.cmdline.iommu_sac_force);
    scenario d = parse_scenario(x3850, "t.yaml", {});
    CHECK(d.iommu == "off");  // as the 2012 machine ran
    CHECK_FALSE(d.dma_debug);
    CHECK(error_of(x3850 + "software: {iommu: on}\n") ==
          "t.yaml:3:19: software.iommu: expected one of off, strict, lazy, pt, got \"on\"");
    CHECK(error_of(x3850 + "software: {dma_debug: maybe}\n") ==
          "t.yaml:3:23: software.dma_debug: expected true or false, got \"maybe\"");
    CHECK(error_of(x3850 + "software: {cmdline: \"iommu=pt\"}\n").find("iommu=forcesac") != std::string::npos);
    CHECK(error_of(x3850 + "software: {clients: {dmatest: {bug: late}}}\n")
              .find("software.clients.dmatest.bug: expected one of none, unmap_before_complete") != std::string::npos);
    // The program: exit status 2, the message on stderr.
    cli::tmpdir t;
    auto r = cli::ioatsim("run " + cli::scenario("default.yaml") + " --set software.iommu=yes", t);
    CHECK(r.status == 2);
    CHECK(r.err.find("software.iommu: expected one of off, strict, lazy, pt") != std::string::npos);
    auto n = cli::ioatsim("run " + cli::scenario("iommu-swiotlb-32bit.yaml") +
                              " --set software.clients.dmatest.buffer_node=4", t);
    CHECK(n.status == 2);
    CHECK(n.err.find("software.clients.dmatest.buffer_node: 4 is not a node of this platform (0 to 3)") !=
          std::string::npos);
}

TEST_CASE("iommu off and dma_debug off: no layer, physical addresses to the engine, no dma_map counters") {
    booted b(x3850 + "software: {clients: {dmatest: {device: \"0000:80:16.7\", iterations: 5}}}\n");
    CHECK(b.plat.dma_mapping() == nullptr);
    b.run([&] {
        pci_dev* d = b.plat.pci()->find("0000:80:16.7");
        REQUIRE(d);
        CHECK(d->dma_layer == nullptr);
        CHECK(d->dma_mask == DMA_BIT_MASK(64));  // ioat_pci_probe's mask, set all the same
        CHECK(dma_map_single(d, 0x123456, 64, DMA_TO_DEVICE) == 0x123456);
    });
    CHECK(counter("dmatest.tests") == 5);
    for (auto& [k, v] : sim_report().counters()) CHECK(k.rfind("dma_map.", 0) != 0);
}

TEST_CASE("strict: the driver's ring and completion word are coherent allocations, the engine gets IOVAs") {
    booted b(x3850 + "software: {iommu: strict, clients: {dmatest: {device: \"0000:80:16.7\"}}}\n");
    b.run([&] {
        REQUIRE(b.plat.dma_mapping());
        pci_dev* d = b.plat.pci()->find("0000:80:16.7");
        REQUIRE(d);
        CHECK(d->dma_mask == DMA_BIT_MASK(64));
        CHECK(d->coherent_dma_mask == DMA_BIT_MASK(64));
        auto* dev = static_cast<ioatdma_device*>(d->drvdata);
        REQUIRE(dev);
        auto& c = *static_cast<ioat_chan*>(dev->channels.at(0));
        REQUIRE_FALSE(c.ring.empty());
        // The engine holds bus addresses the unit translates (top-down below
        // 4 GiB), never the CPU's physical ones.
        models::ioat_function& f = b.plat.ioat(15);
        const uint64_t chancmp = f.reg(ioat::chan_base(0) + ioat::CHANCMP, 8);
        CHECK(chancmp == c.completion_dma);
        CHECK(c.completion_dma != c.completion);
        CHECK(c.completion_dma >= 0xf0000000ull);
        for (auto& e : c.ring) CHECK(e->phys != e->hw);
        CHECK(b.k().load<uint64_t>(c.ring[0]->hw + 0x18) == c.ring[1]->phys);  // `next` is a bus address
    });
    const int64_t tests = counter("dmatest.tests");
    CHECK(tests > 100);
    CHECK(counter("dmatest.failures") == 0);
    CHECK(counter("vtd.faults_recorded") == 0);
    CHECK(counter("vtd.iotlb_misses") > 0);
    // Every test: the source window mapped and unmapped by the driver, the
    // destination mapped and unmapped by the thread (the last test may be in
    // flight); plus the pools' pages.
    CHECK(counter("dma_map.maps") >= 2 * tests - 2);
    CHECK(counter("dma_map.maps") <= 2 * tests);
    CHECK(counter("dma_map.unmaps") >= counter("dma_map.maps") - 2);
    CHECK(counter("dma_map.allocs") == 5);  // four descriptor pages and the completion page
}

TEST_CASE("the driver unmaps at completion what the DMA_COMPL_* flags leave to it, single or page") {
    booted b(x3850 + "software: {iommu: strict, dma_debug: true}\n");
    b.run([&] {
        dmaengine& dma = *b.plat.dma();
        dma_cap_mask_t m;
        m.set(DMA_MEMCPY);
        dma_chan* c = dma.dma_request_channel(m, [](dma_chan* ch) { return ch->device->dev_name == "0000:00:16.3"; });
        REQUIRE(c);
        pci_dev* d = c->device->dev;
        REQUIRE(d);
        dma_debug& dbg = *b.plat.dma_mapping()->debug();
        const size_t base = dbg.live_entries(*d);  // the ring's coherent pages
        const uint64_t src = b.k().alloc_phys(4096, 4096), dst = b.k().alloc_phys(4096, 4096);
        struct tc { unsigned flags; size_t left; bool single; };
        for (tc t : {tc{0, 0, false}, tc{DMA_COMPL_SRC_UNMAP_SINGLE | DMA_COMPL_DEST_UNMAP_SINGLE, 0, true},
                     tc{DMA_COMPL_SKIP_DEST_UNMAP | DMA_COMPL_SRC_UNMAP_SINGLE, 1, true},
                     tc{DMA_COMPL_SKIP_SRC_UNMAP | DMA_COMPL_SKIP_DEST_UNMAP, 2, false}}) {
            CAPTURE(t.flags);
            const dma_addr_t s = t.single ? dma_map_single(d, src, 512, DMA_TO_DEVICE)
                                          : dma_map_page(d, src, 0, 512, DMA_TO_DEVICE);
            const dma_addr_t ds = t.single ? dma_map_single(d, dst, 512, DMA_FROM_DEVICE)
                                           : dma_map_page(d, dst, 0, 512, DMA_FROM_DEVICE);
            dma_async_tx_descriptor* tx = c->device->prep_dma_memcpy(c, ds, s, 512, t.flags | DMA_CTRL_ACK);
            REQUIRE(tx);
            const dma_cookie_t ck = dmaengine::dmaengine_submit(tx);
            dmaengine::dma_async_issue_pending(c);
            CHECK(dma.dma_sync_wait(c, ck) == DMA_SUCCESS);
            CHECK(dbg.live_entries(*d) == base + t.left);
            // What the flags left to the client, the client unmaps (a page
            // mapping unmapped as a single one is dma-debug's "wrong function").
            if (t.left == 2) dma_unmap_page(d, s, 512, DMA_TO_DEVICE);
            if (t.left >= 1) (t.single ? dma_unmap_single : dma_unmap_page)(d, ds, 512, DMA_FROM_DEVICE);
            CHECK(dbg.live_entries(*d) == base);
        }
        CHECK(dbg.error_count() == 0);
        dma.dma_release_channel(c);
    });
    CHECK(counter("violations.dma_debug") == 0);
    CHECK(counter("violations.dma_debug_device") == 0);
}

TEST_CASE("dmatest under strict and dma-debug: every mapping undone as 3.4 does it, nothing left at unbind") {
    // westmere-ep-2s: one IOH, so DCA works and 3.4's unbind does not oops in
    // unregister_dca_provider as it does on the two-IOH x3850 X5.
    booted b("name: t\nplatform: {preset: westmere-ep-2s}\nsoftware: {iommu: strict, dma_debug: true, clients: "
             "{dmatest: {device: \"0000:00:16.2\", iterations: 30}}}\n");
    b.run([&] {
        b.k().msleep(10);
        CHECK(b.plat.pci()->unbind("0000:00:16.2") == 0);
    }, 20);
    CHECK(counter("dmatest.tests") == 30);
    CHECK(counter("dmatest.failures") == 0);
    CHECK(counter("violations.dma_debug") == 0);  // no leak when the driver let go, no wrong size or direction
    CHECK(counter("violations.dma_debug_device") == 0);
    CHECK(counter("vtd.faults_recorded") == 0);
    CHECK(counter("dma_map.frees") == 5);  // the pools' pages went back with dma_free_coherent
    CHECK(counter("dma_map.context_flushes") == 2);  // at boot, and the device detached at UNBOUND_DRIVER
}

TEST_CASE("net_dma under lazy: the skb mapped single, the user page as a page, both unmapped by the driver") {
    booted b(x3850 + "software: {iommu: lazy, dma_debug: true, clients: {net_dma: {interfaces: 2, readers: 4, "
                     "read_size: 131072, copybreak: 65536, reads: 3}}}\n");
    b.run([] {}, 30);
    CHECK(counter("net_dma.reads") == 12);
    CHECK(counter("net_dma.bytes_offloaded") == 12 * 131072);
    CHECK(counter("violations.copy_corrupt") == 0);
    CHECK(counter("violations.dma_debug") == 0);
    CHECK(counter("violations.dma_debug_device") == 0);
    CHECK(counter("dma_map.maps") == counter("dma_map.unmaps"));
    CHECK(counter("dma_map.deferred_flushes") > 0);
    CHECK(counter("vtd.faults_recorded") == 0);
}

TEST_CASE("async_tx under strict on Jasper Forest: raid6 pages mapped, XOR and PQ mappings stay, as 3.4's driver leaves them") {
    booted b("name: t\nplatform: {preset: jasper-forest}\nsoftware: {iommu: strict, dma_debug: true, cmdline: "
             "\"clearcpuid=146\", clients: {async_tx: {threads: 1, iterations: 2}}}\n");
    b.run([] {}, 20);
    CHECK(counter("raid6.recoveries") == 2);
    CHECK(counter("raid6.failures") == 0);
    CHECK(counter("async_tx.ops_dma") > 0);
    CHECK(counter("vtd.faults_recorded") == 0);
    CHECK(counter("violations.dma_debug_device") == 0);
    // [inference from 3.4 dma_v3.c] the cookie sits on the trailing null
    // descriptor, so ioat3_dma_unmap never sees an XOR or PQ: nothing unmapped.
    CHECK(counter("dma_map.maps") > 0);
    CHECK(counter("dma_map.unmaps") == 0);
}

TEST_CASE("dma-debug wired: device DMA outside live mappings and CPU writes to a device-writable page are reported") {
    booted b(x3850 + "software: {dma_debug: true}\n");
    b.run([&] {
        pci_dev* d = b.plat.pci()->find("0000:00:16.0");
        REQUIRE(d);
        REQUIRE(d->dma_layer);
        const uint64_t pa = b.k().alloc_phys(4096, 4096);
        const dma_addr_t a = dma_map_single(d, pa, 4096, DMA_FROM_DEVICE);
        b.k().store<uint32_t>(pa + 8, 1);  // the net_dma class of bug
        dma_unmap_single(d, a, 4096, DMA_FROM_DEVICE);
        b.k().store<uint32_t>(pa + 8, 2);  // fine once unmapped
    });
    CHECK(counter("violations.dma_debug") == 1);
    CHECK(logged("ioatdma 0000:00:16.0: DMA-API: cpu touching an active dma mapped page [pfn=0x"));
    // Device side: the iommu-off-errant-dma scenario's copy lands outside its mapping.
    cli::tmpdir t;
    auto r = cli::ioatsim("run " + cli::scenario("iommu-off-errant-dma.yaml") + " --quiet --out " + t.path.string(), t);
    CHECK(r.status == 0);
    auto s = cli::summary(t.path);
    CHECK(s["counters"]["violations.dma_debug_device"].get<int>() >= 1);
    CHECK(s["counters"]["dmatest.data_mismatch"].get<int>() == 0);
}

TEST_CASE("a 32-bit device above 4 GiB under the same engine: dma-debug over swiotlb, every copy bounced and verified") {
    cli::tmpdir t;
    auto r = cli::ioatsim("run " + cli::scenario("iommu-swiotlb-32bit.yaml") + " --quiet --out " + t.path.string(), t);
    CHECK(r.status == 0);
    auto s = cli::summary(t.path);
    CHECK(s["dma_mapping"]["global_ops"] == "swiotlb");
    CHECK(s["counters"]["dma_map.swiotlb_bounce_bytes"].get<int64_t>() > 0);
    CHECK(s["counters"]["dmatest.failures"].get<int>() == 0);
    CHECK(s["counters"]["violations.dma_debug"].get<int>() == 0);
    CHECK(cli::slurp(t.path / "log.txt").find("ioatdma 0000:80:16.7: Force SAC with mask ffffffffffffffff") !=
          std::string::npos);
}

TEST_CASE("an IOH's DMAR unit: 3.4 keeps it and finds it reset on return, iommu.dmar_hotplug=1 removes and re-adds it") {
    const std::string sc = cli::scenario("iommu-dmar-hotplug.yaml");
    cli::tmpdir t34, t4x;
    auto r = cli::ioatsim("run " + sc + " --quiet --out " + t34.path.string(), t34);
    CHECK(r.status == 0);
    const std::string log = cli::slurp(t34.path / "log.txt");
    CHECK(log.find("ioatsim: IOH 1's DMAR unit dmar0 (reg_base fbffc000) stays in intel-iommu's lists") !=
          std::string::npos);
    CHECK(log.find("ioatdma 0000:80:16.3: failed to start channel") != std::string::npos);
    CHECK(log.find("dmar_device_") == std::string::npos);
    // The later behaviour: no stale unit, the channels of the returning IOH start.
    auto q = cli::ioatsim("run " + sc + " --quiet --set platform.set.iommu.dmar_hotplug=1 --set 'expect={}' --out " +
                              t4x.path.string(), t4x);
    const std::string log4 = cli::slurp(t4x.path / "log.txt");
    CHECK(log4.find("ioatsim: IOH 1: dmar_device_remove(fbffc000) = 0") != std::string::npos);
    CHECK(log4.find("ioatsim: IOH 1: dmar_device_add(fbffc000) = 0") != std::string::npos);
    CHECK(log4.find("failed to start channel") == std::string::npos);
    CHECK(log4.find("stays in intel-iommu's lists") == std::string::npos);
    auto s = cli::summary(t4x.path);
    CHECK(s["dma_mapping"]["dmar_hotplug"] == true);
    CHECK(s["counters"]["vtd.faults_recorded"].get<int>() == 0);
}

TEST_CASE("summary.json and compare show what mapping cost per DMA operation when the IOMMU is on") {
    cli::tmpdir t;
    auto r = cli::ioatsim("compare " + cli::scenario("iommu-swiotlb-32bit.yaml") +
                              " --designs legacy,atomic --set software.iommu=strict --set 'expect={}' --out " +
                              (t.path / "on").string(),
                          t);
    CHECK(r.out.find("| mapping ns per DMA op | page walks per DMA op |") != std::string::npos);
    auto s = cli::summary(t.path / "on" / "atomic");
    const auto& m = s["dma_mapping"];
    CHECK(m["iommu"] == "strict");
    CHECK(m["maps"].get<int64_t>() > 0);
    CHECK(m["cpu_ns_per_dma_op"].get<double>() > 0);
    CHECK(m["map_ns_per_map"].get<double>() > 0);
    CHECK(m["iotlb_flushes_per_unmap"].get<double>() >= 1.0);  // strict: every unmap flushes
    CHECK(m["page_walks"].get<int64_t>() > 0);
    // IOMMU off: no column (and, without dma-debug, no section at all).
    auto off = cli::ioatsim("compare " + cli::scenario("default.yaml") + " --designs legacy --out " +
                                (t.path / "off").string(),
                            t);
    CHECK(off.out.find("mapping ns per DMA op") == std::string::npos);
    CHECK_FALSE(cli::summary(t.path / "off" / "legacy").contains("dma_mapping"));
}
