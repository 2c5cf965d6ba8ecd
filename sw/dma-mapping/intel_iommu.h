// intel-iommu's DMA-API half (3.4 drivers/iommu/intel-iommu.c; dma-mapping-vtd.md
// §3): the units found in the DMAR table and their boot (init_dmars), a
// domain per device with 4-level second-level page tables in simulated
// memory, IOVAs top-down below the device's mask, map/unmap with the IOTLB
// flushed at once (strict) or through the deferred queue (lazy), and
// hardware pass-through (iommu=pt). Its ops are what the bus notifier gives
// each device a unit covers.
#pragma once
#include "sw/dma-mapping/dma_mapping.h"
#include "sw/dma-mapping/dmar.h"
#include "sw/dma-mapping/iova.h"

#include <deque>
#include <memory>
#include <vector>

namespace ioatsim::sw {

struct dmar_domain {
    int id = -1;                   // the domain id on its unit
    intel_iommu* iommu = nullptr;
    iova_domain iovad;
    uint64_t pgd = 0;              // top-level table
    int gaw = 48, agaw = 2;
    std::vector<pci_dev*> devices;
    bool static_identity = false;  // si_domain (iommu=pt)
    bool dead = false;             // domain_exit ran; kept for the flush queue's pointers
    spinlock iova_lock;            // iova_rbtree_lock
    int levels() const { return agaw + 2; }
};

// Stored in dev->archdata.iommu, as 3.4 does.
struct device_domain_info {
    uint8_t bus = 0, devfn = 0;
    pci_dev* dev = nullptr;
    intel_iommu* iommu = nullptr;
    dmar_domain* domain = nullptr;
};

class intel_iommu_driver {
public:
    explicit intel_iommu_driver(dma_mapping& dm);
    ~intel_iommu_driver();

    // intel_iommu_init: the units, init_dmars, reserved IOVA ranges; 0 or -errno.
    int intel_iommu_init();
    // The bus notifier's part: the ops for a device a unit covers (and, in
    // pass-through, its T=2 context), or NULL for the global ops.
    const dma_map_ops* device_add(pci_dev& dev);
    // UNBOUND_DRIVER: detach the device, destroy its domain if now empty.
    void device_unbound(pci_dev& dev);
    const dma_map_ops& ops() const { return ops_; }

    intel_iommu* device_to_iommu(uint8_t bus, uint8_t devfn);
    dmar_domain* find_domain(const pci_dev& dev) const;
    size_t unit_count() const { return units_.size(); }
    intel_iommu& unit(size_t i) { return *units_.at(i); }
    dmar_domain* si_domain() const { return si_domain_; }
    bool strict() const { return strict_; }
    bool identity() const { return identity_; }
    // The deferred queue: entries waiting, and the flush its timer runs.
    unsigned deferred_entries() const { return list_size_; }
    void flush_unmaps_timeout();
    // The leaf entry of `pfn` (its physical address), 0 when a table is missing.
    uint64_t dma_pfn_level_pte(const dmar_domain& d, uint64_t pfn);
    // The context entry a unit holds for bus/devfn (physical address), 0 when its table is missing.
    uint64_t context_entry(intel_iommu& u, uint8_t bus, uint8_t devfn);

    // DMAR unit hot-plug (dmar_hotplug.cpp; dma-mapping-vtd.md §7.2, the 4.x
    // behaviour): dmar_device_remove takes the unit at `reg_base` out of the
    // driver (-EBUSY while a device of its scope is present, -ENODEV when it
    // has none); dmar_device_add sets a unit up as intel_iommu_add does.
    int dmar_device_remove(uint64_t reg_base);
    int dmar_device_add(const dmar_drhd_unit& drhd);
    // The unit at `reg_base` the driver still uses (not removed), or null.
    intel_iommu* unit_at(uint64_t reg_base);

private:
    int init_unit(intel_iommu& u);     // init_dmars' first pass: root table, invalidation interface
    void enable_unit(intel_iommu& u);  // its last: interrupt, root pointer, invalidations, TE, PMRs
    bool iommu_no_mapping(pci_dev* dev);
    bool should_identity_map(const pci_dev& dev) const;
    dmar_domain* get_valid_domain_for_dev(pci_dev& dev);
    dmar_domain* alloc_domain(intel_iommu& u, bool si);
    void domain_exit(dmar_domain& d);
    int domain_add_dev_info(dmar_domain& d, pci_dev& dev, uint64_t translation);
    void domain_remove_one_dev_info(dmar_domain& d, pci_dev& dev);
    int domain_context_mapping_one(dmar_domain& d, uint8_t bus, uint8_t devfn, uint64_t translation);
    uint64_t device_to_context_entry(intel_iommu& u, uint8_t bus, uint8_t devfn, bool alloc);
    uint64_t alloc_pgtable_page(intel_iommu& u);
    void free_pgtable_page(uint64_t pa);
    uint64_t pfn_to_dma_pte(dmar_domain& d, uint64_t pfn);
    int domain_pfn_mapping(dmar_domain& d, uint64_t iov_pfn, const std::vector<uint64_t>& phys_pfns, uint64_t prot);
    void dma_pte_clear_range(dmar_domain& d, uint64_t start_pfn, uint64_t last_pfn);
    void dma_pte_free_pagetable(dmar_domain& d, uint64_t start_pfn, uint64_t last_pfn);
    void free_range(dmar_domain& d, uint64_t table, int level, uint64_t base, uint64_t start, uint64_t last);
    void free_subtree(uint64_t table, int level);
    bool intel_alloc_iova(pci_dev& dev, dmar_domain& d, uint64_t nrpages, uint64_t mask, iova& out);
    uint64_t prot_for(const intel_iommu& u, dma_data_direction dir) const;
    dma_addr_t intel_map_single(pci_dev* dev, uint64_t paddr, size_t size, dma_data_direction dir, uint64_t mask);
    void intel_unmap(pci_dev* dev, dma_addr_t addr, bool sg);
    int intel_map_sg(pci_dev* dev, scatterlist* sg, int nelems, dma_data_direction dir);
    uint64_t intel_alloc_coherent(pci_dev* dev, size_t size, dma_addr_t* handle, gfp_t gfp);
    void intel_free_coherent(pci_dev* dev, size_t size, uint64_t vaddr, dma_addr_t handle);
    void release_iova(dmar_domain& d, uint64_t pfn_lo, uint64_t pfn_hi);
    void add_unmap(dmar_domain& d, const iova& v);
    void flush_unmaps();
    void warn(const char* fn, const std::string& what, bool once);

    dma_mapping& dm_;
    kernel& k_;
    const bool strict_;
    bool identity_, hw_pass_through_ = true;
    const ktime_t map_cost_, unmap_cost_, iova_step_, page_cost_;
    dma_map_ops ops_;
    std::vector<std::unique_ptr<intel_iommu>> units_;    // by seq_id
    std::deque<std::unique_ptr<dmar_domain>> domains_;   // never freed: the flush queue may point here
    std::deque<device_domain_info> infos_;
    dmar_domain* si_domain_ = nullptr;
    std::vector<std::pair<uint64_t, uint64_t>> reserved_;  // dmar_init_reserved_ranges, in pfns
    spinlock device_domain_lock_;
    // The deferred flush (C-GROSS): per unit, (domain, iova) waiting for one
    // global IOTLB flush.
    struct deferred_entry { dmar_domain* domain; iova v; };
    std::vector<std::vector<deferred_entry>> deferred_flush_;
    unsigned list_size_ = 0;
    bool timer_on_ = false;
    timer_list unmap_timer_;
    spinlock async_umap_flush_lock_;
    std::vector<std::string> warned_;
};

}  // namespace ioatsim::sw
