// Data side of the CB3 engine's operations (ioat-hardware.md §4, §7): COPY, FILL,
// XOR, XOR_VAL, PQ, PQ_VAL as pure functions over an abstract memory, so the
// SystemC channel keeps timing and bus access and this part stays testable alone.
// Layouts follow Linux hw.h (ioat_xor_descriptor, ioat_pq_descriptor and their
// extension frames).
#pragma once
#include <cstdint>

namespace ioatsim::models::ioat_ops {

// Why an access failed. The driver treats data errors (CHANERR bits 8/9) as
// recoverable and address errors (bits 0/1) as fatal, so the two must stay apart.
enum class fault : uint8_t { none, address, data };

struct mem_if {  // the channel's DMA port
    virtual ~mem_if() = default;
    virtual fault read(uint64_t addr, uint8_t* buf, uint64_t len) = 0;
    virtual fault write(uint64_t addr, const uint8_t* buf, uint64_t len) = 0;
};

// ctl fields of XOR/PQ descriptors; bits 7:5 replace null/src_brk/dest_brk there.
constexpr unsigned SRC_CNT_SHIFT = 5;
constexpr uint32_t SRC_CNT_MASK = 0x7u << SRC_CNT_SHIFT;
constexpr uint32_t PQ_P_DISABLE = 1u << 11, PQ_Q_DISABLE = 1u << 12;
constexpr unsigned MAX_SOURCES = 8;  // CB3 handles 2..8; src_cnt 7 (9 sources) is invalid

// How many 64-byte ring frames this descriptor occupies (2 when an extension
// frame follows: XOR with more than 5 sources, PQ with more than 3).
unsigned frames(const uint8_t* first_frame);

struct result {
    uint32_t chanerr = 0;       // CHANERR bit of a fault (ioat::CHANERR_*), 0 if none
    uint64_t fault_addr = 0;    // start of the faulting access (0 for LEN/DESC_CTRL)
    bool p_mismatch = false;    // XOR_VAL / PQ_VAL results, not faults
    bool q_mismatch = false;
    uint64_t bytes_read = 0, bytes_written = 0;  // successful accesses, for timing
};

// Executes one COPY, FILL, XOR, XOR_VAL, PQ or PQ_VAL descriptor; `raw` holds
// frames(raw) * 64 bytes, `max_len` is 1 << XFERCAP. Errors: unknown op or bad
// src_cnt -> CHANERR_DESC_CTRL, size 0 or > max_len -> CHANERR_LEN (all checked
// before any access); a read fault -> CHANERR_SRC_ADDR / CHANERR_READ_DATA, a write
// fault -> CHANERR_DEST_ADDR / CHANERR_WRITE_DATA, stopping at that chunk (earlier
// chunks stay written). Null descriptors are the caller's job: ctl bit 5 means
// null only for COPY, it is src_cnt bit 0 for XOR/PQ.
result execute(const uint8_t* raw, uint64_t max_len, mem_if& mem);

// GF(2^8) of Linux raid6: polynomial 0x11d, generator {02}.
uint8_t gf_mul(uint8_t a, uint8_t b);
uint8_t gf_exp(unsigned i);  // {02}^i, the kernel's raid6_gfexp (period 255)
// dst[i] ^= c * src[i] for n bytes: Q's inner loop. Multiplication is linear
// over XOR, so c * x = c * (x & 15) ^ c * (x & 240): two 16-entry tables, 32
// bytes a step with AVX2 (chosen at run time), a table look-up a byte without;
// the same bytes either way.
void gf_mul_xor(uint8_t c, const uint8_t* src, uint8_t* dst, uint64_t n);
// dst[i] ^= src[i] for n bytes: P's inner loop and the CPU's XOR, 32 bytes a
// step with AVX2, a 64-bit word without (-O2 leaves a byte loop unvectorised).
void xor_into(uint8_t* dst, const uint8_t* src, uint64_t n);

}  // namespace ioatsim::models::ioat_ops
