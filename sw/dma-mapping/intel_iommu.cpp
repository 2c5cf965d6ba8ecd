// intel-iommu: boot, domains, context entries and page tables (3.4
// drivers/iommu/intel-iommu.c; dma-mapping-vtd.md §3.1-3.2, §3.5, §5.4).
#include "sw/dma-mapping/intel_iommu.h"

#include <algorithm>

namespace ioatsim::sw {
using namespace dmar;

namespace {
constexpr unsigned LEVEL_STRIDE = 9;
uint64_t level_index(uint64_t pfn, int level) { return pfn >> (LEVEL_STRIDE * (level - 1)) & 0x1ff; }
uint64_t level_span(int level) { return 1ull << (LEVEL_STRIDE * (level - 1)); }  // pages under one entry
bool present(uint64_t pte) { return pte & (DMA_PTE_READ | DMA_PTE_WRITE); }
constexpr int DEFAULT_DOMAIN_ADDRESS_WIDTH = 48;
}  // namespace

intel_iommu_driver::intel_iommu_driver(dma_mapping& dm)
    : dm_(dm), k_(dm.k()), strict_(dm.config().iommu == iommu_mode::strict),
      identity_(dm.config().iommu == iommu_mode::pt), map_cost_(k_.timing("cost.intel_map_page")),
      unmap_cost_(k_.timing("cost.intel_unmap_page")), iova_step_(k_.timing("cost.iova_rb_step")),
      page_cost_(k_.timing("cost.dma_alloc_pages")) {
    device_domain_lock_.name = "device_domain_lock";
    async_umap_flush_lock_.name = "async_umap_flush_lock";
    for (const char* c : {"dma_map.iotlb_global", "dma_map.iotlb_dsi", "dma_map.iotlb_psi"}) dm.stats().declare(c);
    unmap_timer_.fn = [this] { flush_unmaps_timeout(); };
    ops_.name = "intel_iommu";
    ops_.map_page = [this](pci_dev* d, uint64_t page, unsigned long off, size_t s, dma_data_direction dir,
                           const dma_attrs*) { return intel_map_single(d, page + off, s, dir, d ? d->dma_mask : 0); };
    ops_.unmap_page = [this](pci_dev* d, dma_addr_t a, size_t, dma_data_direction, const dma_attrs*) {
        intel_unmap(d, a, false);
    };
    ops_.map_sg = [this](pci_dev* d, scatterlist* sg, int n, dma_data_direction dir, const dma_attrs*) {
        return intel_map_sg(d, sg, n, dir);
    };
    ops_.unmap_sg = [this](pci_dev* d, scatterlist* sg, int n, dma_data_direction, const dma_attrs*) {
        if (n > 0) intel_unmap(d, sg[0].dma_address, true);
    };
    ops_.alloc = [this](pci_dev* d, size_t s, dma_addr_t* h, gfp_t g, const dma_attrs*) {
        return intel_alloc_coherent(d, s, h, g);
    };
    ops_.free = [this](pci_dev* d, size_t s, uint64_t v, dma_addr_t h, const dma_attrs*) {
        intel_free_coherent(d, s, v, h);
    };
    ops_.mapping_error = [](pci_dev*, dma_addr_t a) { return int(a == 0); };
    // No sync ops: VT-d never bounces.
}

// Linux's driver never goes away; here it may (tests): its timer and
// interrupts must not outlive it.
intel_iommu_driver::~intel_iommu_driver() {
    k_.del_timer_sync(unmap_timer_);
    for (auto& u : units_)
        if (u->irq_vector >= 0) k_.free_irq(u->irq_cpu, u->irq_vector);
}

int intel_iommu_driver::intel_iommu_init() {
    // parse_dmar_table: the units in table order (their seq_ids); INCLUDE_ALL
    // ones are matched last (device_to_iommu).
    for (const dmar_drhd_unit& u : dm_.config().drhd) {
        k_.printk(strfmt("DMAR: DRHD base: %#016llx flags: %#x", (unsigned long long)u.reg_base_addr,
                         u.include_all ? 1u : 0u));
        auto iommu = std::make_unique<intel_iommu>(dm_, u, int(units_.size()));
        if (iommu->broken) continue;
        units_.push_back(std::move(iommu));
    }
    if (units_.empty()) return -19;
    deferred_flush_.resize(units_.size());

    // init_dmars: root tables, a sane state, the invalidation interface.
    for (auto& u : units_) {
        if (int rc = init_unit(*u)) return rc;
        hw_pass_through_ = hw_pass_through_ && u->caps.pass_through();
    }
    if (identity_) {
        if (!hw_pass_through_) {
            // A software 1:1 map of all RAM is not modelled: such units translate.
            k_.printk("IOMMU: no hardware pass-through; identity mapping not modelled, translating instead");
            identity_ = false;
        } else {
            si_domain_ = alloc_domain(*units_.front(), true);  // si_domain_init: one id on every unit
            if (!si_domain_) return -16;
        }
    }
    for (auto& u : units_) enable_unit(*u);
    // dmar_init_reserved_ranges: the IOAPIC/MSI window and every PCI BAR (no peer-to-peer).
    reserved_.push_back({0xfee00000ull >> 12, 0xfeefffffull >> 12});
    if (pci_subsys* pci = dm_.pci())
        for (pci_dev* d : pci->devices())
            for (int i = 0; i < 6; ++i)
                if (d->resource_len[i])
                    reserved_.push_back({d->resource_start[i] >> 12,
                                         (d->resource_start[i] + d->resource_len[i] - 1) >> 12});
    k_.printk("PCI-DMA: Intel(R) Virtualization Technology for Directed I/O");
    return 0;
}

int intel_iommu_driver::init_unit(intel_iommu& u) {
    u.root_entry = alloc_pgtable_page(u);
    if (!u.root_entry) return -12;
    if (u.readl(GSTS_REG) & GSTS_TES) {  // left on by firmware
        u.gcmd = GCMD_TE;
        u.disable_translation();
    }
    u.disable_qi();
    const char* how = u.enable_qi() == 0 ? "Queued" : "Register based";
    k_.printk(strfmt("IOMMU %d 0x%llx: using %s invalidation", u.seq_id, (unsigned long long)u.reg, how));
    return 0;
}

void intel_iommu_driver::enable_unit(intel_iommu& u) {
    u.flush_write_buffer();
    u.set_interrupt(dm_.config().fault_irq_cpu);
    u.set_root_entry();
    u.flush_context(0, 0, 0, CCMD_GLOBAL_INVL);
    u.flush_iotlb(0, 0, 0, TLB_GLOBAL_FLUSH);
    u.enable_translation();
    u.disable_protect_mem_regions();
}

intel_iommu* intel_iommu_driver::device_to_iommu(uint8_t bus, uint8_t devfn) {
    for (int pass = 0; pass < 2; ++pass)
        for (auto& u : units_) {
            if (u->removed || u->drhd.include_all != (pass == 1)) continue;
            if (u->drhd.include_all) return u.get();
            for (uint16_t d : u->drhd.devices)
                if (d == (bus << 8 | devfn)) return u.get();
            for (auto& [lo, hi] : u->drhd.buses)
                if (bus >= lo && bus <= hi) return u.get();
        }
    return nullptr;
}

dmar_domain* intel_iommu_driver::find_domain(const pci_dev& dev) const {
    auto* info = static_cast<device_domain_info*>(dev.archdata.iommu);
    return info ? info->domain : nullptr;
}

const dma_map_ops* intel_iommu_driver::device_add(pci_dev& dev) {
    if (!device_to_iommu(dev.bus, dev.devfn)) return nullptr;
    if (identity_ && !find_domain(dev) && domain_add_dev_info(*si_domain_, dev, CONTEXT_TT_PASS_THROUGH) == 0)
        k_.printk("IOMMU: hardware identity mapping for device " + dev.name);
    return &ops_;
}

void intel_iommu_driver::device_unbound(pci_dev& dev) {
    if (identity_) return;  // iommu=pt: devices stay where they are
    dmar_domain* d = find_domain(dev);
    if (!d) return;
    domain_remove_one_dev_info(*d, dev);
    if (d->devices.empty() && !d->static_identity) domain_exit(*d);
}

bool intel_iommu_driver::should_identity_map(const pci_dev& dev) const {
    uint64_t mask = dev.dma_mask;
    if (dev.coherent_dma_mask && dev.coherent_dma_mask < mask) mask = dev.coherent_dma_mask;
    return mask >= dm_.dma_get_required_mask();
}

// iommu_no_mapping: NULL (non-PCI) devices and identity-mapped ones get
// physical addresses; a device whose mask no longer covers RAM leaves the
// identity domain, one that qualifies again joins it.
bool intel_iommu_driver::iommu_no_mapping(pci_dev* dev) {
    if (!dev) return true;
    if (!identity_) return false;
    dmar_domain* d = find_domain(*dev);
    if (d && d->static_identity) {
        if (should_identity_map(*dev)) return true;
        domain_remove_one_dev_info(*d, *dev);
        k_.printk("32bit " + dev->name + " uses non-identity mapping");
        return false;
    }
    if (!d && should_identity_map(*dev) && domain_add_dev_info(*si_domain_, *dev, CONTEXT_TT_PASS_THROUGH) == 0) {
        k_.printk("64bit " + dev->name + " uses identity mapping");
        return true;
    }
    return false;
}

dmar_domain* intel_iommu_driver::alloc_domain(intel_iommu& u, bool si) {
    domains_.push_back(std::make_unique<dmar_domain>());
    dmar_domain& d = *domains_.back();
    d.iova_lock.name = "iova_rbtree_lock";
    d.static_identity = si;
    d.iommu = &u;
    d.id = u.alloc_domain_id();
    if (d.id < 0) return nullptr;
    if (si)  // the identity domain takes an id on every unit (the same one here: all start empty)
        for (auto& other : units_)
            if (other.get() != &u) other->domain_ids.at(size_t(d.id)) = true;
    // domain_init: the width clipped to MGAW, the unit's AGAW, a zeroed top table.
    d.gaw = std::min<int>(DEFAULT_DOMAIN_ADDRESS_WIDTH, int(u.caps.mgaw()));
    d.agaw = u.agaw;
    for (auto& [lo, hi] : reserved_) d.iovad.reserve_iova(lo, hi);
    if (!si) {
        d.pgd = alloc_pgtable_page(u);
        if (!d.pgd) return nullptr;
    }
    return &d;
}

void intel_iommu_driver::domain_exit(dmar_domain& d) {
    if (d.pgd) free_subtree(d.pgd, d.levels());
    d.pgd = 0;
    d.dead = true;  // its id went back with its last device
}

dmar_domain* intel_iommu_driver::get_valid_domain_for_dev(pci_dev& dev) {
    if (dmar_domain* d = find_domain(dev)) return d;
    intel_iommu* u = device_to_iommu(dev.bus, dev.devfn);
    dmar_domain* d = u ? alloc_domain(*u, false) : nullptr;
    if (!d) {
        k_.printk("Allocating domain for " + dev.name + " failed");
        return nullptr;
    }
    // get_domain_for_dev looks again under device_domain_lock: another CPU
    // may have given the device its domain meanwhile; that one is kept.
    if (dmar_domain* found = find_domain(dev)) {
        domain_exit(*d);
        u->free_domain_id(d->id);
        return found;
    }
    if (domain_add_dev_info(*d, dev, CONTEXT_TT_MULTI_LEVEL) != 0) {
        k_.printk("Domain context map for " + dev.name + " failed");
        return nullptr;
    }
    return d;
}

int intel_iommu_driver::domain_add_dev_info(dmar_domain& d, pci_dev& dev, uint64_t translation) {
    intel_iommu* u = device_to_iommu(dev.bus, dev.devfn);
    if (!u) return -19;
    int rc = domain_context_mapping_one(d, dev.bus, dev.devfn, translation);
    if (rc) return rc;
    k_.spin_lock(device_domain_lock_);
    infos_.push_back({dev.bus, dev.devfn, &dev, u, &d});
    dev.archdata.iommu = &infos_.back();
    d.devices.push_back(&dev);
    k_.spin_unlock(device_domain_lock_);
    return 0;
}

// iommu_detach_dev: the context entry cleared, then global context-cache and
// IOTLB invalidation; the domain id goes back to the unit once no device of
// the domain is left on it.
void intel_iommu_driver::domain_remove_one_dev_info(dmar_domain& d, pci_dev& dev) {
    k_.spin_lock(device_domain_lock_);
    d.devices.erase(std::remove(d.devices.begin(), d.devices.end(), &dev), d.devices.end());
    dev.archdata.iommu = nullptr;
    k_.spin_unlock(device_domain_lock_);
    intel_iommu* u = device_to_iommu(dev.bus, dev.devfn);
    if (!u) return;
    if (uint64_t ce = device_to_context_entry(*u, dev.bus, dev.devfn, false)) {
        k_.store<uint64_t>(ce, 0);
        k_.store<uint64_t>(ce + 8, 0);
        u->flush_cache(ce, 16);
    }
    u->flush_context(0, 0, 0, CCMD_GLOBAL_INVL);
    u->flush_iotlb(0, 0, 0, TLB_GLOBAL_FLUSH);
    if (d.devices.empty() && !d.static_identity) u->free_domain_id(d.id);
}

uint64_t intel_iommu_driver::device_to_context_entry(intel_iommu& u, uint8_t bus, uint8_t devfn, bool alloc) {
    const uint64_t root = u.root_entry + 16ull * bus;
    uint64_t lo = k_.load<uint64_t>(root);
    if (!(lo & 1)) {
        if (!alloc) return 0;
        const uint64_t table = alloc_pgtable_page(u);
        if (!table) return 0;
        if (const uint64_t theirs = k_.load<uint64_t>(root); theirs & 1) {  // set meanwhile (iommu->lock in 3.4)
            free_pgtable_page(table);
            lo = theirs;
        } else {
            lo = table | 1;  // CTP | P
            k_.store<uint64_t>(root, lo);
            u.flush_cache(root, 16);
        }
    }
    return (lo & VTD_PAGE_MASK) + 16ull * devfn;
}

uint64_t intel_iommu_driver::context_entry(intel_iommu& u, uint8_t bus, uint8_t devfn) {
    return device_to_context_entry(u, bus, devfn, false);
}

// domain_context_mapping_one: DID and AW in the high half, then ASR, T, fault
// processing on and P in the low half. A present entry is left alone; with
// CM = 0 nothing was cached, so only a write-buffer flush follows.
int intel_iommu_driver::domain_context_mapping_one(dmar_domain& d, uint8_t bus, uint8_t devfn, uint64_t translation) {
    intel_iommu* u = device_to_iommu(bus, devfn);
    if (!u) return -19;
    const uint64_t ce = device_to_context_entry(*u, bus, devfn, true);
    if (!ce) return -12;
    if (k_.load<uint64_t>(ce) & 1) return 0;
    const bool pt = translation == CONTEXT_TT_PASS_THROUGH;
    const uint64_t aw = uint64_t(pt ? u->msagaw : u->agaw);
    k_.store<uint64_t>(ce + 8, aw | uint64_t(uint16_t(d.id)) << 8);
    k_.store<uint64_t>(ce, (pt ? 0 : d.pgd & VTD_PAGE_MASK) | translation << 2 | 1);
    u->flush_cache(ce, 16);
    if (u->caps.caching_mode()) {
        u->flush_context(0, uint16_t(bus << 8 | devfn), 0, CCMD_DEVICE_INVL);
        u->flush_iotlb(uint16_t(d.id), 0, 0, TLB_DSI_FLUSH);
    } else {
        u->flush_write_buffer();
    }
    return 0;
}

// --- page tables ----------------------------------------------------------------

uint64_t intel_iommu_driver::alloc_pgtable_page(intel_iommu& u) {
    k_.cost(page_cost_);
    const uint64_t pa = k_.alloc_phys(PAGE_SIZE, PAGE_SIZE);
    if (!pa) return 0;
    zero_phys(k_, pa, PAGE_SIZE);
    k_.cost_bytes(PAGE_SIZE, k_.config().memcpy_gbps);
    u.flush_cache(pa, PAGE_SIZE);
    dm_.stats().count("dma_map.pagetable_pages");
    return pa;
}

void intel_iommu_driver::free_pgtable_page(uint64_t pa) {
    k_.free_phys(pa);
    dm_.stats().count("dma_map.pagetable_pages", -1);
}

uint64_t intel_iommu_driver::pfn_to_dma_pte(dmar_domain& d, uint64_t pfn) {
    uint64_t table = d.pgd;
    for (int level = d.levels(); level > 1; --level) {
        const uint64_t pte = table + 8 * level_index(pfn, level);
        uint64_t v = k_.load<uint64_t>(pte);
        if (!present(v)) {
            const uint64_t page = alloc_pgtable_page(*d.iommu);
            if (!page) return 0;
            // 3.4's cmpxchg64: another CPU may have set the entry while the
            // page was allocated (and zeroed); theirs is used, ours freed.
            if (const uint64_t theirs = k_.load<uint64_t>(pte); present(theirs)) {
                free_pgtable_page(page);
                v = theirs;
            } else {
                v = page | DMA_PTE_READ | DMA_PTE_WRITE;  // every non-leaf entry gets R and W
                k_.store<uint64_t>(pte, v);
                d.iommu->flush_cache(pte, 8);
            }
        }
        table = v & VTD_PAGE_MASK;
    }
    return table + 8 * level_index(pfn, 1);
}

uint64_t intel_iommu_driver::dma_pfn_level_pte(const dmar_domain& d, uint64_t pfn) {
    uint64_t table = d.pgd;
    if (!table) return 0;
    for (int level = d.levels(); level > 1; --level) {
        const uint64_t v = k_.load<uint64_t>(table + 8 * level_index(pfn, level));
        if (!present(v)) return 0;
        table = v & VTD_PAGE_MASK;
    }
    return table + 8 * level_index(pfn, 1);
}

// domain_pfn_mapping: one leaf per page; an entry already set is 3.4's
// "already set" error (the cmpxchg fails, the old entry stays). Lines written
// are flushed once per run within a table.
int intel_iommu_driver::domain_pfn_mapping(dmar_domain& d, uint64_t iov_pfn, const std::vector<uint64_t>& phys,
                                           uint64_t prot) {
    uint64_t first = 0, last = 0;
    for (size_t i = 0; i < phys.size(); ++i) {
        const uint64_t pte = pfn_to_dma_pte(d, iov_pfn + i);
        if (!pte) return -12;
        const uint64_t val = phys[i] << 12 | prot;
        if (const uint64_t old = k_.load<uint64_t>(pte)) {
            k_.printk(strfmt("ERROR: DMA PTE for vPFN 0x%llx already set (to %llx not %llx)",
                             (unsigned long long)(iov_pfn + i), (unsigned long long)old, (unsigned long long)val));
            warn("domain_pfn_mapping", strfmt("DMA PTE for vPFN 0x%llx already set", (unsigned long long)(iov_pfn + i)),
                 false);
        } else {
            k_.store<uint64_t>(pte, val);
        }
        if (first && pte == last + 8 && (pte & 0xfff)) {
            last = pte;
        } else {
            if (first) d.iommu->flush_cache(first, last + 8 - first);
            first = last = pte;
        }
    }
    if (first) d.iommu->flush_cache(first, last + 8 - first);
    return 0;
}

void intel_iommu_driver::dma_pte_clear_range(dmar_domain& d, uint64_t start, uint64_t last) {
    uint64_t first = 0, prev = 0;
    for (uint64_t pfn = start; pfn <= last;) {
        const uint64_t pte = dma_pfn_level_pte(d, pfn);
        if (!pte) {  // no leaf table here: skip to the next one
            pfn = (pfn | 0x1ff) + 1;
            continue;
        }
        k_.store<uint64_t>(pte, 0);
        if (first && pte == prev + 8 && (pte & 0xfff)) {
            prev = pte;
        } else {
            if (first) d.iommu->flush_cache(first, prev + 8 - first);
            first = prev = pte;
        }
        ++pfn;
    }
    if (first) d.iommu->flush_cache(first, prev + 8 - first);
}

// dma_pte_free_pagetable: a table whose whole span lies in the range freed is
// released and its upper entry cleared; for a range of a few pages none is.
void intel_iommu_driver::dma_pte_free_pagetable(dmar_domain& d, uint64_t start, uint64_t last) {
    if (d.pgd) free_range(d, d.pgd, d.levels(), 0, start, last);
}

void intel_iommu_driver::free_range(dmar_domain& d, uint64_t table, int level, uint64_t base, uint64_t start,
                                    uint64_t last) {
    if (level < 2) return;
    const uint64_t span = level_span(level);
    const uint64_t lo = start > base ? (start - base) / span : 0;
    const uint64_t hi = std::min<uint64_t>(511, (last - base) / span);
    for (uint64_t i = lo; i <= hi; ++i) {
        const uint64_t pte = table + 8 * i, v = k_.load<uint64_t>(pte);
        if (!present(v)) continue;
        const uint64_t e_lo = base + i * span, e_hi = e_lo + span - 1;
        if (start <= e_lo && e_hi <= last) {
            free_subtree(v & VTD_PAGE_MASK, level - 1);
            k_.store<uint64_t>(pte, 0);
            d.iommu->flush_cache(pte, 8);
        } else {
            free_range(d, v & VTD_PAGE_MASK, level - 1, e_lo, start, last);
        }
    }
}

void intel_iommu_driver::free_subtree(uint64_t table, int level) {
    if (level > 1)
        for (uint64_t i = 0; i < 512; ++i) {
            const uint64_t v = k_.load<uint64_t>(table + 8 * i);
            if (present(v)) free_subtree(v & VTD_PAGE_MASK, level - 1);
        }
    free_pgtable_page(table);
}

void intel_iommu_driver::warn(const char* fn, const std::string& what, bool once) {
    if (once) {
        if (std::find(warned_.begin(), warned_.end(), std::string(fn)) != warned_.end()) return;
        warned_.push_back(fn);
    }
    k_.printk(std::string("WARNING: at drivers/iommu/intel-iommu.c ") + fn + "()");
    k_.printk(what);
    k_.rep().violation(k_.now(), "iommu", std::string(fn) + ": " + what);
}

}  // namespace ioatsim::sw
