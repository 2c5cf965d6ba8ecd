// The DMA-mapping layer (sw/dma-mapping): per-device ops and their fallback,
// nommu, swiotlb, the IOVA allocator, dma-debug, stacked ops and the bus
// notifier. Facts: shared/reference/dma-mapping-vtd.md §1-6.
#include "dma_mapping_harness.h"

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
