// DMAR unit hot-plug (dma-mapping-vtd.md §7). 3.4 has none: its dmar.c says
// hotplug of remapping units "are not supported by the architecture", the unit
// list is built once at boot and nothing takes a unit out, so a unit whose IOH
// has gone stays in every list (its registers then read all ones). The
// 2014-2015 work (Jiang Liu; in 4.x as dmar_device_remove/add from the ACPI
// host-bridge hot-plug path) removes a unit once no device of its scope is
// left and sets up a unit that arrives; the platform calls these only when
// dma_mapping_config::dmar_hotplug asks for that behaviour.
#include "sw/dma-mapping/intel_iommu.h"

namespace ioatsim::sw {

intel_iommu* intel_iommu_driver::unit_at(uint64_t reg_base) {
    for (auto& u : units_)
        if (!u->removed && u->reg == reg_base) return u.get();
    return nullptr;
}

// dmar_hotplug_remove: -EBUSY while a device the unit translates is still
// present (an INCLUDE_ALL unit always has the rest of the segment); then
// disable_dmar_iommu and free_dmar_iommu: translation and queued invalidation
// off, the fault interrupt freed, the unit off the list. Unmaps still queued
// for it are flushed first [inference: 4.x frees the unit's flush queue with it].
int intel_iommu_driver::dmar_device_remove(uint64_t reg_base) {
    intel_iommu* u = unit_at(reg_base);
    if (!u) return -19;  // -ENODEV
    if (u->drhd.include_all) return -16;
    if (pci_subsys* pci = dm_.pci())
        for (pci_dev* d : pci->devices())
            if (device_to_iommu(d->bus, d->devfn) == u) return -16;  // -EBUSY
    if (!deferred_flush_.at(size_t(u->seq_id)).empty()) flush_unmaps_timeout();
    u->disable_translation();
    u->disable_qi();
    if (u->irq_vector >= 0) k_.free_irq(u->irq_cpu, u->irq_vector);
    u->irq_vector = -1;
    u->removed = true;
    return 0;
}

// dmar_hotplug_insert -> intel_iommu_add: the unit's CAP/ECAP read, domain ids,
// a root table and the invalidation interface, then the fault interrupt, the
// root pointer, global invalidations and translation on. A unit still on the
// list (it never left) is left as it is. Pass-through (iommu=pt) for a unit
// that arrives later is not modelled: its devices translate.
int intel_iommu_driver::dmar_device_add(const dmar_drhd_unit& drhd) {
    if (unit_at(drhd.reg_base_addr)) return 0;
    auto u = std::make_unique<intel_iommu>(dm_, drhd, int(units_.size()));
    if (u->broken) return -19;
    if (int rc = init_unit(*u)) return rc;
    units_.push_back(std::move(u));
    deferred_flush_.resize(units_.size());
    enable_unit(*units_.back());
    return 0;
}

}  // namespace ioatsim::sw
