// swiotlb (3.4 lib/swiotlb.c, arch/x86/kernel/pci-swiotlb.c; dma-mapping-vtd.md
// §2): a pool of 2 KiB bounce slabs below 4 GiB, in segments of 128, handed
// out next-fit to devices whose mask does not reach a buffer; data is copied
// into the bounce buffer at map (TO_DEVICE, BIDIRECTIONAL) and back at unmap
// or sync (FROM_DEVICE, BIDIRECTIONAL).
#pragma once
#include "sw/dma-mapping/dma_mapping.h"

#include <vector>

namespace ioatsim::sw {

class swiotlb {
public:
    static constexpr unsigned IO_TLB_SHIFT = 11;            // 2 KiB slabs
    static constexpr uint64_t IO_TLB_SLAB = 1ull << IO_TLB_SHIFT;
    static constexpr unsigned IO_TLB_SEGSIZE = 128;         // a bounce never crosses a segment
    static constexpr uint64_t IO_TLB_OVERFLOW = 32 * 1024;  // io_tlb_overflow

    swiotlb(dma_mapping& dm, uint64_t bytes);
    const dma_map_ops& ops() const { return ops_; }

    uint64_t io_tlb_start() const { return start_; }
    uint64_t io_tlb_end() const { return end_; }
    uint64_t overflow_buffer() const { return overflow_; }
    unsigned nslabs() const { return unsigned(list_.size()); }
    unsigned free_slabs() const;
    bool is_swiotlb_buffer(uint64_t pa) const { return pa >= start_ && pa < end_; }

    // swiotlb_tbl_map_single / unmap_single: 0 when no run of slots fits.
    uint64_t tbl_map_single(pci_dev* dev, uint64_t phys, size_t size, dma_data_direction dir);
    void tbl_unmap_single(pci_dev* dev, uint64_t bounce, size_t size, dma_data_direction dir);

private:
    dma_addr_t map_page(pci_dev* dev, uint64_t phys, size_t size, dma_data_direction dir);
    void unmap_page(pci_dev* dev, dma_addr_t addr, size_t size, dma_data_direction dir);
    void sync_single(pci_dev* dev, dma_addr_t addr, size_t size, dma_data_direction dir, bool for_cpu);
    int map_sg(pci_dev* dev, scatterlist* sg, int nents, dma_data_direction dir);
    void unmap_sg(pci_dev* dev, scatterlist* sg, int nents, dma_data_direction dir);
    uint64_t alloc_coherent(pci_dev* dev, size_t size, dma_addr_t* handle, gfp_t gfp);
    void free_coherent(pci_dev* dev, size_t size, uint64_t vaddr);
    void swiotlb_full(pci_dev* dev, size_t size, dma_data_direction dir, bool do_panic);
    void bounce(uint64_t orig, uint64_t bounce, size_t size, bool to_bounce);
    void recount_segment(unsigned index);

    dma_mapping& dm_;
    kernel& k_;
    const ktime_t map_cost_, unmap_cost_;
    dma_map_ops ops_;
    uint64_t start_ = 0, end_ = 0, overflow_ = 0;
    // io_tlb_list[i]: free contiguous slots from i to the next used one or the
    // segment's end (0: in use); io_tlb_orig_addr[i]: what slot i bounces.
    std::vector<unsigned> list_;
    std::vector<uint64_t> orig_addr_;
    unsigned index_ = 0;  // io_tlb_index: where the next search starts
    spinlock lock_;       // io_tlb_lock
};

}  // namespace ioatsim::sw
