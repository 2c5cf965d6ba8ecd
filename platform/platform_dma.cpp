// The DMA-mapping layer on the platform (sw/dma-mapping; dma-mapping-vtd.md):
// one dma_mapping per machine made from software.iommu and software.dma_debug,
// the ACPI DMAR table from the IOHs' VT-d units, pci_iommu_init at boot,
// dma-debug's model-only checks wired to the DMA path and the CPUs' memory
// writes, and each IOH's unit when the IOH leaves and comes back.
#include "platform/platform.h"

#include "models/core/report.h"
#include "models/ioh/ioh.h"
#include "models/memory/dram.h"
#include "sw/clients/dmatest.h"
#include "sw/dma-mapping/dma_mapping.h"
#include "sw/dma-mapping/intel_iommu.h"
#include "sw/kernel/kernel.h"
#include "sw/kernel/memory_watch.h"
#include "sw/pci/ioh_hotplug.h"
#include "sw/pci/pci.h"

namespace ioatsim {

platform::watch_guard::~watch_guard() {
    if (k) sw::set_cpu_write_watch(*k, {});
}

void platform::make_dma_mapping() {
    if (sc_.dmatest.enabled && size_t(sc_.dmatest.buffer_node + 1) > drams_.size())
        throw input_error(sc_.pos_of("software.clients.dmatest.buffer_node"),
                          "software.clients.dmatest.buffer_node: " + std::to_string(sc_.dmatest.buffer_node) +
                              " is not a node of this platform (0 to " + std::to_string(drams_.size() - 1) + ")");
    // kmalloc_node: unmovable memory on that node, which keeps it from going offline.
    if (dmatest_) dmatest_->alloc_node = [this](int node, uint64_t size) {
        return kernel_->alloc_pages_node(unsigned(node), size, false, "dmatest");
    };
    if (dmatest_) dmatest_->free_node = [this](uint64_t pa) { kernel_->free_pages_node(pa); };
    // Both off: no layer, drivers hand the engine physical addresses, runs as before it.
    if (sc_.iommu == "off" && !sc_.dma_debug) return;
    sw::dma_mapping_config c;
    sw::parse_iommu_mode(sc_.iommu, c.iommu);
    c.dma_debug = sc_.dma_debug;
    c.iommu_sac_force = sc_.cmdline.iommu_sac_force;
    c.swiotlb_force = sc_.cmdline.swiotlb_force;
    c.ram_top = drams_.back()->base() + drams_.back()->size();  // max_pfn: the last node's DRAM ends there
    c.dmar_hotplug = p_.integer("iommu.dmar_hotplug") != 0;
    // The DMAR table: a DRHD per IOH with a unit, IOH0's INCLUDE_PCI_ALL (the
    // rest of segment 0), each other one scoped to its buses, listed first as
    // the two-unit tables in the reference list the INCLUDE_ALL unit last
    // [inference: the x3850 X5's table is unpublished].
    for (unsigned n = 1; n <= iohs_.size(); ++n) {
        const unsigned i = n % unsigned(iohs_.size());  // 1, 2, ..., then 0
        if (!iohs_[i]->vtd()) continue;
        sw::dmar_drhd_unit u;
        u.reg_base_addr = address_map::vtd_base(i);
        u.include_all = i == 0;
        if (i) u.buses.push_back({iohs_[i]->cfg().bus_lo, iohs_[i]->cfg().bus_hi});
        c.drhd.push_back(u);
    }
    c.unit_present = [this](uint64_t base) {
        for (unsigned i = 0; i < iohs_.size(); ++i)
            if (address_map::vtd_base(i) == base) return iohs_[i]->present();
        return true;
    };
    dma_map_ = std::make_unique<sw::dma_mapping>(*kernel_, c);
    // What the run may report is in summary.json from the start, so `expect`
    // can name it: the DMAR driver's and units' counts, dma-debug's findings.
    if (c.iommu != sw::iommu_mode::off && !c.drhd.empty())
        for (const char* k : {"dma_map.stale_drhd_accesses", "violations.dmar_fault", "vtd.iotlb_misses",
                              "vtd.faults_recorded", "vtd.requests_blocked"})
            sim_report().declare(k);
    if (!c.dma_debug) return;
    for (const char* k : {"violations.dma_debug", "violations.dma_debug_device"}) sim_report().declare(k);
    // dma-debug's model-only checks: each DMA that reached memory, by requester
    // and bus address; each CPU write.
    for (auto& h : iohs_)
        h->rc().on_dma_access = [this](uint16_t sid, uint64_t addr, uint64_t len, bool write) {
            dma_map_->dma_debug_check_device_access(sid, addr, len, write);
        };
    watch_.k = kernel_.get();
    sw::set_cpu_write_watch(*kernel_, [this](uint64_t pa, uint64_t len) { dma_map_->dma_debug_cpu_write(pa, len); });
}

// pci_iommu_init (a rootfs_initcall: after PCI enumeration, before drivers
// such as ioatdma load); the host bridges' hot-plug learns of the units.
void platform::boot_iommu() {
    if (!dma_map_) return;
    boot_step("pci_iommu_init");
    dma_map_->pci_iommu_init(pci_.get());
    if (dma_map_->iommu())
        hotplug_->host_bridge_hook = [this](unsigned ioh, bool added) { dmar_ioh_changed(ioh, added); };
}

// An IOH's host bridge removed (its devices gone) or added (before its scan).
void platform::dmar_ioh_changed(unsigned ioh, bool added) {
    sw::intel_iommu_driver* drv = dma_map_->iommu();
    const uint64_t base = address_map::vtd_base(ioh);
    const sw::dmar_drhd_unit* drhd = nullptr;
    for (const auto& u : dma_map_->config().drhd)
        if (u.reg_base_addr == base) drhd = &u;
    if (!drv || !drhd) return;
    const uint64_t now = uint64_t(kernel_->now());
    if (!dma_map_->config().dmar_hotplug) {
        // 3.4: nothing happens; the note says what stays behind.
        sw::intel_iommu* u = drv->unit_at(base);
        if (!added && u)
            sim_report().log(now, sw::strfmt("ioatsim: IOH %u's DMAR unit %s (reg_base %llx) stays in intel-iommu's "
                                             "lists: 3.4 has no DMAR unit hot-removal (iommu.dmar_hotplug=0)",
                                             ioh, u->name.c_str(), (unsigned long long)base));
        return;
    }
    const int rc = added ? drv->dmar_device_add(*drhd) : drv->dmar_device_remove(base);
    sim_report().log(now, sw::strfmt("ioatsim: IOH %u: dmar_device_%s(%llx) = %d", ioh, added ? "add" : "remove",
                                     (unsigned long long)base, rc));
}

json_obj platform::dma_mapping_summary(uint64_t dma_ops) {
    report& rep = sim_report();
    auto c = [&](const char* name) { return double(rep.get(name)); };
    auto per = [](double x, double n) { return n > 0 ? x / n : 0.0; };
    const sw::dma_mapping_config& cfg = dma_map_->config();
    json_obj o;
    const sw::dma_map_ops* global = dma_map_->global_ops();
    o.set("iommu", sw::iommu_mode_name(cfg.iommu)).set("dma_debug", cfg.dma_debug)
        .set("global_ops", global ? global->name : std::string("nommu"))
        .set("dmar_hotplug", cfg.dmar_hotplug);
    const double maps = c("dma_map.maps"), unmaps = c("dma_map.unmaps"), flushes = c("dma_map.iotlb_flushes");
    const double cpu_ns = c("dma_map.map_ns") + c("dma_map.unmap_ns") + c("dma_map.sync_ns") + c("dma_map.alloc_ns") +
                          c("dma_map.free_ns");
    o.set("maps", uint64_t(maps)).set("unmaps", uint64_t(unmaps))
        .set("map_ns_per_map", per(c("dma_map.map_ns"), maps))
        .set("unmap_ns_per_unmap", per(c("dma_map.unmap_ns"), unmaps))
        .set("iotlb_flushes", uint64_t(flushes))
        .set("iotlb_flush_ns_per_flush", per(c("dma_map.iotlb_flush_ns"), flushes))
        .set("iotlb_flushes_per_unmap", per(flushes, unmaps))
        .set("page_walks", uint64_t(c("vtd.iotlb_misses")))
        .set("page_walks_per_dma_op", per(c("vtd.iotlb_misses"), double(dma_ops)))
        .set("cpu_ns", cpu_ns)
        .set("cpu_ns_per_dma_op", per(cpu_ns, double(dma_ops)))
        .set("swiotlb_bounce_bytes", uint64_t(c("dma_map.swiotlb_bounce_bytes")))
        .set("dmar_faults", uint64_t(c("dma_map.dmar_faults")));
    // Units intel-iommu still uses whose IOH is gone (3.4 keeps them: §7.1).
    uint64_t stale = 0;
    if (sw::intel_iommu_driver* drv = dma_map_->iommu())
        for (size_t i = 0; i < drv->unit_count(); ++i)
            if (!drv->unit(i).removed && cfg.unit_present && !cfg.unit_present(drv->unit(i).reg)) ++stale;
    o.set("stale_drhd", stale);
    return o;
}

}  // namespace ioatsim
