// Pure C++ on purpose: the channel engine (SystemC) calls in, nothing here waits.
#include "models/ioat/ops.h"

#include "models/ioat/descriptor.h"
#include "models/ioat/regs.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstring>
#include <vector>

namespace ioatsim::models::ioat_ops {
using namespace ioat;

namespace {

// Bounded working set for 1 MiB descriptors; a multiple of 8 keeps FILL's pattern
// aligned at every chunk start.
constexpr uint64_t CHUNK = 4096;

uint64_t le64(const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);  // x86 host, little endian like the descriptor
    return v;
}
uint32_t le32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

struct gf_tables {
    uint8_t exp[510];  // doubled so exp[log a + log b] needs no modulo
    uint8_t log[256];
};

const gf_tables& gf() {
    static const gf_tables t = [] {
        gf_tables g{};
        unsigned v = 1;
        for (unsigned i = 0; i < 255; ++i) {
            g.exp[i] = g.exp[i + 255] = uint8_t(v);
            g.log[v] = uint8_t(i);
            v <<= 1;
            if (v & 0x100) v ^= 0x11d;
        }
        return g;
    }();
    return t;
}

unsigned source_count(uint32_t ctl) { return ((ctl & SRC_CNT_MASK) >> SRC_CNT_SHIFT) + 2; }

bool is_xor(uint8_t op) { return op == OP_XOR || op == OP_XOR_VAL; }
bool is_pq(uint8_t op) { return op == OP_PQ || op == OP_PQ_VAL; }

// Source slots in frame order (hw.h): 0x40 + x is offset x of the extension frame.
constexpr unsigned XOR_SRC_OFF[MAX_SOURCES] = {0x08, 0x20, 0x28, 0x30, 0x38, 0x40, 0x48, 0x50};
constexpr unsigned PQ_SRC_OFF[MAX_SOURCES] = {0x08, 0x20, 0x28, 0x40, 0x48, 0x50, 0x60, 0x68};

// Turns mem_if faults into CHANERR bits and counts what moved.
struct port {
    mem_if& mem;
    result& r;

    bool read(uint64_t addr, uint8_t* buf, uint64_t len) {
        fault f = mem.read(addr, buf, len);
        if (f == fault::none) {
            r.bytes_read += len;
            return true;
        }
        r.chanerr = f == fault::address ? CHANERR_SRC_ADDR : CHANERR_READ_DATA;
        r.fault_addr = addr;
        return false;
    }
    bool write(uint64_t addr, const uint8_t* buf, uint64_t len) {
        fault f = mem.write(addr, buf, len);
        if (f == fault::none) {
            r.bytes_written += len;
            return true;
        }
        r.chanerr = f == fault::address ? CHANERR_DEST_ADDR : CHANERR_WRITE_DATA;
        r.fault_addr = addr;
        return false;
    }
};

void copy(uint64_t src, uint64_t dst, uint64_t size, port& io) {
    // The data buffer, reused: execute() never waits (its reads are
    // b_transport calls that only add delay), so two channels cannot meet here.
    static std::vector<uint8_t> buf;
    if (buf.size() < std::min(size, CHUNK)) buf.resize(std::min(size, CHUNK));
    for (uint64_t off = 0; off < size; off += CHUNK) {
        uint64_t n = std::min(CHUNK, size - off);
        if (!io.read(src + off, buf.data(), n) || !io.write(dst + off, buf.data(), n)) return;
    }
}

void fill(uint64_t pattern, uint64_t dst, uint64_t size, port& io) {
    std::vector<uint8_t> buf(std::min(size, CHUNK));
    for (size_t i = 0; i < buf.size(); ++i) buf[i] = uint8_t(pattern >> (8 * (i % 8)));
    for (uint64_t off = 0; off < size; off += CHUNK)
        if (!io.write(dst + off, buf.data(), std::min(CHUNK, size - off))) return;
}

// What a parity descriptor asks for. XOR is the P half of PQ with dst as p_addr.
struct parity_job {
    unsigned nsrc = 0;
    uint64_t src[MAX_SOURCES] = {};
    const uint8_t* coef = nullptr;  // Q coefficients; null when Q is not wanted
    bool want_p = false;
    uint64_t p_addr = 0, q_addr = 0;
    bool validate = false;          // compare with p_addr/q_addr instead of writing
};

void parity(const parity_job& job, uint64_t size, port& io) {
    uint64_t cap = std::min(size, CHUNK);
    std::vector<uint8_t> in(cap), p(cap), q(cap);
    auto differs = [&](const uint8_t* want, uint64_t n) { return std::memcmp(in.data(), want, n) != 0; };
    for (uint64_t off = 0; off < size; off += CHUNK) {
        uint64_t n = std::min(CHUNK, size - off);
        std::fill(p.begin(), p.end(), 0);
        std::fill(q.begin(), q.end(), 0);
        for (unsigned s = 0; s < job.nsrc; ++s) {
            if (!io.read(job.src[s] + off, in.data(), n)) return;
            xor_into(p.data(), in.data(), n);
            if (job.coef) gf_mul_xor(job.coef[s], in.data(), q.data(), n);
        }
        if (job.validate) {
            if (job.want_p) {
                if (!io.read(job.p_addr + off, in.data(), n)) return;
                io.r.p_mismatch |= differs(p.data(), n);
            }
            if (job.coef) {
                if (!io.read(job.q_addr + off, in.data(), n)) return;
                io.r.q_mismatch |= differs(q.data(), n);
            }
        } else {
            if (job.want_p && !io.write(job.p_addr + off, p.data(), n)) return;
            if (job.coef && !io.write(job.q_addr + off, q.data(), n)) return;
        }
    }
}

}  // namespace

unsigned frames(const uint8_t* first_frame) {
    uint32_t ctl = le32(first_frame + 4);
    uint8_t op = uint8_t(ctl >> DESC_OP_SHIFT);
    unsigned nsrc = source_count(ctl);
    if (is_xor(op)) return nsrc > 5 ? 2 : 1;
    if (is_pq(op)) return nsrc > 3 ? 2 : 1;
    return 1;
}

result execute(const uint8_t* raw, uint64_t max_len, mem_if& mem) {
    result r;
    uint32_t size = le32(raw);
    uint32_t ctl = le32(raw + 4);
    uint8_t op = uint8_t(ctl >> DESC_OP_SHIFT);
    bool parity_op = is_xor(op) || is_pq(op);

    // Checks the hardware makes on the descriptor itself, before moving any data.
    if (!parity_op && op != OP_COPY && op != OP_FILL) {
        r.chanerr = CHANERR_DESC_CTRL;
        return r;
    }
    if (parity_op && source_count(ctl) > MAX_SOURCES) {
        r.chanerr = CHANERR_DESC_CTRL;
        return r;
    }
    if (size == 0 || size > max_len) {
        r.chanerr = CHANERR_LEN;
        return r;
    }

    port io{mem, r};
    uint64_t a08 = le64(raw + 0x08), a10 = le64(raw + 0x10);
    if (op == OP_COPY) {
        copy(a08, a10, size, io);
        return r;
    }
    if (op == OP_FILL) {
        fill(a08, a10, size, io);
        return r;
    }

    parity_job job;
    job.nsrc = source_count(ctl);
    const unsigned* offs = is_xor(op) ? XOR_SRC_OFF : PQ_SRC_OFF;
    for (unsigned s = 0; s < job.nsrc; ++s) job.src[s] = le64(raw + offs[s]);
    job.p_addr = a10;  // XOR dst and PQ p_addr share offset 0x10
    job.validate = op == OP_XOR_VAL || op == OP_PQ_VAL;
    if (is_xor(op)) {
        job.want_p = true;
    } else {
        job.want_p = !(ctl & PQ_P_DISABLE);
        if (!(ctl & PQ_Q_DISABLE)) job.coef = raw + 0x30;
        job.q_addr = le64(raw + 0x38);
    }
    parity(job, size, io);
    return r;
}

uint8_t gf_mul(uint8_t a, uint8_t b) {
    if (!a || !b) return 0;
    const gf_tables& t = gf();
    return t.exp[t.log[a] + t.log[b]];
}

uint8_t gf_exp(unsigned i) { return gf().exp[i % 255]; }

namespace {
#if defined(__x86_64__)
__attribute__((target("avx2"))) uint64_t gf_mul_xor_avx2(const uint8_t* lo, const uint8_t* hi, const uint8_t* src,
                                                         uint8_t* dst, uint64_t n) {
    const __m256i tl = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(lo)));
    const __m256i th = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(hi)));
    const __m256i nib = _mm256_set1_epi8(0x0f);
    uint64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i));
        const __m256i l = _mm256_shuffle_epi8(tl, _mm256_and_si256(x, nib));
        const __m256i h = _mm256_shuffle_epi8(th, _mm256_and_si256(_mm256_srli_epi64(x, 4), nib));
        __m256i* d = reinterpret_cast<__m256i*>(dst + i);
        _mm256_storeu_si256(d, _mm256_xor_si256(_mm256_loadu_si256(d), _mm256_xor_si256(l, h)));
    }
    return i;
}
__attribute__((target("avx2"))) uint64_t xor_avx2(uint8_t* dst, const uint8_t* src, uint64_t n) {
    uint64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i* d = reinterpret_cast<__m256i*>(dst + i);
        const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i));
        _mm256_storeu_si256(d, _mm256_xor_si256(_mm256_loadu_si256(d), x));
    }
    return i;
}
const bool has_avx2 = __builtin_cpu_supports("avx2");
#else
uint64_t gf_mul_xor_avx2(const uint8_t*, const uint8_t*, const uint8_t*, uint8_t*, uint64_t) { return 0; }
uint64_t xor_avx2(uint8_t*, const uint8_t*, uint64_t) { return 0; }
const bool has_avx2 = false;
#endif
}  // namespace

void gf_mul_xor(uint8_t c, const uint8_t* src, uint8_t* dst, uint64_t n) {
    if (!c) return;
    alignas(16) uint8_t lo[16], hi[16];
    for (unsigned v = 0; v < 16; ++v) {
        lo[v] = gf_mul(c, uint8_t(v));
        hi[v] = gf_mul(c, uint8_t(v << 4));
    }
    uint64_t i = has_avx2 ? gf_mul_xor_avx2(lo, hi, src, dst, n) : 0;
    for (; i < n; ++i) dst[i] ^= uint8_t(lo[src[i] & 15] ^ hi[src[i] >> 4]);
}

void xor_into(uint8_t* dst, const uint8_t* src, uint64_t n) {
    uint64_t i = has_avx2 ? xor_avx2(dst, src, n) : 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t a, b;
        std::memcpy(&a, dst + i, 8);
        std::memcpy(&b, src + i, 8);
        a ^= b;
        std::memcpy(dst + i, &a, 8);
    }
    for (; i < n; ++i) dst[i] ^= src[i];
}

}  // namespace ioatsim::models::ioat_ops
