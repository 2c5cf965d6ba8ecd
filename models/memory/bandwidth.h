// A shared transfer capacity (an IOAT engine's data mover, a DRAM node, a QPI
// link): so many bytes per window of simulated time, handed out in the order
// they are asked for; a request that finds its window full spills into the
// next. Windows rather than one busy-until time keep a request stamped early
// from queueing behind one stamped later but asked first, as happens when
// software runs ahead of SystemC time by up to a quantum [inference: a fluid
// model of the link, exact over a window].
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ioatsim::models {

class bandwidth {
public:
    // `gbytes_per_s` GB/s; windows of `window_ps`.
    explicit bandwidth(double gbytes_per_s, uint64_t window_ps = 1'000'000);
    // When `bytes` asked for at `at_ps` are through (never before at_ps + bytes / rate).
    // `busy_ps`: time the request holds the link besides its bytes (a
    // descriptor's processing on the engine), charged as the bytes it could move.
    uint64_t finish(uint64_t at_ps, uint64_t bytes, uint64_t busy_ps = 0);
    double gbytes_per_s() const { return rate_; }

private:
    double rate_;
    uint64_t window_, capacity_;      // bytes per window
    // Bytes given out per window, windows first_ .. first_ + n_ - 1, in a ring
    // (a request spans few windows; a deque's bookkeeping cost more than the sum).
    uint64_t first_ = 0;
    std::vector<uint64_t> ring_ = std::vector<uint64_t>(16);  // a power of two long
    std::size_t head_ = 0, n_ = 0;
    uint64_t& used(uint64_t w);
    void grow(std::size_t need);
};

}  // namespace ioatsim::models
