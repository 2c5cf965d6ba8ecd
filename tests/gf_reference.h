// Textbook GF(2^8) multiply (shift and add, reduce by x^8+x^4+x^3+x^2+1 = 0x11d),
// with no tables: the reference the IOAT PQ tests check the model against.
#pragma once
#include <cstdint>

inline uint8_t slow_mul(uint8_t a, uint8_t b) {
    unsigned r = 0, x = a;
    for (; b; b >>= 1, x <<= 1) {
        if (x & 0x100) x ^= 0x11d;
        if (b & 1) r ^= x;
    }
    return uint8_t(r);
}
