// intel_dma_ops: map/unmap of pages, lists and coherent buffers, and the
// deferred IOTLB flush (3.4 drivers/iommu/intel-iommu.c; dma-mapping-vtd.md §3.3-3.4).
#include "sw/dma-mapping/intel_iommu.h"

namespace ioatsim::sw {
using namespace dmar;

namespace {
// aligned_nrpages: VT-d pages touched by [offset in page, + size).
uint64_t aligned_nrpages(uint64_t paddr, uint64_t size) { return ((paddr & 0xfff) + size + 0xfff) >> 12; }
}  // namespace

// intel_alloc_iova: below 4 GiB first (unless forcedac), then up to the mask.
bool intel_iommu_driver::intel_alloc_iova(pci_dev& dev, dmar_domain& d, uint64_t nrpages, uint64_t mask, iova& out) {
    const uint64_t domain_max = d.gaw >= 64 ? ~0ull : (1ull << d.gaw) - 1;
    const uint64_t dma_mask = std::min(domain_max, mask);
    unsigned steps = 0, more = 0;
    k_.spin_lock(d.iova_lock);
    bool ok = false;
    if (!dm_.config().forcedac && dma_mask > DMA_BIT_MASK(32))
        ok = d.iovad.alloc_iova(nrpages, iova_domain::DMA_32BIT_PFN, true, out, &steps);
    if (!ok) ok = d.iovad.alloc_iova(nrpages, dma_mask >> 12, true, out, &more);
    k_.spin_unlock(d.iova_lock);
    steps += more;
    if (steps > 1) k_.cost(iova_step_ * (steps - 1));
    if (!ok)
        k_.printk(strfmt("Allocating %llu-page iova for %s failed", (unsigned long long)nrpages, dev.name.c_str()));
    return ok;
}

// R for TO_DEVICE and BIDIRECTIONAL (or always, without ZLR), W for
// FROM_DEVICE and BIDIRECTIONAL.
uint64_t intel_iommu_driver::prot_for(const intel_iommu& u, dma_data_direction dir) const {
    uint64_t prot = 0;
    if (dir == DMA_TO_DEVICE || dir == DMA_BIDIRECTIONAL || !u.caps.zlr()) prot |= DMA_PTE_READ;
    if (dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL) prot |= DMA_PTE_WRITE;
    return prot;
}

dma_addr_t intel_iommu_driver::intel_map_single(pci_dev* dev, uint64_t paddr, size_t size, dma_data_direction dir,
                                                uint64_t mask) {
    if (!valid_dma_direction(dir)) {
        k_.oops("kernel BUG at drivers/iommu/intel-iommu.c: __intel_map_single: BUG_ON(dir == DMA_NONE)");
        return 0;
    }
    if (iommu_no_mapping(dev)) {
        k_.cost(k_.timing("cost.dma_map_direct"));
        return paddr;
    }
    k_.cost(map_cost_);
    const uint64_t nr = aligned_nrpages(paddr, size);
    dmar_domain* d = get_valid_domain_for_dev(*dev);
    iova v;
    if (d && intel_alloc_iova(*dev, *d, nr, mask, v)) {
        std::vector<uint64_t> phys;
        for (uint64_t i = 0; i < nr; ++i) phys.push_back((paddr >> 12) + i);
        if (domain_pfn_mapping(*d, v.pfn_lo, phys, prot_for(*d->iommu, dir)) == 0) {
            if (d->iommu->caps.caching_mode()) d->iommu->flush_iotlb_psi(uint16_t(d->id), v.pfn_lo, nr);
            else d->iommu->flush_write_buffer();
            return (v.pfn_lo << 12) + (paddr & 0xfff);
        }
        release_iova(*d, v.pfn_lo, v.pfn_hi);
    }
    k_.printk(strfmt("Device %s request: %llx@%llx dir %d --- failed", dev->name.c_str(), (unsigned long long)nr,
                     (unsigned long long)paddr, int(dir)));
    return 0;
}

void intel_iommu_driver::release_iova(dmar_domain& d, uint64_t pfn_lo, uint64_t pfn_hi) {
    k_.spin_lock(d.iova_lock);
    if (!d.dead) d.iovad.free_iova(pfn_lo);
    k_.spin_unlock(d.iova_lock);
}

int intel_iommu_driver::intel_map_sg(pci_dev* dev, scatterlist* sg, int nelems, dma_data_direction dir) {
    if (!valid_dma_direction(dir)) {
        k_.oops("kernel BUG at drivers/iommu/intel-iommu.c: intel_map_sg: BUG_ON(dir == DMA_NONE)");
        return 0;
    }
    if (iommu_no_mapping(dev)) {  // intel_nontranslate_map_sg
        for (int i = 0; i < nelems; ++i) {
            sg[i].dma_address = sg_phys(sg[i]);
            sg[i].dma_length = sg[i].length;
        }
        return nelems;
    }
    k_.cost(map_cost_);
    dmar_domain* d = get_valid_domain_for_dev(*dev);
    if (!d) return 0;
    uint64_t size = 0;
    for (int i = 0; i < nelems; ++i) size += aligned_nrpages(sg[i].offset, sg[i].length);
    iova v;
    if (!intel_alloc_iova(*dev, *d, size, dev->dma_mask, v)) {
        sg[0].dma_length = 0;
        return 0;
    }
    // domain_sg_mapping: the elements back to back in IOVA space.
    std::vector<uint64_t> phys;
    uint64_t pfn = v.pfn_lo;
    for (int i = 0; i < nelems; ++i) {
        const uint64_t nr = aligned_nrpages(sg[i].offset, sg[i].length);
        sg[i].dma_address = (pfn << 12) + (sg[i].offset & 0xfff);
        sg[i].dma_length = sg[i].length;
        for (uint64_t p = 0; p < nr; ++p) phys.push_back((sg_phys(sg[i]) >> 12) + p);
        pfn += nr;
    }
    if (domain_pfn_mapping(*d, v.pfn_lo, phys, prot_for(*d->iommu, dir)) != 0) {
        dma_pte_clear_range(*d, v.pfn_lo, v.pfn_lo + size - 1);
        dma_pte_free_pagetable(*d, v.pfn_lo, v.pfn_lo + size - 1);
        release_iova(*d, v.pfn_lo, v.pfn_hi);
        return 0;
    }
    if (d->iommu->caps.caching_mode()) d->iommu->flush_iotlb_psi(uint16_t(d->id), v.pfn_lo, size);
    else d->iommu->flush_write_buffer();
    return nelems;
}

// intel_unmap_page / intel_unmap_sg: the whole IOVA range is cleared whatever
// size the caller passes; strict flushes its pages at once and frees the IOVA,
// lazy queues both for the next global flush.
void intel_iommu_driver::intel_unmap(pci_dev* dev, dma_addr_t addr, bool sg) {
    if (iommu_no_mapping(dev)) return;
    dmar_domain* d = find_domain(*dev);
    if (!d) {
        k_.oops("kernel BUG at drivers/iommu/intel-iommu.c: intel_unmap_page: BUG_ON(!domain) (" + dev->name + ")");
        return;
    }
    k_.cost(unmap_cost_);
    iova v;
    k_.spin_lock(d->iova_lock);
    const bool found = d->iovad.find_iova(addr >> 12, v);
    k_.spin_unlock(d->iova_lock);
    if (!found) {
        // [inference] the message says PFN; the value printed is the page frame.
        warn(sg ? "intel_unmap_sg" : "intel_unmap_page",
             strfmt(sg ? "Driver unmaps unmatched sglist at PFN %llx" : "Driver unmaps unmatched page at PFN %llx",
                    (unsigned long long)(addr >> 12)),
             true);
        return;
    }
    dma_pte_clear_range(*d, v.pfn_lo, v.pfn_hi);
    dma_pte_free_pagetable(*d, v.pfn_lo, v.pfn_hi);
    if (strict_) {
        d->iommu->flush_iotlb_psi(uint16_t(d->id), v.pfn_lo, v.pfn_hi - v.pfn_lo + 1);
        release_iova(*d, v.pfn_lo, v.pfn_hi);
    } else {
        add_unmap(*d, v);
    }
}

uint64_t intel_iommu_driver::intel_alloc_coherent(pci_dev* dev, size_t size, dma_addr_t* handle, gfp_t gfp) {
    size = (size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    k_.cost(page_cost_);
    const uint64_t pa = k_.alloc_phys(size, PAGE_SIZE);
    if (!pa) return 0;
    zero_phys(k_, pa, size);
    k_.cost_bytes(size, k_.config().memcpy_gbps);
    *handle = intel_map_single(dev, pa, size, DMA_BIDIRECTIONAL, dev ? dev->coherent_dma_mask : DMA_BIT_MASK(32));
    if (*handle) return pa;
    k_.free_phys(pa);
    return 0;
}

void intel_iommu_driver::intel_free_coherent(pci_dev* dev, size_t size, uint64_t vaddr, dma_addr_t handle) {
    intel_unmap(dev, handle, false);
    k_.free_phys(vaddr);
}

// --- the deferred flush ----------------------------------------------------------

// add_unmap: a full queue (HIGH_WATER_MARK entries over all units) is flushed
// first; the first entry arms the 10 ms timer.
void intel_iommu_driver::add_unmap(dmar_domain& d, const iova& v) {
    k_.spin_lock(async_umap_flush_lock_);
    if (list_size_ == dm_.config().deferred_high_water_mark) flush_unmaps();
    deferred_flush_.at(size_t(d.iommu->seq_id)).push_back({&d, v});
    if (!timer_on_) {
        k_.mod_timer(unmap_timer_, k_.now() + dm_.config().deferred_flush_timeout);
        timer_on_ = true;
    }
    ++list_size_;
    k_.spin_unlock(async_umap_flush_lock_);
}

// flush_unmaps: one global IOTLB invalidation per unit with entries (a PSI per
// entry in caching mode), then the IOVAs are free for reuse.
void intel_iommu_driver::flush_unmaps() {
    timer_on_ = false;
    if (list_size_) dm_.stats().count("dma_map.deferred_flushes");
    for (size_t i = 0; i < deferred_flush_.size(); ++i) {
        auto& q = deferred_flush_[i];
        if (q.empty()) continue;
        intel_iommu& u = *units_[i];
        if (!u.caps.caching_mode()) u.flush_iotlb(0, 0, 0, TLB_GLOBAL_FLUSH);
        for (auto& e : q) {
            if (u.caps.caching_mode())
                u.flush_iotlb_psi(uint16_t(e.domain->id), e.v.pfn_lo, e.v.pfn_hi - e.v.pfn_lo + 1);
            release_iova(*e.domain, e.v.pfn_lo, e.v.pfn_hi);
        }
        q.clear();
    }
    list_size_ = 0;
}

void intel_iommu_driver::flush_unmaps_timeout() {
    k_.spin_lock(async_umap_flush_lock_);
    flush_unmaps();
    k_.spin_unlock(async_umap_flush_lock_);
}

}  // namespace ioatsim::sw
