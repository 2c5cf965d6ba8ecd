// The IOVA allocator of 3.4 (drivers/iommu/iova.c; dma-mapping-vtd.md §3.3):
// ranges of page frame numbers per domain, allocated top-down below a limit,
// size rounded up to a power of two and naturally aligned. IOVA pfn 0 is never
// handed out (IOVA_START_PFN = 1), so a DMA address of 0 is always an error.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>

namespace ioatsim::sw {

struct iova {
    uint64_t pfn_lo = 0, pfn_hi = 0;
};

class iova_domain {
public:
    static constexpr uint64_t IOVA_START_PFN = 1;
    // dma_32bit_pfn: the pfn of 4 GiB - 1.
    static constexpr uint64_t DMA_32BIT_PFN = (1ull << 32 >> 12) - 1;

    // alloc_iova: the highest free range of `size` pages (rounded up to a power
    // of two and aligned to it when `size_aligned`) ending at or below
    // `limit_pfn`; false when none. `steps`: the ranges the search passed.
    bool alloc_iova(uint64_t size, uint64_t limit_pfn, bool size_aligned, iova& out, unsigned* steps = nullptr);
    // find_iova: the range holding `pfn`, or false.
    bool find_iova(uint64_t pfn, iova& out) const;
    // __free_iova of the range starting at `pfn_lo`.
    void free_iova(uint64_t pfn_lo) { ranges_.erase(pfn_lo); }
    // reserve_iova: [pfn_lo, pfn_hi] is never allocated (merged with overlaps).
    void reserve_iova(uint64_t pfn_lo, uint64_t pfn_hi);
    size_t count() const { return ranges_.size(); }

private:
    std::map<uint64_t, uint64_t> ranges_;  // pfn_lo -> pfn_hi, as the rbtree orders them
};

}  // namespace ioatsim::sw
