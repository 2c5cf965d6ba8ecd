// intel-iommu and its DMAR driver over a register-level stand-in of a VT-d
// unit and over the IOH's own unit: init, strict, lazy, pass-through,
// faults. Facts: shared/reference/dma-mapping-vtd.md §3-5.
#include "dma_mapping_harness.h"

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
