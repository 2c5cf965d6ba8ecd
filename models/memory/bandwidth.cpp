#include "models/memory/bandwidth.h"

#include <algorithm>
#include <cmath>

namespace ioatsim::models {

bandwidth::bandwidth(double gbytes_per_s, uint64_t window_ps)
    : rate_(gbytes_per_s), window_(window_ps),
      capacity_(std::max<uint64_t>(1, uint64_t(std::llround(gbytes_per_s * double(window_ps) / 1000.0)))) {}

// The count of window w, kept from the oldest window still in use on.
uint64_t& bandwidth::used(uint64_t w) {
    if (used_.empty()) first_ = w;
    if (w < first_) {  // before every window kept: it starts empty, as a window dropped does
        used_.insert(used_.begin(), first_ - w, 0);
        first_ = w;
    }
    if (w - first_ >= used_.size()) used_.resize(w - first_ + 1, 0);
    return used_[w - first_];
}

uint64_t bandwidth::finish(uint64_t at_ps, uint64_t bytes, uint64_t busy_ps) {
    bytes += uint64_t(std::llround(double(busy_ps) * rate_ / 1000.0));
    if (!bytes) return at_ps;
    // Windows far behind the request are done with: no request will be
    // stamped that early again (software runs at most a quantum ahead).
    uint64_t w = at_ps / window_, left = bytes, end = at_ps;
    while (!used_.empty() && first_ + 64 < w) {
        used_.pop_front();
        ++first_;
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
