// The DMA-mapping layer (sw/dma-mapping): per-device ops and their fallback,
// nommu, swiotlb, intel-iommu over a register-level stand-in of a VT-d unit
// and over the IOH's own unit, dma-debug and stacked ops. Facts:
// shared/reference/dma-mapping-vtd.md §1-6.
#include "platform/params.h"
#include "platform/platform.h"
#include "platform/scenario.h"
#include "sw/dma-mapping/dma_debug.h"
#include "sw/dma-mapping/intel_iommu.h"
#include "sw/dma-mapping/swiotlb.h"
#include "sw/kernel/kernel.h"
#include "models/ioh/ioh.h"
#include "models/ioh/vtd.h"

#include <doctest/doctest.h>
#include <systemc>

#include <functional>
#include <map>
#include <vector>

using namespace ioatsim;
using namespace ioatsim::sw;

namespace {

// A machine of `preset` without drivers; `body` runs as a kernel task on CPU 0.
void with_machine(const std::function<void(platform&, kernel&)>& body, const std::string& preset = "minimal") {
    scenario sc = parse_scenario("name: t\nplatform: {preset: " + preset + "}\n", "t.yaml", {});
    params p = params::resolve(sc);
    platform plat(sc, p);
    plat.kernel()->kthread_run("test", 0, [&] { body(plat, *plat.kernel()); });
    sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_SEC));
}

int64_t counter(const std::string& c) { return sim_report().get(c); }
int64_t violations(const char* kind) { return sim_report().get(std::string("violations.") + kind); }
// A log line's text after its dmesg stamp, exactly.
bool logged(const std::string& text) {
    for (auto& l : sim_report().log_lines())
        if (l.size() > 15 && l.substr(15) == text) return true;
    return false;
}
bool logged_part(const std::string& part) {
    for (auto& l : sim_report().log_lines())
        if (l.find(part) != std::string::npos) return true;
    return false;
}

void make_dev(pci_dev& d, uint8_t bus, uint8_t dev, uint8_t fn) {
    d.bus = bus;
    d.devfn = uint8_t(dev << 3 | fn);
    d.name = strfmt("0000:%02x:%02x.%u", bus, dev, fn);
}

// A register-level stand-in for a VT-d unit (Tylersburg CAP/ECAP): GSTS
// follows GCMD, CCMD.ICC and IOTLB.IVT clear at once, queued descriptors run
// when IQT moves (wait descriptors write their status), fault records are
// injected. Every invalidation it sees is kept.
constexpr uint64_t FAKE_BASE = 0xFED90000;
struct fake_unit {
    struct inv { char via; unsigned type, gran; uint16_t did; uint64_t addr; unsigned am; };
    kernel& k;
    std::map<uint32_t, uint32_t> r;
    std::vector<inv> seen;
    fake_unit(kernel& kk, uint64_t ecap = 0xf020fe) : k(kk) {
        r[0x00] = 0x10;
        set64(0x08, 0x00c90780106f0462ull);
        set64(0x10, ecap);
        r[0x38] = 1u << 31;
    }
    uint64_t get64(uint32_t o) { return uint64_t(r[o + 4]) << 32 | r[o]; }
    void set64(uint32_t o, uint64_t v) { r[o] = uint32_t(v), r[o + 4] = uint32_t(v >> 32); }
    void ppf() {
        bool any = false;
        for (unsigned i = 0; i < 8; ++i) any = any || (r[0x10c + 16 * i] >> 31);
        r[0x34] = any ? r[0x34] | 2 : r[0x34] & ~0xff02u;
    }
    void write(uint32_t o, uint32_t v) {
        if (o == 0x18) {
            r[0x1c] = (v & (1u << 31 | 1u << 26)) | (r[0x1c] & 1u << 30) | (v & 1u << 30);
        } else if (o == 0x2c && v >> 31) {  // CCMD high half with ICC
            seen.push_back({'r', 1, (v >> 29) & 3, uint16_t(r[0x28]), 0, 0});
            r[o] = (v & ~(1u << 31)) | ((v >> 29) & 3) << 27;
        } else if (o == 0x20c && v >> 31) {  // IOTLB_REG high half with IVT
            seen.push_back({'r', 2, (v >> 28) & 3, uint16_t(v), get64(0x200) & ~0xfffull, r[0x200] & 0x3f});
            r[o] = (v & ~(1u << 31)) | ((v >> 28) & 3) << 25;
        } else if (o == 0x88) {
            const uint64_t base = get64(0x90) & ~0xfffull;
            unsigned i = r[0x80] >> 4;
            for (; i != v >> 4; i = (i + 1) % 256) {
                const uint64_t lo = k.load<uint64_t>(base + 16 * i), hi = k.load<uint64_t>(base + 16 * i + 8);
                if ((lo & 0xf) == 5 && (lo >> 5 & 1)) k.store<uint32_t>(hi, uint32_t(lo >> 32));
                else seen.push_back({'q', unsigned(lo & 0xf), unsigned(lo >> 4 & 3), uint16_t(lo >> 16), hi & ~0xfffull,
                                     unsigned(hi & 0x3f)});
            }
            r[0x80] = i << 4;
            r[o] = v;
        } else if (o == 0x34) {
            r[o] &= ~(v & 0x7d);
            ppf();
        } else if (o >= 0x100 && o < 0x180 && (o & 15) == 12) {
            if (v >> 31) r[o] &= ~(1u << 31);
            ppf();
        } else {
            r[o] = v;
        }
    }
    dmar_reg_access access() {
        return {[this](uint64_t a) { return r[uint32_t(a - FAKE_BASE)]; },
                [this](uint64_t a, uint32_t v) { write(uint32_t(a - FAKE_BASE), v); }};
    }
    void inject(unsigned i, uint64_t addr, uint16_t sid, uint8_t reason, bool read) {
        set64(0x100 + 16 * i, addr);
        r[0x108 + 16 * i] = sid;
        r[0x10c + 16 * i] = 1u << 31 | uint32_t(read) << 30 | reason;
        if (!(r[0x34] & 2)) r[0x34] = (r[0x34] & ~0xff00u) | i << 8;
        ppf();
    }
    size_t iotlb(unsigned gran) const {
        size_t n = 0;
        for (auto& x : seen) n += x.type == 2 && x.gran == gran;
        return n;
    }
};

dma_mapping_config with_unit(iommu_mode m, fake_unit& f) {
    dma_mapping_config c;
    c.iommu = m;
    c.drhd = {{FAKE_BASE, true, {}, {}}};
    c.reg_access = [&f](uint64_t) { return f.access(); };
    return c;
}

// The entries a walk meets for `iova` of a device (root, context, 4 levels).
struct walk_result { uint64_t root, ctx_lo, ctx_hi; std::vector<uint64_t> ptes; };
walk_result walk(kernel& k, intel_iommu& u, uint8_t bus, uint8_t devfn, uint64_t iova) {
    walk_result w{};
    w.root = k.load<uint64_t>(u.root_entry + 16 * bus);
    const uint64_t ce = (w.root & ~0xfffull) + 16 * devfn;
    w.ctx_lo = k.load<uint64_t>(ce);
    w.ctx_hi = k.load<uint64_t>(ce + 8);
    uint64_t table = w.ctx_lo & ~0xfffull;
    for (int level = 4; level >= 1 && table; --level) {
        const uint64_t v = k.load<uint64_t>(table + 8 * (iova >> (12 + 9 * (level - 1)) & 0x1ff));
        w.ptes.push_back(v);
        table = v & 3 ? v & ~0xfffull : 0;
    }
    return w;
}

}  // namespace

TEST_CASE("dma_mapping: get_dma_ops falls back to the global nommu ops, a device's own ops win, DMA_BIT_MASK and masks") {
    with_machine([](platform&, kernel& k) {
        dma_mapping dm(k, {});
        dm.pci_iommu_init(nullptr);
        pci_dev a, b;
        make_dev(a, 0, 4, 0);
        make_dev(b, 0, 5, 0);
        CHECK(dm.get_dma_ops(&a) == &dm.nommu_ops());
        CHECK(dm.get_dma_ops(nullptr) == &dm.nommu_ops());
        dma_map_ops mine = stack_dma_ops(&dm.nommu_ops(), "mine");
        b.archdata.dma_ops = &mine;
        CHECK(dm.get_dma_ops(&b) == &mine);
        CHECK(dm.get_dma_ops(&a) == &dm.nommu_ops());
        CHECK(DMA_BIT_MASK(64) == ~0ull);
        CHECK(DMA_BIT_MASK(32) == 0xffffffffull);
        CHECK(DMA_BIT_MASK(24) == 0xffffffull);
        CHECK(dm.dma_set_mask(&a, DMA_BIT_MASK(64)) == 0);
        CHECK(a.dma_mask == ~0ull);
        CHECK(dm.dma_set_mask(&a, DMA_BIT_MASK(16)) == -5);  // below 24 bits: -EIO, mask kept
        CHECK(a.dma_mask == ~0ull);
        CHECK(dm.dma_set_coherent_mask(&a, DMA_BIT_MASK(40)) == 0);
        CHECK(a.coherent_dma_mask == DMA_BIT_MASK(40));
    });
}

TEST_CASE("dma_mapping: dma_mapping_error is each device's ops' answer, nommu's DMA_ERROR_CODE 0 or swiotlb's overflow buffer") {
    with_machine([](platform&, kernel& k) {
        dma_mapping_config c;
        c.swiotlb_force = true;
        c.swiotlb_bytes = 1 << 20;
        dma_mapping dm(k, c);
        dm.pci_iommu_init(nullptr);
        REQUIRE(dm.swiotlb_pool());
        pci_dev direct, bounced;
        make_dev(direct, 0, 4, 0);
        make_dev(bounced, 0, 5, 0);
        direct.archdata.dma_ops = &dm.nommu_ops();
        const uint64_t overflow = dm.swiotlb_pool()->overflow_buffer();
        CHECK(dm.dma_mapping_error(&direct, 0) == 1);
        CHECK(dm.dma_mapping_error(&direct, overflow) == 0);
        CHECK(dm.dma_mapping_error(&bounced, 0) == 0);
        CHECK(dm.dma_mapping_error(&bounced, overflow) == 1);
    });
}

TEST_CASE("dma_mapping: nommu: a buffer beyond the device's mask is DMA_ERROR_CODE, with the overflow message for masks of 32 bits") {
    with_machine([](platform&, kernel& k) {
        dma_mapping dm(k, {});
        dm.pci_iommu_init(nullptr);
        pci_dev d;
        make_dev(d, 0, 4, 0);
        CHECK(dm.dma_map_single(&d, 0x20001234, 4096, DMA_TO_DEVICE) == 0x20001234);
        CHECK(dm.dma_map_single(&d, 0x140000000ull, 4096, DMA_TO_DEVICE) == DMA_ERROR_CODE);
        CHECK(logged("nommu_map_single: overflow 140000000+4096 of device mask ffffffff"));
        CHECK(counter("dma_map.map_errors") == 1);
        d.dma_mask = DMA_BIT_MASK(28);  // below 32 bits: refused silently
        CHECK(dm.dma_map_single(&d, 0x20000000, 64, DMA_FROM_DEVICE) == DMA_ERROR_CODE);
        CHECK_FALSE(logged_part("overflow 20000000"));
        CHECK(counter("dma_map.maps") == 3);
        CHECK(counter("dma_map.map_ns") > 0);
    });
}

TEST_CASE("dma_mapping: swiotlb bounces what the mask cannot reach: copied in at map for TO_DEVICE, back at sync and unmap for FROM_DEVICE") {
    with_machine([](platform&, kernel& k) {
        dma_mapping_config c;
        c.ram_top = 8ull << 30;  // RAM above 4 GiB: pci_swiotlb_detect_4gb
        c.swiotlb_bytes = 1 << 20;
        dma_mapping dm(k, c);
        dm.pci_iommu_init(nullptr);
        swiotlb* s = dm.swiotlb_pool();
        REQUIRE(s);
        CHECK(dm.get_dma_ops(nullptr) == &s->ops());
        CHECK(s->nslabs() == 512);
        pci_dev d;
        make_dev(d, 0, 4, 0);
        d.dma_mask = DMA_BIT_MASK(30);
        const uint64_t high = 0x60000000, low = 0x20000000;
        std::vector<uint8_t> pat(3000), got(3000), dev_data(3000, 0xd5);
        for (size_t i = 0; i < pat.size(); ++i) pat[i] = uint8_t(i * 7 + 1);
        k.mem_write(high, pat.data(), pat.size());
        const dma_addr_t to = dm.dma_map_single(&d, high, pat.size(), DMA_TO_DEVICE);
        CHECK(s->is_swiotlb_buffer(to));
        CHECK(to + pat.size() - 1 <= d.dma_mask);
        k.mem_read(to, got.data(), got.size());
        CHECK(got == pat);
        CHECK(s->free_slabs() == 512 - 2);
        dm.dma_unmap_single(&d, to, pat.size(), DMA_TO_DEVICE);
        CHECK(s->free_slabs() == 512);

        const dma_addr_t from = dm.dma_map_single(&d, high, dev_data.size(), DMA_FROM_DEVICE);
        CHECK(s->is_swiotlb_buffer(from));
        k.mem_write(from, dev_data.data(), dev_data.size());  // the device writes the bounce buffer
        k.mem_read(high, got.data(), got.size());
        CHECK(got == pat);  // not yet
        dm.dma_sync_single_for_cpu(&d, from, dev_data.size(), DMA_FROM_DEVICE);
        k.mem_read(high, got.data(), got.size());
        CHECK(got == dev_data);
        k.mem_write(high, pat.data(), pat.size());
        dm.dma_unmap_single(&d, from, dev_data.size(), DMA_FROM_DEVICE);
        k.mem_read(high, got.data(), got.size());
        CHECK(got == dev_data);  // copied back at unmap
        const int64_t bounced = counter("dma_map.swiotlb_bounce_bytes");
        CHECK(bounced == 3 * 3000);
        CHECK(dm.dma_map_single(&d, low, 64, DMA_TO_DEVICE) == low);  // within reach: not bounced
        CHECK(counter("dma_map.swiotlb_bounce_bytes") == bounced);
    });
}

TEST_CASE("dma_mapping: swiotlb: a full pool logs 3.4's messages and hands out the overflow buffer, freed slots serve again") {
    with_machine([](platform&, kernel& k) {
        dma_mapping_config c;
        c.swiotlb_force = true;
        c.swiotlb_bytes = 256 << 10;  // one segment of 128 slabs
        dma_mapping dm(k, c);
        dm.pci_iommu_init(nullptr);
        swiotlb* s = dm.swiotlb_pool();
        pci_dev d;
        make_dev(d, 0, 4, 0);
        std::vector<dma_addr_t> m;
        for (int i = 0; i < 8; ++i) m.push_back(dm.dma_map_single(&d, 0x20000000 + i * 0x8000, 0x8000, DMA_TO_DEVICE));
        for (dma_addr_t a : m) CHECK_FALSE(dm.dma_mapping_error(&d, a));
        CHECK(s->free_slabs() == 0);
        const dma_addr_t full = dm.dma_map_single(&d, 0x20100000, 4096, DMA_TO_DEVICE);
        CHECK(full == s->overflow_buffer());
        CHECK(dm.dma_mapping_error(&d, full));
        CHECK(logged("DMA: Out of SW-IOMMU space for 4096 bytes at device 0000:00:04.0"));
        CHECK(violations("bug") == 0);
        dm.dma_map_single(&d, 0x20200000, 0x10000, DMA_FROM_DEVICE);  // above 32 KiB: 3.4 panics
        CHECK(logged("Kernel panic - not syncing: DMA: Random memory could be DMA written"));
        CHECK(violations("bug") == 1);
        CHECK(counter("dma_map.swiotlb_full") == 2);
        dm.dma_unmap_single(&d, m[3], 0x8000, DMA_TO_DEVICE);
        CHECK(s->free_slabs() == 16);
        CHECK(dm.dma_map_single(&d, 0x20300000, 4096, DMA_TO_DEVICE) == m[3]);
    });
}

TEST_CASE("dma_mapping: the IOVA allocator: top-down below the limit, size-aligned, reserved ranges kept, freed ranges reused") {
    iova_domain dom;
    dom.reserve_iova(0xfee00, 0xfeeff);
    iova a, b, c, e;
    REQUIRE(dom.alloc_iova(1, iova_domain::DMA_32BIT_PFN, true, a));
    CHECK(a.pfn_lo == 0xfffff);
    REQUIRE(dom.alloc_iova(3, iova_domain::DMA_32BIT_PFN, true, b));  // 4 pages, 4-aligned
    CHECK(b.pfn_lo == 0xffff8);
    CHECK(b.pfn_hi == 0xffffb);
    REQUIRE(dom.alloc_iova(1, 0x7ffff, true, c));  // a 31-bit limit
    CHECK(c.pfn_lo == 0x7ffff);
    iova found;
    CHECK(dom.find_iova(0xffff9, found));
    CHECK(found.pfn_lo == 0xffff8);
    CHECK_FALSE(dom.find_iova(0xffffc, found));
    dom.free_iova(a.pfn_lo);
    REQUIRE(dom.alloc_iova(1, iova_domain::DMA_32BIT_PFN, true, e));
    CHECK(e.pfn_lo == 0xfffff);  // reused
    iova big;
    REQUIRE(dom.alloc_iova(0x200, 0xfffff, true, big));  // 2 MiB, aligned, below the IOAPIC window
    CHECK(big.pfn_lo == 0xffc00);
    CHECK((big.pfn_lo & 0x1ff) == 0);
    iova none;
    CHECK_FALSE(dom.alloc_iova(4, 2, true, none));  // pfn 0 is never handed out
}

TEST_CASE("dma_mapping: DMAR init programs the unit: root table, queued invalidation, SRTP, global invalidations, TE") {
    with_machine([](platform&, kernel& k) {
        fake_unit f(k);
        dma_mapping dm(k, with_unit(iommu_mode::strict, f));
        dm.pci_iommu_init(nullptr);
        REQUIRE(dm.iommu());
        intel_iommu& u = dm.iommu()->unit(0);
        CHECK(logged("DMAR: DRHD base: 0x000000fed90000 flags: 0x1"));
        CHECK(logged("IOMMU 0: reg_base_addr fed90000 ver 1:0 cap c90780106f0462 ecap f020fe"));
        CHECK(logged("IOMMU 0 0xfed90000: using Queued invalidation"));
        CHECK(logged("PCI-DMA: Intel(R) Virtualization Technology for Directed I/O"));
        CHECK(f.r[0x1c] == (1u << 31 | 1u << 30 | 1u << 26));  // TES, RTPS, QIES
        CHECK(f.get64(0x20) == u.root_entry);
        CHECK(f.get64(0x90) == u.qi->desc);
        REQUIRE(f.seen.size() == 2);
        CHECK((f.seen[0].via == 'q' && f.seen[0].type == 1 && f.seen[0].gran == 1));  // global context cache
        CHECK((f.seen[1].via == 'q' && f.seen[1].type == 2 && f.seen[1].gran == 1));  // global IOTLB
        CHECK(f.r[0x3c] == uint32_t(u.irq_vector));   // FEDATA
        CHECK(f.r[0x40] == uint32_t(k.msi_address(0)));
        CHECK(f.r[0x38] == 0);                         // unmasked
        CHECK(u.agaw == 2);
        CHECK(u.caps.ndoms() == 256);
    });
}

TEST_CASE("dma_mapping: a unit reading all ones is dropped as 3.4's BIOS check does, and devices keep the global ops") {
    with_machine([](platform&, kernel& k) {
        fake_unit f(k);
        f.set64(0x08, ~0ull);
        f.set64(0x10, ~0ull);
        dma_mapping dm(k, with_unit(iommu_mode::strict, f));
        dm.pci_iommu_init(nullptr);
        CHECK(logged("Your BIOS is broken; DMAR reported at address fed90000 returns all ones!"));
        CHECK(dm.iommu() == nullptr);
        pci_dev d;
        make_dev(d, 0, 4, 0);
        dm.bus_notify(BUS_NOTIFY_ADD_DEVICE, d);
        CHECK(dm.get_dma_ops(&d) == &dm.nommu_ops());
    });
}

TEST_CASE("dma_mapping: without ECAP.QI the driver invalidates through CCMD and the IOTLB register") {
    with_machine([](platform&, kernel& k) {
        fake_unit f(k, 0xf020fe & ~2ull);
        dma_mapping dm(k, with_unit(iommu_mode::strict, f));
        dm.pci_iommu_init(nullptr);
        CHECK(logged("IOMMU 0 0xfed90000: using Register based invalidation"));
        REQUIRE(f.seen.size() == 2);
        CHECK((f.seen[0].via == 'r' && f.seen[0].type == 1 && f.seen[0].gran == 1));
        CHECK((f.seen[1].via == 'r' && f.seen[1].type == 2 && f.seen[1].gran == 1));
        pci_dev d;
        make_dev(d, 0x80, 0x16, 7);
        dm.bus_notify(BUS_NOTIFY_ADD_DEVICE, d);
        const uint64_t pa = k.alloc_phys(4096, 4096);
        const dma_addr_t a = dm.dma_map_single(&d, pa, 100, DMA_FROM_DEVICE);
        dm.dma_unmap_single(&d, a, 100, DMA_FROM_DEVICE);
        REQUIRE(f.seen.size() == 3);
        CHECK((f.seen[2].via == 'r' && f.seen[2].gran == 3 && f.seen[2].addr == (a & ~0xfffull) && f.seen[2].am == 0));
        CHECK(f.seen[2].did == dm.iommu()->find_domain(d)->id);
    });
}

TEST_CASE("dma_mapping: intel_iommu maps top-down below the mask, writes VT-d entries in memory, and clears them at unmap") {
    with_machine([](platform&, kernel& k) {
        fake_unit f(k);
        dma_mapping dm(k, with_unit(iommu_mode::strict, f));
        dm.pci_iommu_init(nullptr);
        pci_dev d, small;
        make_dev(d, 0x80, 0x16, 7);
        make_dev(small, 0x80, 0x16, 6);
        dm.bus_notify(BUS_NOTIFY_ADD_DEVICE, d);
        dm.bus_notify(BUS_NOTIFY_ADD_DEVICE, small);
        CHECK(dm.get_dma_ops(&d) == &dm.iommu()->ops());
        d.dma_mask = DMA_BIT_MASK(64);
        small.dma_mask = DMA_BIT_MASK(31);
        const uint64_t pa = k.alloc_phys(4 * 4096, 4096), pb = k.alloc_phys(4096, 4096);
        const dma_addr_t a = dm.dma_map_single(&d, pa + 0x567, 0x100, DMA_TO_DEVICE);
        CHECK(a == 0xfffff567);  // below 4 GiB first, the page offset kept
        const dma_addr_t b = dm.dma_map_single(&d, pa, 3 * 4096, DMA_FROM_DEVICE);
        CHECK(b == 0xffff8000);  // 3 pages take an aligned 4
        const dma_addr_t c = dm.dma_map_single(&d, pb, 4096, DMA_BIDIRECTIONAL);
        CHECK(c == 0xffffe000);  // the highest free page
        const dma_addr_t s = dm.dma_map_single(&small, pb, 64, DMA_TO_DEVICE);
        CHECK(s == 0x7ffff000);

        intel_iommu& u = dm.iommu()->unit(0);
        dmar_domain* dom = dm.iommu()->find_domain(d);
        REQUIRE(dom);
        walk_result w = walk(k, u, 0x80, d.devfn, a);
        CHECK((w.root & 1) == 1);
        CHECK((w.ctx_lo & 1) == 1);           // present
        CHECK((w.ctx_lo >> 1 & 1) == 0);      // fault processing enabled
        CHECK((w.ctx_lo >> 2 & 3) == 0);      // T = 0: translate
        CHECK((w.ctx_lo & ~0xfffull) == dom->pgd);
        CHECK((w.ctx_hi & 7) == 2);           // AW: 4 levels
        CHECK((w.ctx_hi >> 8 & 0xffff) == uint64_t(dom->id));
        REQUIRE(w.ptes.size() == 4);
        for (int i = 0; i < 3; ++i) CHECK((w.ptes[i] & 3) == 3);  // non-leaf: R and W
        CHECK(w.ptes[3] == (pa | 1));          // TO_DEVICE with ZLR: read only
        CHECK(walk(k, u, 0x80, d.devfn, b + 0x2000).ptes.back() == ((pa + 0x2000) | 2));  // FROM_DEVICE: write only
        CHECK(walk(k, u, 0x80, d.devfn, c).ptes.back() == (pb | 3));
        CHECK(walk(k, u, 0x80, small.devfn, s).ptes.back() == (pb | 1));
        CHECK(dm.iommu()->find_domain(small) != dom);

        dm.dma_unmap_single(&d, b, 3 * 4096, DMA_FROM_DEVICE);
        for (uint64_t p = 0; p < 4; ++p) CHECK(walk(k, u, 0x80, d.devfn, b + p * 4096).ptes.back() == 0);
        CHECK(walk(k, u, 0x80, d.devfn, a).ptes.back() == (pa | 1));  // the neighbour stays
        dm.dma_unmap_single(&d, a, 0x100, DMA_TO_DEVICE);
        CHECK(dm.dma_map_single(&d, pb, 64, DMA_TO_DEVICE) == 0xfffff000);  // strict: reused at once
        CHECK(counter("dma_map.pagetable_pages") > 0);
    });
}

TEST_CASE("dma_mapping: strict: every unmap is followed at once by a page-selective IOTLB invalidation") {
    with_machine([](platform&, kernel& k) {
        fake_unit fs(k);
        dma_mapping strict(k, with_unit(iommu_mode::strict, fs));
        strict.pci_iommu_init(nullptr);
        pci_dev d;
        make_dev(d, 0x80, 0x16, 7);
        strict.bus_notify(BUS_NOTIFY_ADD_DEVICE, d);
        const uint64_t pa = k.alloc_phys(4096, 4096);
        for (int i = 0; i < 5; ++i)
            strict.dma_unmap_single(&d, strict.dma_map_single(&d, pa, 64, DMA_TO_DEVICE), 64, DMA_TO_DEVICE);
        CHECK(fs.iotlb(3) == 5);
        CHECK(fs.iotlb(1) == 1);  // boot's
        CHECK(counter("dma_map.iotlb_psi") == 5);
        CHECK(counter("dma_map.iotlb_flushes") == 6);
        // Costs: at least P-VIOMMU's logic per map and per unmap, the flush besides.
        CHECK(counter("dma_map.map_ns") >= 5 * 1080);
        CHECK(counter("dma_map.unmap_ns") >= 5 * 1080);
        CHECK(counter("dma_map.iotlb_flush_ns") > 0);
    });
}

TEST_CASE("dma_mapping: lazy: unmapped IOVAs wait in the deferred queue until the timer or the high-water mark") {
    with_machine([](platform&, kernel& k) {
        fake_unit f(k);
        dma_mapping dm(k, with_unit(iommu_mode::lazy, f));
        dm.pci_iommu_init(nullptr);
        pci_dev d;
        make_dev(d, 0x80, 0x16, 7);
        dm.bus_notify(BUS_NOTIFY_ADD_DEVICE, d);
        const uint64_t pa = k.alloc_phys(4096, 4096);
        std::vector<dma_addr_t> got;
        for (int i = 0; i < 5; ++i) {
            got.push_back(dm.dma_map_single(&d, pa, 64, DMA_TO_DEVICE));
            dm.dma_unmap_single(&d, got.back(), 64, DMA_TO_DEVICE);
        }
        CHECK(got[1] == got[0] - 0x1000);  // not reused before the flush
        CHECK(f.iotlb(3) == 0);
        CHECK(f.iotlb(1) == 1);
        CHECK(dm.iommu()->deferred_entries() == 5);
        k.msleep(11);
        CHECK(f.iotlb(1) == 2);  // one global flush for the five
        CHECK(dm.iommu()->deferred_entries() == 0);
        CHECK(dm.dma_map_single(&d, pa, 64, DMA_TO_DEVICE) == 0xfffff000);
        for (int i = 0; i < 251; ++i) dm.dma_unmap_single(&d, dm.dma_map_single(&d, pa, 64, DMA_TO_DEVICE), 64, DMA_TO_DEVICE);
        CHECK(f.iotlb(1) == 3);  // the 251st found 250 queued
        CHECK(dm.iommu()->deferred_entries() == 1);
        CHECK(counter("dma_map.deferred_flushes") == 2);
    });
}

TEST_CASE("dma_mapping: pass-through: context T=2 with the identity domain, physical addresses, a 32-bit device leaves it") {
    with_machine([](platform&, kernel& k) {
        fake_unit f(k);
        dma_mapping_config c = with_unit(iommu_mode::pt, f);
        c.ram_top = 8ull << 30;  // dma_get_required_mask: 33 bits
        dma_mapping dm(k, c);
        dm.pci_iommu_init(nullptr);
        pci_dev d, old;
        make_dev(d, 0x80, 0x16, 7);
        make_dev(old, 0x80, 0x16, 6);
        dm.bus_notify(BUS_NOTIFY_ADD_DEVICE, d);
        dm.bus_notify(BUS_NOTIFY_ADD_DEVICE, old);
        CHECK(logged("IOMMU: hardware identity mapping for device 0000:80:16.7"));
        intel_iommu& u = dm.iommu()->unit(0);
        walk_result w = walk(k, u, 0x80, d.devfn, 0);
        CHECK((w.ctx_lo & 1) == 1);
        CHECK((w.ctx_lo >> 2 & 3) == 2);   // pass-through
        CHECK((w.ctx_lo & ~0xfffull) == 0);
        CHECK((w.ctx_hi & 7) == uint64_t(u.msagaw));
        CHECK((w.ctx_hi >> 8 & 0xffff) == uint64_t(dm.iommu()->si_domain()->id));
        d.dma_mask = d.coherent_dma_mask = DMA_BIT_MASK(64);
        const uint64_t pa = k.alloc_phys(4096, 4096);
        CHECK(dm.dma_map_single(&d, pa + 8, 64, DMA_FROM_DEVICE) == pa + 8);
        const dma_addr_t a = dm.dma_map_single(&old, pa, 64, DMA_FROM_DEVICE);  // 32-bit mask < 33 bits
        CHECK(logged("32bit 0000:80:16.6 uses non-identity mapping"));
        CHECK(a == 0xfffff000);
        CHECK((walk(k, u, 0x80, old.devfn, a).ctx_lo >> 2 & 3) == 0);
    });
}

TEST_CASE("dma_mapping: the fault handler logs each record in 3.4's format and clears records and status") {
    with_machine([](platform&, kernel& k) {
        fake_unit f(k);
        dma_mapping dm(k, with_unit(iommu_mode::strict, f));
        dm.pci_iommu_init(nullptr);
        f.inject(0, 0xfffff040, 0x80B7, 5, false);
        f.inject(1, 0x7ffff000, 0x80B6, 6, true);
        CHECK(f.r[0x34] == 2);
        dm.iommu()->unit(0).dmar_fault();
        CHECK(logged("DRHD: handling fault status reg 2"));
        CHECK(logged("DMAR:[DMA Write] Request device [80:16.7] fault addr fffff000 "));
        CHECK(logged("DMAR:[fault reason 05] PTE Write access is not set"));
        CHECK(logged("DMAR:[DMA Read] Request device [80:16.6] fault addr 7ffff000 "));
        CHECK(logged("DMAR:[fault reason 06] PTE Read access is not set"));
        CHECK((f.r[0x10c] >> 31) == 0);
        CHECK((f.r[0x11c] >> 31) == 0);
        CHECK(f.r[0x34] == 0);
        CHECK(violations("dmar_fault") == 2);
        CHECK(counter("dma_map.dmar_faults") == 2);
    });
}

TEST_CASE("dma_mapping: a DMA_NONE direction is a simulated BUG: the mapping task oopses") {
    with_machine([](platform&, kernel& k) {
        dma_mapping dm(k, {});
        dm.pci_iommu_init(nullptr);
        pci_dev d;
        make_dev(d, 0, 4, 0);
        bool returned = false;
        k.kthread_run("bad", 1, [&] {
            dm.dma_map_single(&d, 0x20000000, 64, DMA_NONE);
            returned = true;
        });
        k.msleep(1);
        CHECK_FALSE(returned);
        CHECK(violations("oops") == 1);
        CHECK(logged_part("BUG: kernel BUG at include/asm-generic/dma-mapping-common.h"));
        CHECK(dm.dma_map_single(&d, 0x20000000, 64, DMA_TO_DEVICE) == 0x20000000);  // others carry on
    });
}

TEST_CASE("dma_mapping: dma-debug reports 3.4's unmap errors, leaks at release, device DMA outside mappings and CPU writes to them") {
    with_machine([](platform&, kernel& k) {
        dma_mapping_config c;
        c.dma_debug = true;
        dma_mapping dm(k, c);
        dm.pci_iommu_init(nullptr);
        pci_dev d;
        make_dev(d, 0x80, 0x16, 7);
        dm.bus_notify(BUS_NOTIFY_ADD_DEVICE, d);
        REQUIRE(dm.get_dma_ops(&d)->lower == &dm.nommu_ops());
        const uint64_t x = 0x20000000, y = 0x20010000, z = 0x20020000;
        dm.dma_unmap_single(&d, 0x12340000, 4096, DMA_TO_DEVICE);
        CHECK(logged("pci 0000:80:16.7: DMA-API: device driver tries to free DMA memory it has not allocated [device "
                     "address=0x0000000012340000] [size=4096 bytes]"));
        CHECK(violations("dma_debug") == 1);
        dma_addr_t a = dm.dma_map_single(&d, x, 4096, DMA_FROM_DEVICE);
        dm.dma_unmap_single(&d, a, 2048, DMA_FROM_DEVICE);
        CHECK(logged_part("DMA-API: device driver frees DMA memory with different size [device address=0x0000000020000000] "
                          "[map size=4096 bytes] [unmap size=2048 bytes]"));
        a = dm.dma_map_single(&d, x, 4096, DMA_FROM_DEVICE);
        dm.dma_unmap_single(&d, a, 4096, DMA_TO_DEVICE);
        CHECK(logged_part("DMA-API: device driver frees DMA memory with different direction [device "
                          "address=0x0000000020000000] [size=4096 bytes] [mapped with DMA_FROM_DEVICE] [unmapped with "
                          "DMA_TO_DEVICE]"));
        a = dm.dma_map_single(&d, x, 4096, DMA_TO_DEVICE);
        dm.dma_unmap_page(&d, a, 4096, DMA_TO_DEVICE);
        CHECK(logged_part("[mapped as single] [unmapped as page]"));
        dm.dma_unmap_single(&d, 0, 64, DMA_TO_DEVICE);
        CHECK(logged_part("DMA-API: device driver tries to free an invalid DMA memory address"));
        CHECK(violations("dma_debug") == 5);
        CHECK(dm.debug()->error_count() == 5);

        // The device's own accesses (model-only).
        const dma_addr_t from = dm.dma_map_single(&d, y, 4096, DMA_FROM_DEVICE);
        dm.dma_debug_check_device_access(&d, from + 100, 64, true);
        CHECK(violations("dma_debug_device") == 0);
        dm.dma_debug_check_device_access(&d, from + 100, 64, false);  // reading a FROM_DEVICE buffer
        CHECK(violations("dma_debug_device") == 1);
        dm.dma_debug_check_device_access(&d, from + 4090, 64, true);  // runs past its end
        CHECK(violations("dma_debug_device") == 2);
        // The CPU writing a page the device may be writing (3.14's check).
        dm.dma_debug_cpu_write(y + 8, 8);
        CHECK(logged_part(strfmt("DMA-API: cpu touching an active dma mapped page [pfn=0x%llx]",
                                 (unsigned long long)(y >> 12))));
        const int64_t before = violations("dma_debug");
        dm.dma_map_single(&d, z, 4096, DMA_TO_DEVICE);
        dm.dma_debug_cpu_write(z, 64);  // a buffer the device only reads
        CHECK(violations("dma_debug") == before);
        dm.dma_unmap_single(&d, from, 4096, DMA_FROM_DEVICE);
        dm.dma_debug_check_device_access(&d, from, 64, true);  // after unmap
        CHECK(violations("dma_debug_device") == 3);

        // One mapping (z) left when the driver lets go.
        dm.bus_notify(BUS_NOTIFY_UNBOUND_DRIVER, d);
        CHECK(logged_part("DMA-API: device driver has pending DMA allocations while released from device [count=1]"));
        CHECK(logged_part("One of leaked entries details: [device address=0x0000000020020000] [size=4096 bytes] "
                          "[mapped with DMA_TO_DEVICE] [mapped as single]"));
        CHECK(logged("WARNING: at lib/dma-debug.c err_printk()"));  // the first error only is WARNed
    });
}

TEST_CASE("dma_mapping: dma-debug over intel-iommu: coherent memory, sg lists and syncs are recorded against IOVAs") {
    with_machine([](platform&, kernel& k) {
        fake_unit f(k);
        dma_mapping_config c = with_unit(iommu_mode::strict, f);
        c.dma_debug = true;
        dma_mapping dm(k, c);
        dm.pci_iommu_init(nullptr);
        pci_dev d;
        make_dev(d, 0x80, 0x16, 7);
        dm.bus_notify(BUS_NOTIFY_ADD_DEVICE, d);
        CHECK(dm.get_dma_ops(&d)->lower == &dm.iommu()->ops());
        dma_addr_t ring = 0;
        const uint64_t cpu = dm.dma_alloc_coherent(&d, 8192, &ring);
        REQUIRE(cpu);
        CHECK(ring == 0xffffe000);
        dm.dma_debug_check_device_access(&d, ring + 64, 64, false);
        dm.dma_debug_check_device_access(&d, ring + 128, 64, true);
        scatterlist sg[2];
        sg[0].page = k.alloc_phys(4096, 4096);
        sg[0].offset = 0x100;
        sg[0].length = 0x200;
        sg[1].page = k.alloc_phys(4096, 4096);
        sg[1].length = 0x1000;
        REQUIRE(dm.dma_map_sg(&d, sg, 2, DMA_TO_DEVICE) == 2);
        CHECK(sg[1].dma_address == (sg[0].dma_address & ~0xfffull) + 0x1000);  // back to back
        dm.dma_sync_single_for_cpu(&d, sg[1].dma_address, 0x2000, DMA_TO_DEVICE);
        CHECK(logged_part("DMA-API: device driver syncs DMA memory outside allocated range"));
        dm.dma_unmap_sg(&d, sg, 2, DMA_TO_DEVICE);
        dm.dma_free_coherent(&d, 8192, cpu, ring);
        CHECK(violations("dma_debug") == 1);
        CHECK(violations("dma_debug_device") == 0);
        CHECK(dm.debug()->live_entries(d) == 0);
        CHECK(f.iotlb(3) == 2);  // the list and the ring, one PSI each
    });
}

TEST_CASE("dma_mapping: a stacked layer forwards to the ops below it, the address's maker answers mapping_error") {
    with_machine([](platform&, kernel& k) {
        dma_mapping_config c;
        c.swiotlb_force = true;
        c.swiotlb_bytes = 256 << 10;
        dma_mapping dm(k, c);
        dm.pci_iommu_init(nullptr);
        const dma_map_ops* lower = dm.global_ops();
        int maps = 0;
        dma_map_ops layer = stack_dma_ops(lower, "counting");
        layer.map_page = [&maps, lower](pci_dev* dev, uint64_t p, unsigned long o, size_t s, dma_data_direction dir,
                                        const dma_attrs* at) {
            ++maps;
            return lower->map_page(dev, p, o, s, dir, at);
        };
        pci_dev d;
        make_dev(d, 0, 4, 0);
        d.archdata.dma_ops = &layer;
        CHECK(layer.lower == lower);
        CHECK(bool(layer.sync_single_for_cpu));  // forwarded because swiotlb has one
        CHECK_FALSE(bool(stack_dma_ops(&dm.nommu_ops(), "x").unmap_page));  // nommu has none
        const uint64_t buf = 0x20000000;
        const uint32_t v = 0xabcd1234;
        k.store<uint32_t>(buf, v);
        const dma_addr_t a = dm.dma_map_single(&d, buf, 4, DMA_TO_DEVICE);
        CHECK(maps == 1);
        CHECK(dm.swiotlb_pool()->is_swiotlb_buffer(a));
        CHECK(k.load<uint32_t>(a) == v);
        dm.dma_unmap_single(&d, a, 4, DMA_TO_DEVICE);
        CHECK(dm.swiotlb_pool()->free_slabs() == 128);
        CHECK(dm.dma_mapping_error(&d, dm.swiotlb_pool()->overflow_buffer()) == 1);
        CHECK(dm.dma_mapping_error(&d, 0) == 0);
    });
}

TEST_CASE("dma_mapping: the bus notifier gives devices their ops at add, before any probe, dma-debug sees the unbind") {
    with_machine([](platform& plat, kernel& k) {
        fake_unit f(k);
        dma_mapping_config c = with_unit(iommu_mode::strict, f);
        c.dma_debug = true;
        dma_mapping dm(k, c);
        dm.pci_iommu_init(plat.pci());  // before the scan: the notifier sees every device
        plat.pci()->scan();
        pci_dev* d = plat.pci()->find("0000:00:16.0");
        REQUIRE(d);
        REQUIRE(d->archdata.dma_ops);
        CHECK(d->archdata.dma_ops->lower == &dm.iommu()->ops());
        pci_driver drv;
        drv.name = "fake";
        drv.id_table = {{d->vendor, d->device}};
        drv.probe = [&](pci_dev& p) {
            dma_addr_t h;
            return dm.dma_alloc_coherent(&p, 4096, &h) ? 0 : -12;  // and never freed
        };
        plat.pci()->register_driver(drv);
        CHECK(d->driver == &drv);
        CHECK(plat.pci()->unbind(d->name) == 0);
        // 3.4 names the bus, not the driver: dev->driver is already NULL at UNBOUND_DRIVER.
        CHECK(logged("pci 0000:00:16.0: DMA-API: device driver has pending DMA allocations while released from "
                     "device [count=1]"));
        CHECK(dm.iommu()->find_domain(*d) == nullptr);  // detached on UNBOUND_DRIVER
    });
}

TEST_CASE("dma_mapping: integration: the driver programs the IOH's VT-d unit, which translates, faults and interrupts") {
    with_machine([](platform& plat, kernel& k) {
        models::vtd_unit* hw = plat.ioh(0).vtd();
        REQUIRE(hw);
        dma_mapping_config c;
        c.iommu = iommu_mode::lazy;
        c.dma_debug = true;
        c.drhd = {{address_map::vtd_base(0), true, {}, {}}};
        dma_mapping dm(k, c);
        plat.pci()->scan();
        dm.pci_iommu_init(plat.pci());
        CHECK(hw->translating());
        pci_dev* d = plat.pci()->find("0000:00:16.0");
        REQUIRE(d);
        const uint16_t sid = uint16_t(d->bus << 8 | d->devfn);
        const uint64_t pa = k.alloc_phys(4096, 4096);
        const dma_addr_t a = dm.dma_map_single(d, pa, 4096, DMA_FROM_DEVICE);
        CHECK(a == 0xfffff000);
        uint64_t phys = 0;
        CHECK(hw->remap_dbg(sid, a + 64, 64, true, phys));
        CHECK(phys == pa + 64);
        CHECK_FALSE(hw->remap_dbg(sid, a, 64, false, phys));  // write-only under ZLR
        dm.dma_debug_check_device_access(sid, a + 64, 64, true);  // as the platform would, by requester id
        CHECK(violations("dma_debug_device") == 0);
        dm.dma_debug_check_device_access(sid, a - 4096, 64, true);
        CHECK(violations("dma_debug_device") == 1);
        sc_core::sc_time t = sc_core::SC_ZERO_TIME;
        CHECK(hw->translate(sid, a, 64, true, t).ok);  // fills the IOTLB
        dm.dma_unmap_single(d, a, 4096, DMA_FROM_DEVICE);
        CHECK(hw->translate(sid, a, 64, true, t).ok);  // lazy: the stale entry still serves
        k.msleep(11);                                   // the deferred global flush
        CHECK_FALSE(hw->translate(sid, a, 64, true, t).ok);
        k.msleep(1);  // the fault event reaches CPU 0 and dmar_fault runs
        CHECK(logged("DMAR:[DMA Write] Request device [00:16.0] fault addr fffff000 "));
        CHECK(logged("DMAR:[fault reason 05] PTE Write access is not set"));
        CHECK((hw->reg32(0x34) & 2) == 0);  // records cleared
        CHECK(violations("dmar_fault") == 1);
    });
}
