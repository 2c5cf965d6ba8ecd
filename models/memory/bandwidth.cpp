#include "models/memory/bandwidth.h"

#include <algorithm>
#include <cmath>

namespace ioatsim::models {

bandwidth::bandwidth(double gbytes_per_s, uint64_t window_ps)
    : rate_(gbytes_per_s), window_(window_ps),
      capacity_(std::max<uint64_t>(1, uint64_t(std::llround(gbytes_per_s * double(window_ps) / 1000.0)))) {}

uint64_t bandwidth::finish(uint64_t at_ps, uint64_t bytes, uint64_t busy_ps) {
    bytes += uint64_t(std::llround(double(busy_ps) * rate_ / 1000.0));
    if (!bytes) return at_ps;
    // Windows far behind the request are done with: no request will be
    // stamped that early again (software runs at most a quantum ahead).
    while (!used_.empty() && used_.begin()->first + 64 < at_ps / window_) used_.erase(used_.begin());
    uint64_t w = at_ps / window_, left = bytes, end = at_ps;
    while (left) {
        uint64_t& used = used_[w];
        uint64_t start = std::max(at_ps, w * window_);
        // What is left of this window from `start`, at most what the window still has.
        uint64_t room = std::min(capacity_ - std::min(used, capacity_),
                                 uint64_t(double((w + 1) * window_ - start) * rate_ / 1000.0));
        uint64_t take = std::min(room, left);
        used += take;
        left -= take;
        end = std::max(start, w * window_) + uint64_t(std::ceil(double(take) * 1000.0 / rate_));
        if (left) ++w;
    }
    return std::max(end, at_ps + uint64_t(std::ceil(double(bytes) * 1000.0 / rate_)));
}

}  // namespace ioatsim::models
