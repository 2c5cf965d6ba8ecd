// swiotlb: the bounce pool and its ops (3.4 lib/swiotlb.c; dma-mapping-vtd.md §2).
#include "sw/dma-mapping/swiotlb.h"

#include <stdexcept>
#include <vector>

namespace ioatsim::sw {

swiotlb::swiotlb(dma_mapping& dm, uint64_t bytes)
    : dm_(dm), k_(dm.k()), map_cost_(k_.timing("cost.swiotlb_map")), unmap_cost_(k_.timing("cost.swiotlb_unmap")) {
    lock_.name = "io_tlb_lock";
    // swiotlb=<nslabs> rounds up to whole segments; the pool and the overflow
    // buffer come from low boot memory (the simulated pool lies below 3 GiB).
    unsigned nslabs = unsigned((bytes + IO_TLB_SLAB - 1) >> IO_TLB_SHIFT);
    nslabs = (nslabs + IO_TLB_SEGSIZE - 1) / IO_TLB_SEGSIZE * IO_TLB_SEGSIZE;
    const uint64_t size = uint64_t(nslabs) << IO_TLB_SHIFT;
    start_ = k_.alloc_phys(size, PAGE_SIZE);
    overflow_ = k_.alloc_phys(IO_TLB_OVERFLOW, PAGE_SIZE);
    if (!start_ || !overflow_) throw std::logic_error("swiotlb: no memory for the bounce pool");
    end_ = start_ + size;
    list_.assign(nslabs, 0);
    orig_addr_.assign(nslabs, 0);
    for (unsigned i = 0; i < nslabs; ++i) list_[i] = IO_TLB_SEGSIZE - i % IO_TLB_SEGSIZE;
    k_.printk("PCI-DMA: Using software bounce buffering for IO (SWIOTLB)");
    k_.printk(strfmt("software IO TLB at phys %#llx - %#llx", (unsigned long long)start_, (unsigned long long)end_));

    ops_.name = "swiotlb";
    ops_.map_page = [this](pci_dev* d, uint64_t page, unsigned long off, size_t s, dma_data_direction dir,
                           const dma_attrs*) { return map_page(d, page + off, s, dir); };
    ops_.unmap_page = [this](pci_dev* d, dma_addr_t a, size_t s, dma_data_direction dir, const dma_attrs*) {
        unmap_page(d, a, s, dir);
    };
    ops_.map_sg = [this](pci_dev* d, scatterlist* sg, int n, dma_data_direction dir, const dma_attrs*) {
        return map_sg(d, sg, n, dir);
    };
    ops_.unmap_sg = [this](pci_dev* d, scatterlist* sg, int n, dma_data_direction dir, const dma_attrs*) {
        unmap_sg(d, sg, n, dir);
    };
    ops_.sync_single_for_cpu = [this](pci_dev* d, dma_addr_t a, size_t s, dma_data_direction dir) {
        sync_single(d, a, s, dir, true);
    };
    ops_.sync_single_for_device = [this](pci_dev* d, dma_addr_t a, size_t s, dma_data_direction dir) {
        sync_single(d, a, s, dir, false);
    };
    ops_.sync_sg_for_cpu = [this](pci_dev* d, scatterlist* sg, int n, dma_data_direction dir) {
        for (int i = 0; i < n; ++i) sync_single(d, sg[i].dma_address, sg[i].dma_length, dir, true);
    };
    ops_.sync_sg_for_device = [this](pci_dev* d, scatterlist* sg, int n, dma_data_direction dir) {
        for (int i = 0; i < n; ++i) sync_single(d, sg[i].dma_address, sg[i].dma_length, dir, false);
    };
    ops_.mapping_error = [this](pci_dev*, dma_addr_t a) { return int(a == overflow_); };
    ops_.alloc = [this](pci_dev* d, size_t s, dma_addr_t* h, gfp_t g, const dma_attrs*) {
        return alloc_coherent(d, s, h, g);
    };
    ops_.free = [this](pci_dev* d, size_t s, uint64_t v, dma_addr_t, const dma_attrs*) { free_coherent(d, s, v); };
    // x86 leaves dma_supported NULL: the generic check applies.
}

unsigned swiotlb::free_slabs() const {
    unsigned n = 0;
    for (unsigned v : list_) n += v != 0;
    return n;
}

// list_[i] for the segment holding `index`, from its end backwards.
void swiotlb::recount_segment(unsigned index) {
    const unsigned seg = index / IO_TLB_SEGSIZE * IO_TLB_SEGSIZE;
    unsigned run = 0;
    for (unsigned i = seg + IO_TLB_SEGSIZE; i-- > seg;) {
        run = list_[i] ? run + 1 : 0;
        list_[i] = run;
    }
}

void swiotlb::bounce(uint64_t orig, uint64_t b, size_t size, bool to_bounce) {
    std::vector<uint8_t> buf(size);
    const uint64_t src = to_bounce ? orig : b, dst = to_bounce ? b : orig;
    k_.mem_read(src, buf.data(), size);
    ++dm_.quiet_writes;
    k_.mem_write(dst, buf.data(), size);
    --dm_.quiet_writes;
    k_.cost_copy(dst, src, size);
    dm_.stats().count("dma_map.swiotlb_bounce_bytes", int64_t(size));
}

uint64_t swiotlb::tbl_map_single(pci_dev* dev, uint64_t phys, size_t size, dma_data_direction dir) {
    const unsigned nslots = unsigned((size + IO_TLB_SLAB - 1) >> IO_TLB_SHIFT);
    // Page-sized and larger requests start on a page (stride of two slabs).
    const unsigned stride = size > PAGE_SIZE ? unsigned(PAGE_SIZE >> IO_TLB_SHIFT) : 1;
    const unsigned n = nslabs();
    if (nslots == 0 || nslots > IO_TLB_SEGSIZE) return 0;
    k_.spin_lock(lock_);
    k_.cost(map_cost_);
    unsigned index = (index_ + stride - 1) / stride * stride;
    if (index >= n) index = 0;
    const unsigned wrap = index;
    uint64_t found = 0;
    do {
        // The device's segment boundary (4 GiB by default) is never crossed:
        // the whole pool lies below 4 GiB.
        if (list_[index] >= nslots) {
            for (unsigned i = index; i < index + nslots; ++i) list_[i] = 0;
            recount_segment(index);
            index_ = index + nslots < n ? index + nslots : 0;
            found = start_ + (uint64_t(index) << IO_TLB_SHIFT);
            for (unsigned i = 0; i < nslots; ++i) orig_addr_[index + i] = phys + (uint64_t(i) << IO_TLB_SHIFT);
            break;
        }
        index += stride;
        if (index >= n) index = 0;
    } while (index != wrap);
    k_.spin_unlock(lock_);
    if (found && (dir == DMA_TO_DEVICE || dir == DMA_BIDIRECTIONAL)) bounce(phys, found, size, true);
    return found;
}

void swiotlb::tbl_unmap_single(pci_dev*, uint64_t b, size_t size, dma_data_direction dir) {
    const unsigned nslots = unsigned((size + IO_TLB_SLAB - 1) >> IO_TLB_SHIFT);
    const unsigned index = unsigned((b - start_) >> IO_TLB_SHIFT);
    const uint64_t orig = orig_addr_[index];
    if (orig && (dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL)) bounce(orig, b, size, false);
    k_.spin_lock(lock_);
    k_.cost(unmap_cost_);
    for (unsigned i = index; i < index + nslots && i < nslabs(); ++i) {
        list_[i] = 1;  // free; the segment's runs are counted again below
        orig_addr_[i] = 0;
    }
    recount_segment(index);
    if (index + nslots - 1 < nslabs() && (index + nslots - 1) / IO_TLB_SEGSIZE != index / IO_TLB_SEGSIZE)
        recount_segment(index + nslots - 1);
    k_.spin_unlock(lock_);
}

void swiotlb::swiotlb_full(pci_dev* dev, size_t size, dma_data_direction dir, bool do_panic) {
    dm_.stats().count("dma_map.swiotlb_full");
    k_.printk(strfmt("DMA: Out of SW-IOMMU space for %zu bytes at device %s", size, dev ? dev->name.c_str() : "?"));
    if (size <= IO_TLB_OVERFLOW || !do_panic) return;
    const char* what = dir == DMA_BIDIRECTIONAL ? "DMA: Random memory could be DMA accessed"
                       : dir == DMA_FROM_DEVICE ? "DMA: Random memory could be DMA written"
                                                : "DMA: Random memory could be DMA read";
    k_.printk(std::string("Kernel panic - not syncing: ") + what);
    k_.rep().violation(k_.now(), "bug", std::string("swiotlb_full: ") + what + " (" + dev_name(dev) + ")");
}

dma_addr_t swiotlb::map_page(pci_dev* dev, uint64_t phys, size_t size, dma_data_direction dir) {
    if (!valid_dma_direction(dir)) {
        k_.oops("kernel BUG at lib/swiotlb.c: swiotlb_map_page: BUG_ON(dir == DMA_NONE)");
        return overflow_;
    }
    if (dma_capable(dev, phys, size) && !dm_.config().swiotlb_force) return phys;
    uint64_t map = tbl_map_single(dev, phys, size, dir);
    if (!map) {
        swiotlb_full(dev, size, dir, true);
        map = overflow_;
    }
    if (map != overflow_ && !dma_capable(dev, map, size)) {  // even the pool is out of reach
        tbl_unmap_single(dev, map, size, DMA_TO_DEVICE);
        return overflow_;
    }
    return map;
}

void swiotlb::unmap_page(pci_dev* dev, dma_addr_t addr, size_t size, dma_data_direction dir) {
    if (!valid_dma_direction(dir)) return k_.oops("kernel BUG at lib/swiotlb.c: unmap_single: BUG_ON(dir == DMA_NONE)");
    if (is_swiotlb_buffer(addr)) tbl_unmap_single(dev, addr, size, dir);
    // Otherwise only dma_mark_clean for FROM_DEVICE, nothing on x86.
}

void swiotlb::sync_single(pci_dev*, dma_addr_t addr, size_t size, dma_data_direction dir, bool for_cpu) {
    if (!valid_dma_direction(dir)) return k_.oops("kernel BUG at lib/swiotlb.c: swiotlb_sync_single: DMA_NONE");
    if (!is_swiotlb_buffer(addr)) return;
    const unsigned index = unsigned((addr - start_) >> IO_TLB_SHIFT);
    const uint64_t orig = orig_addr_[index] + (addr & (IO_TLB_SLAB - 1));
    if (for_cpu) {
        if (dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL) bounce(orig, addr, size, false);
    } else if (dir == DMA_TO_DEVICE || dir == DMA_BIDIRECTIONAL) {
        bounce(orig, addr, size, true);
    }
}

int swiotlb::map_sg(pci_dev* dev, scatterlist* sg, int nents, dma_data_direction dir) {
    for (int i = 0; i < nents; ++i) {
        const uint64_t paddr = sg_phys(sg[i]);
        if (dm_.config().swiotlb_force || !dma_capable(dev, paddr, sg[i].length)) {
            uint64_t map = tbl_map_single(dev, paddr, sg[i].length, dir);
            if (!map) {  // undo what was mapped; no panic for lists
                swiotlb_full(dev, sg[i].length, dir, false);
                unmap_sg(dev, sg, i, dir);
                sg[0].dma_length = 0;
                return 0;
            }
            sg[i].dma_address = map;
        } else {
            sg[i].dma_address = paddr;
        }
        sg[i].dma_length = sg[i].length;
    }
    return nents;
}

void swiotlb::unmap_sg(pci_dev* dev, scatterlist* sg, int nents, dma_data_direction dir) {
    for (int i = 0; i < nents; ++i) unmap_page(dev, sg[i].dma_address, sg[i].dma_length, dir);
}

// x86_swiotlb_alloc_coherent: ordinary pages the coherent mask reaches, else
// slots of the bounce pool.
uint64_t swiotlb::alloc_coherent(pci_dev* dev, size_t size, dma_addr_t* handle, gfp_t gfp) {
    if (uint64_t v = dma_generic_alloc_coherent(k_, dev, size, handle, gfp)) return v;
    uint64_t b = tbl_map_single(dev, 0, size, DMA_FROM_DEVICE);
    if (!b) return 0;
    const uint64_t mask = dev && dev->coherent_dma_mask ? dev->coherent_dma_mask : DMA_BIT_MASK(32);
    if (b + size - 1 > mask) {
        tbl_unmap_single(dev, b, size, DMA_TO_DEVICE);
        return 0;
    }
    zero_phys(k_, b, size);
    *handle = b;
    return b;
}

void swiotlb::free_coherent(pci_dev* dev, size_t size, uint64_t vaddr) {
    if (is_swiotlb_buffer(vaddr)) tbl_unmap_single(dev, vaddr, size, DMA_TO_DEVICE);
    else dma_generic_free_coherent(k_, vaddr);
}

}  // namespace ioatsim::sw
