// The simulator's seeded random numbers: splitmix64, the same stream on every
// platform and library (std:: distributions are not), so a seed gives one run.
#pragma once
#include <cstdint>

namespace ioatsim::sw {

struct splitmix64 {
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    uint32_t next32() { return uint32_t(next() >> 32); }
    uint64_t below(uint64_t n) { return n ? next() % n : 0; }
    bool chance(double p) { return double(next() >> 11) * 0x1.0p-53 < p; }
};

}  // namespace ioatsim::sw
