#include "sw/dma-mapping/iova.h"

#include <algorithm>
#include <iterator>
namespace ioatsim::sw {

namespace {
uint64_t roundup_pow_of_two(uint64_t n) {
    uint64_t p = 1;
    while (p < n) p <<= 1;
    return p;
}
}  // namespace

// The search walks the ranges down from the limit, as 3.4's rbtree walk from
// its last (or cached) node does; the first gap from the top that holds an
// aligned block is the highest one. (3.4's cached32_node only changes where
// the walk starts, never the result [inference].)
bool iova_domain::alloc_iova(uint64_t size, uint64_t limit_pfn, bool size_aligned, iova& out, unsigned* steps) {
    if (size_aligned) size = roundup_pow_of_two(size);
    const uint64_t align = size_aligned ? size : 1;
    unsigned passed = 0;
    uint64_t hi = limit_pfn;  // the top of the gap under consideration
    auto fits = [&](uint64_t gap_lo, uint64_t& lo) {
        if (hi < gap_lo || hi - gap_lo + 1 < size) return false;
        lo = (hi + 1 - size) / align * align;
        return lo >= gap_lo;
    };
    uint64_t lo = 0;
    bool found = false;
    for (auto it = ranges_.upper_bound(limit_pfn); it != ranges_.begin();) {
        --it;
        ++passed;
        if (it->second < hi) {
            if (fits(it->second + 1, lo)) {
                found = true;
                break;
            }
        }
        if (it->first == 0) {
            hi = 0;
            break;
        }
        hi = std::min(hi, it->first - 1);
    }
    if (!found && hi >= IOVA_START_PFN) found = fits(IOVA_START_PFN, lo);
    if (steps) *steps = passed;
    if (!found) return false;
    out = {lo, lo + size - 1};
    ranges_[lo] = out.pfn_hi;
    return true;
}

bool iova_domain::find_iova(uint64_t pfn, iova& out) const {
    auto it = ranges_.upper_bound(pfn);
    if (it == ranges_.begin()) return false;
    --it;
    if (pfn > it->second) return false;
    out = {it->first, it->second};
    return true;
}

void iova_domain::reserve_iova(uint64_t pfn_lo, uint64_t pfn_hi) {
    auto it = ranges_.upper_bound(pfn_hi);
    while (it != ranges_.begin()) {
        auto prev = std::prev(it);
        if (prev->second < pfn_lo) break;
        pfn_lo = std::min(pfn_lo, prev->first);
        pfn_hi = std::max(pfn_hi, prev->second);
        ranges_.erase(prev);
    }
    ranges_[pfn_lo] = pfn_hi;
}

}  // namespace ioatsim::sw
