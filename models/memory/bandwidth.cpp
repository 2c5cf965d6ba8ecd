#include "models/memory/bandwidth.h"

#include <algorithm>
#include <cmath>

namespace ioatsim::models {

bandwidth::bandwidth(double gbytes_per_s, uint64_t window_ps)
    : rate_(gbytes_per_s), window_(window_ps),
      capacity_(std::max<uint64_t>(1, uint64_t(std::llround(gbytes_per_s * double(window_ps) / 1000.0)))) {}

// Room for `need` windows, the kept ones first.
void bandwidth::grow(size_t need) {
    size_t cap = ring_.size();
    while (cap < need) cap *= 2;
    if (cap == ring_.size()) return;
    std::vector<uint64_t> r(cap, 0);
    for (size_t k = 0; k < n_; ++k) r[k] = ring_[(head_ + k) & (ring_.size() - 1)];
    ring_.swap(r);
    head_ = 0;
}

// The count of window w, kept from the oldest window still in use on.
uint64_t& bandwidth::used(uint64_t w) {
    if (!n_) first_ = w;
    if (w < first_) {  // before every window kept: it starts empty, as a window dropped does
        const size_t add = size_t(first_ - w);
        grow(n_ + add);
        const size_t mask = ring_.size() - 1;
        head_ = (head_ - add) & mask;
        for (size_t k = 0; k < add; ++k) ring_[(head_ + k) & mask] = 0;
        n_ += add;
        first_ = w;
    } else if (w - first_ >= n_) {
        const size_t want = size_t(w - first_) + 1;
        grow(want);
        const size_t mask = ring_.size() - 1;
        for (size_t k = n_; k < want; ++k) ring_[(head_ + k) & mask] = 0;
        n_ = want;
    }
    return ring_[(head_ + size_t(w - first_)) & (ring_.size() - 1)];
}

uint64_t bandwidth::finish(uint64_t at_ps, uint64_t bytes, uint64_t busy_ps) {
    bytes += uint64_t(std::llround(double(busy_ps) * rate_ / 1000.0));
    if (!bytes) return at_ps;
    // Windows far behind the request are done with: no request will be
    // stamped that early again (software runs at most a quantum ahead).
    uint64_t w = at_ps / window_, left = bytes, end = at_ps;
    if (n_ && first_ + 64 < w) {
        const uint64_t drop = std::min<uint64_t>(n_, w - 64 - first_);
        head_ = (head_ + size_t(drop)) & (ring_.size() - 1);
        n_ -= size_t(drop);
        first_ += drop;
    }
    while (left) {
        uint64_t& u = used(w);
        uint64_t start = std::max(at_ps, w * window_);
        // What is left of this window from `start`, at most what the window still has.
        uint64_t room = std::min(capacity_ - std::min(u, capacity_),
                                 uint64_t(double((w + 1) * window_ - start) * rate_ / 1000.0));
        uint64_t take = std::min(room, left);
        u += take;
        left -= take;
        end = std::max(start, w * window_) + uint64_t(std::ceil(double(take) * 1000.0 / rate_));
        if (left) ++w;
    }
    return std::max(end, at_ps + uint64_t(std::ceil(double(bytes) * 1000.0 / rate_)));
}

}  // namespace ioatsim::models
