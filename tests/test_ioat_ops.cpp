// The engine's data operations against a plain vector-backed memory, checked with
// independent code: bytewise loops for XOR, a bitwise GF(2^8) multiply for PQ, and
// a raid6 two-disk recovery for consistency with the kernel's field.
#include "models/ioat/ops.h"

#include "models/ioat/descriptor.h"
#include "models/ioat/regs.h"

#include "tests/gf_reference.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

using namespace ioatsim::ioat;
using namespace ioatsim::models::ioat_ops;

namespace {

constexpr uint64_t MEM_SIZE = 4 << 20;
constexpr uint64_t MAX_LEN = 1 << 20;  // XFERCAP 20
constexpr uint32_t LEN = 9001;         // crosses two chunk boundaries, ragged tail

// Flat memory at address 0; one optional range faults with a chosen kind, and
// anything outside the vector is an address fault.
struct test_mem : mem_if {
    std::vector<uint8_t> m = std::vector<uint8_t>(MEM_SIZE);
    uint64_t bad_lo = 0, bad_hi = 0;
    fault bad_kind = fault::address;
    unsigned accesses = 0;

    fault check(uint64_t addr, uint64_t len) {
        ++accesses;
        if (addr + len > m.size()) return fault::address;
        if (addr < bad_hi && addr + len > bad_lo) return bad_kind;
        return fault::none;
    }
    fault read(uint64_t addr, uint8_t* buf, uint64_t len) override {
        fault f = check(addr, len);
        if (f == fault::none) std::memcpy(buf, &m[addr], len);
        return f;
    }
    fault write(uint64_t addr, const uint8_t* buf, uint64_t len) override {
        fault f = check(addr, len);
        if (f == fault::none) std::memcpy(&m[addr], buf, len);
        return f;
    }
    void random(uint64_t addr, uint64_t len, uint32_t seed) {
        std::mt19937 rng(seed);
        for (uint64_t i = 0; i < len; ++i) m[addr + i] = uint8_t(rng());
    }
    std::vector<uint8_t> block(uint64_t addr, uint64_t len) const {
        return {m.begin() + addr, m.begin() + addr + len};
    }
};

// A descriptor of up to two frames, built field by field.
struct desc {
    uint8_t raw[128] = {};
    desc(uint8_t op, uint32_t size, uint32_t ctl_bits = 0) {
        put32(0, size);
        put32(4, uint32_t(op) << DESC_OP_SHIFT | ctl_bits);
    }
    void put32(unsigned off, uint32_t v) { std::memcpy(raw + off, &v, 4); }
    void put64(unsigned off, uint64_t v) { std::memcpy(raw + off, &v, 8); }
};

// Addresses of source i, the destination, P and Q; 64 KiB apart, all in test_mem.
uint64_t src_at(unsigned i) { return 0x100000 + 0x10000 * uint64_t(i); }
constexpr uint64_t DST = 0x200000, P_ADDR = 0x210000, Q_ADDR = 0x220000;

uint32_t src_cnt_bits(unsigned nsrc) { return (nsrc - 2) << SRC_CNT_SHIFT; }

desc xor_desc(uint8_t op, unsigned nsrc, uint32_t len) {
    static const unsigned off[] = {0x08, 0x20, 0x28, 0x30, 0x38, 0x40, 0x48, 0x50};
    desc d(op, len, src_cnt_bits(nsrc));
    d.put64(0x10, DST);
    for (unsigned i = 0; i < nsrc; ++i) d.put64(off[i], src_at(i));
    return d;
}

desc pq_desc(uint8_t op, unsigned nsrc, uint32_t len, const uint8_t* coef, uint32_t extra = 0) {
    static const unsigned off[] = {0x08, 0x20, 0x28, 0x40, 0x48, 0x50, 0x60, 0x68};
    desc d(op, len, src_cnt_bits(nsrc) | extra);
    d.put64(0x10, P_ADDR);
    d.put64(0x38, Q_ADDR);
    std::memcpy(d.raw + 0x30, coef, nsrc);
    for (unsigned i = 0; i < nsrc; ++i) d.put64(off[i], src_at(i));
    return d;
}


uint8_t inverse(uint8_t a) {
    for (unsigned b = 1; b < 256; ++b)
        if (gf_mul(a, uint8_t(b)) == 1) return uint8_t(b);
    return 0;
}

void fill_sources(test_mem& mem, unsigned nsrc, uint32_t len) {
    for (unsigned i = 0; i < nsrc; ++i) mem.random(src_at(i), len, 100 + i);
}

// P and Q of the sources, computed bytewise with slow_mul.
void textbook_pq(const test_mem& mem, unsigned nsrc, uint32_t len, const uint8_t* coef,
                 std::vector<uint8_t>& p, std::vector<uint8_t>& q) {
    p.assign(len, 0);
    q.assign(len, 0);
    for (unsigned s = 0; s < nsrc; ++s)
        for (uint32_t i = 0; i < len; ++i) {
            uint8_t v = mem.m[src_at(s) + i];
            p[i] ^= v;
            q[i] ^= slow_mul(coef[s], v);
        }
}

const uint8_t COEF[8] = {0x01, 0x02, 0x8e, 0x1d, 0xff, 0x35, 0x00, 0xc7};

}  // namespace

TEST_CASE("gf: raid6 field identities") {
    CHECK(gf_exp(0) == 1);
    CHECK(gf_exp(1) == 2);
    CHECK(gf_exp(8) == 0x1d);    // x^8 = x^4+x^3+x^2+1 under 0x11d
    CHECK(gf_exp(9) == 0x3a);
    CHECK(gf_exp(255) == 1);     // {02} has order 255
    CHECK(gf_mul(2, 0x8e) == 1); // the kernel's raid6_gfinv[2]
    unsigned bad_mul = 0, bad_comm = 0, no_inverse = 0, bad_identity = 0;
    for (unsigned a = 0; a < 256; ++a) {
        if (gf_mul(uint8_t(a), 1) != a || gf_mul(uint8_t(a), 0) != 0) ++bad_identity;
        if (a && !inverse(uint8_t(a))) ++no_inverse;
        for (unsigned b = 0; b < 256; ++b) {
            if (gf_mul(uint8_t(a), uint8_t(b)) != slow_mul(uint8_t(a), uint8_t(b))) ++bad_mul;
            if (gf_mul(uint8_t(a), uint8_t(b)) != gf_mul(uint8_t(b), uint8_t(a))) ++bad_comm;
        }
    }
    CHECK(bad_identity == 0);
    CHECK(no_inverse == 0);
    CHECK(bad_mul == 0);
    CHECK(bad_comm == 0);
    // {02} generates the field: its 255 powers are the 255 non-zero elements.
    std::vector<bool> seen(256);
    for (unsigned i = 0; i < 255; ++i) seen[gf_exp(i)] = true;
    CHECK(!seen[0]);
    CHECK(std::count(seen.begin(), seen.end(), true) == 255);
}

TEST_CASE("gf: a buffer's multiply-accumulate equals the byte-wise textbook product, every constant, any length") {
    // 1000 bytes: 31 AVX2 steps and an 8-byte tail; 7 bytes: the tail alone.
    std::vector<uint8_t> src(1000);
    for (size_t i = 0; i < src.size(); ++i) src[i] = uint8_t(i * 131 + (i >> 3));
    unsigned wrong = 0;
    for (unsigned c = 0; c < 256; ++c)
        for (size_t n : {size_t(1000), size_t(7)}) {
            std::vector<uint8_t> dst(n), want(n);
            for (size_t i = 0; i < n; ++i) dst[i] = want[i] = uint8_t(i ^ c);
            for (size_t i = 0; i < n; ++i) want[i] ^= slow_mul(uint8_t(c), src[i]);
            gf_mul_xor(uint8_t(c), src.data(), dst.data(), n);
            wrong += dst != want;
        }
    CHECK(wrong == 0);
}

TEST_CASE("frames: extension frame only past 5 XOR or 3 PQ sources") {
    CHECK(frames(desc(OP_COPY, 64).raw) == 1);
    CHECK(frames(desc(OP_FILL, 64).raw) == 1);
    for (uint8_t op : {OP_XOR, OP_XOR_VAL})
        for (unsigned n = 2; n <= 8; ++n) {
            CAPTURE(unsigned(op));
            CAPTURE(n);
            CHECK(frames(xor_desc(op, n, 64).raw) == (n > 5 ? 2u : 1u));
        }
    for (uint8_t op : {OP_PQ, OP_PQ_VAL})
        for (unsigned n = 2; n <= 8; ++n) {
            CAPTURE(unsigned(op));
            CAPTURE(n);
            CHECK(frames(pq_desc(op, n, 64, COEF).raw) == (n > 3 ? 2u : 1u));
        }
    // ctl bit 5 is src_cnt for parity ops but null/reserved for COPY: no effect there.
    CHECK(frames(desc(OP_COPY, 1, 0xe0).raw) == 1);
}

TEST_CASE("copy: moves the block across chunks and nothing beyond") {
    test_mem mem;
    mem.random(src_at(0), LEN + 16, 1);
    desc d(OP_COPY, LEN);
    d.put64(0x08, src_at(0));
    d.put64(0x10, DST);
    result r = execute(d.raw, MAX_LEN, mem);
    CHECK(r.chanerr == 0);
    CHECK(mem.block(DST, LEN) == mem.block(src_at(0), LEN));
    CHECK(mem.m[DST + LEN] == 0);
    CHECK(r.bytes_read == LEN);
    CHECK(r.bytes_written == LEN);
}

TEST_CASE("fill: byte i of the destination is pattern byte i % 8") {
    test_mem mem;
    desc d(OP_FILL, LEN);
    d.put64(0x08, 0x8877665544332211ull);
    d.put64(0x10, DST + 3);  // unaligned destination: the pattern follows the offset
    result r = execute(d.raw, MAX_LEN, mem);
    CHECK(r.chanerr == 0);
    unsigned wrong = 0;
    for (uint32_t i = 0; i < LEN; ++i)
        if (mem.m[DST + 3 + i] != 0x11 * (i % 8 + 1)) ++wrong;
    CHECK(wrong == 0);
    CHECK(mem.m[DST + 2] == 0);
    CHECK(mem.m[DST + 3 + LEN] == 0);
    CHECK(r.bytes_read == 0);
    CHECK(r.bytes_written == LEN);
}

TEST_CASE("xor: 2, 5 and 8 sources equal a plain loop") {
    for (unsigned n : {2u, 5u, 8u}) {
        CAPTURE(n);
        test_mem mem;
        fill_sources(mem, n, LEN);
        std::vector<uint8_t> want(LEN, 0);
        for (unsigned s = 0; s < n; ++s)
            for (uint32_t i = 0; i < LEN; ++i) want[i] ^= mem.m[src_at(s) + i];
        result r = execute(xor_desc(OP_XOR, n, LEN).raw, MAX_LEN, mem);
        CHECK(r.chanerr == 0);
        CHECK(mem.block(DST, LEN) == want);
        CHECK(r.bytes_read == uint64_t(n) * LEN);
        CHECK(r.bytes_written == LEN);
    }
}

TEST_CASE("xor_val: zero sum matches, one flipped byte mismatches, nothing written") {
    test_mem mem;
    const unsigned n = 7;
    fill_sources(mem, n, LEN);
    REQUIRE(execute(xor_desc(OP_XOR, n, LEN).raw, MAX_LEN, mem).chanerr == 0);
    auto before = mem.m;

    result ok = execute(xor_desc(OP_XOR_VAL, n, LEN).raw, MAX_LEN, mem);
    CHECK(ok.chanerr == 0);
    CHECK(!ok.p_mismatch);
    CHECK(!ok.q_mismatch);
    CHECK(ok.bytes_read == uint64_t(n + 1) * LEN);
    CHECK(ok.bytes_written == 0);
    CHECK(mem.m == before);

    mem.m[src_at(3) + LEN - 1] ^= 0x40;  // last byte, in the ragged last chunk
    before = mem.m;
    result bad = execute(xor_desc(OP_XOR_VAL, n, LEN).raw, MAX_LEN, mem);
    CHECK(bad.chanerr == 0);
    CHECK(bad.p_mismatch);
    CHECK(!bad.q_mismatch);
    CHECK(mem.m == before);
}

TEST_CASE("pq: 3 and 6 sources equal a textbook P and Q") {
    for (unsigned n : {3u, 6u}) {
        CAPTURE(n);
        test_mem mem;
        fill_sources(mem, n, LEN);
        std::vector<uint8_t> p, q;
        textbook_pq(mem, n, LEN, COEF, p, q);
        result r = execute(pq_desc(OP_PQ, n, LEN, COEF).raw, MAX_LEN, mem);
        CHECK(r.chanerr == 0);
        CHECK(mem.block(P_ADDR, LEN) == p);
        CHECK(mem.block(Q_ADDR, LEN) == q);
        CHECK(r.bytes_read == uint64_t(n) * LEN);
        CHECK(r.bytes_written == 2ull * LEN);
    }
}

TEST_CASE("pq: raid6 recovery of two lost data blocks from engine P/Q") {
    const unsigned n = 8;
    const unsigned x = 2, y = 6;  // the two failed disks
    test_mem mem;
    fill_sources(mem, n, LEN);
    uint8_t coef[n];
    for (unsigned i = 0; i < n; ++i) coef[i] = gf_exp(i);  // the kernel's Q syndrome
    REQUIRE(execute(pq_desc(OP_PQ, n, LEN, coef).raw, MAX_LEN, mem).chanerr == 0);
    auto dx_orig = mem.block(src_at(x), LEN), dy_orig = mem.block(src_at(y), LEN);
    std::memset(&mem.m[src_at(x)], 0, LEN);
    std::memset(&mem.m[src_at(y)], 0, LEN);

    // Pxy = Dx + Dy and Qxy = g^x Dx + g^y Dy from the survivors; then
    // Dx = (Qxy + g^y Pxy) / (g^x + g^y) and Dy = Pxy + Dx.
    uint8_t denom_inv = inverse(gf_exp(x) ^ gf_exp(y));
    REQUIRE(denom_inv != 0);
    std::vector<uint8_t> dx(LEN), dy(LEN);
    for (uint32_t i = 0; i < LEN; ++i) {
        uint8_t pxy = mem.m[P_ADDR + i], qxy = mem.m[Q_ADDR + i];
        for (unsigned s = 0; s < n; ++s) {
            if (s == x || s == y) continue;
            pxy ^= mem.m[src_at(s) + i];
            qxy ^= gf_mul(gf_exp(s), mem.m[src_at(s) + i]);
        }
        dx[i] = gf_mul(uint8_t(qxy ^ gf_mul(gf_exp(y), pxy)), denom_inv);
        dy[i] = pxy ^ dx[i];
    }
    CHECK(dx == dx_orig);
    CHECK(dy == dy_orig);
}

TEST_CASE("pq_val: match, P-only and Q-only mismatch, nothing written") {
    const unsigned n = 5;
    test_mem mem;
    fill_sources(mem, n, LEN);
    REQUIRE(execute(pq_desc(OP_PQ, n, LEN, COEF).raw, MAX_LEN, mem).chanerr == 0);
    auto val = [&] {
        auto before = mem.m;
        result r = execute(pq_desc(OP_PQ_VAL, n, LEN, COEF).raw, MAX_LEN, mem);
        CHECK(r.chanerr == 0);
        CHECK(r.bytes_written == 0);
        CHECK(mem.m == before);
        return r;
    };
    result ok = val();
    CHECK(!ok.p_mismatch);
    CHECK(!ok.q_mismatch);
    CHECK(ok.bytes_read == uint64_t(n + 2) * LEN);

    mem.m[P_ADDR + 5000] ^= 1;
    result p_bad = val();
    CHECK(p_bad.p_mismatch);
    CHECK(!p_bad.q_mismatch);
    mem.m[P_ADDR + 5000] ^= 1;

    mem.m[Q_ADDR + 17] ^= 0x80;
    result q_bad = val();
    CHECK(!q_bad.p_mismatch);
    CHECK(q_bad.q_mismatch);
}

TEST_CASE("pq: p_disable and q_disable skip that result") {
    const unsigned n = 4;
    test_mem mem;
    fill_sources(mem, n, LEN);
    std::vector<uint8_t> p, q;
    textbook_pq(mem, n, LEN, COEF, p, q);
    std::vector<uint8_t> sentinel(LEN, 0xa5);
    auto reset = [&] {
        std::memset(&mem.m[P_ADDR], 0xa5, LEN);
        std::memset(&mem.m[Q_ADDR], 0xa5, LEN);
    };

    reset();
    result r = execute(pq_desc(OP_PQ, n, LEN, COEF, PQ_P_DISABLE).raw, MAX_LEN, mem);
    CHECK(r.chanerr == 0);
    CHECK(mem.block(P_ADDR, LEN) == sentinel);
    CHECK(mem.block(Q_ADDR, LEN) == q);
    CHECK(r.bytes_written == LEN);

    reset();
    r = execute(pq_desc(OP_PQ, n, LEN, COEF, PQ_Q_DISABLE).raw, MAX_LEN, mem);
    CHECK(r.chanerr == 0);
    CHECK(mem.block(P_ADDR, LEN) == p);
    CHECK(mem.block(Q_ADDR, LEN) == sentinel);
    CHECK(r.bytes_written == LEN);

    // Validation ignores the disabled block: Q is right, P is garbage but disabled.
    reset();
    std::memcpy(&mem.m[Q_ADDR], q.data(), LEN);
    r = execute(pq_desc(OP_PQ_VAL, n, LEN, COEF, PQ_P_DISABLE).raw, MAX_LEN, mem);
    CHECK(!r.p_mismatch);
    CHECK(!r.q_mismatch);
    r = execute(pq_desc(OP_PQ_VAL, n, LEN, COEF, PQ_Q_DISABLE).raw, MAX_LEN, mem);
    CHECK(r.p_mismatch);
    CHECK(!r.q_mismatch);
}

TEST_CASE("errors: length, descriptor control, faults") {
    test_mem mem;
    fill_sources(mem, 8, 3 * 4096);

    SUBCASE("length 0 and over XFERCAP, before any access") {
        for (uint32_t bad : {0u, uint32_t(MAX_LEN + 1)}) {
            result r = execute(xor_desc(OP_XOR, 3, bad).raw, MAX_LEN, mem);
            CHECK(r.chanerr == CHANERR_LEN);
        }
        CHECK(mem.accesses == 0);
        desc fill(OP_FILL, MAX_LEN);  // exactly 1 << XFERCAP is allowed
        fill.put64(0x10, DST);
        result r = execute(fill.raw, MAX_LEN, mem);
        CHECK(r.chanerr == 0);
        CHECK(r.bytes_written == MAX_LEN);
    }
    SUBCASE("9 sources is a descriptor control error") {
        desc x = xor_desc(OP_XOR, 8, 64), p = pq_desc(OP_PQ_VAL, 8, 64, COEF);
        for (desc* d : {&x, &p}) {
            d->raw[4] |= SRC_CNT_MASK;  // src_cnt 7: 9 sources, no slot for the ninth
            CHECK(execute(d->raw, MAX_LEN, mem).chanerr == CHANERR_DESC_CTRL);
        }
        CHECK(mem.accesses == 0);
    }
    SUBCASE("unknown op is a descriptor control error") {
        for (uint8_t op : {uint8_t(0x02), uint8_t(OP_PQ_UPDATE), uint8_t(0xff)}) {
            CAPTURE(unsigned(op));
            CHECK(execute(desc(op, 64).raw, MAX_LEN, mem).chanerr == CHANERR_DESC_CTRL);
        }
        CHECK(mem.accesses == 0);
    }
    SUBCASE("read fault in the second chunk of source 2") {
        mem.bad_lo = src_at(1) + 5000;
        mem.bad_hi = mem.bad_lo + 1;
        result r = execute(xor_desc(OP_XOR, 4, 3 * 4096).raw, MAX_LEN, mem);
        CHECK(r.chanerr == CHANERR_SRC_ADDR);
        CHECK(r.fault_addr == src_at(1) + 4096);
        CHECK(r.bytes_written == 4096);  // chunk 1 completed before the fault
        mem.bad_kind = fault::data;
        CHECK(execute(xor_desc(OP_XOR, 4, 3 * 4096).raw, MAX_LEN, mem).chanerr ==
              CHANERR_READ_DATA);
    }
    SUBCASE("read fault on the stored Q of PQ_VAL") {
        mem.bad_lo = Q_ADDR;
        mem.bad_hi = Q_ADDR + 1;
        result r = execute(pq_desc(OP_PQ_VAL, 3, 64, COEF).raw, MAX_LEN, mem);
        CHECK(r.chanerr == CHANERR_SRC_ADDR);
        CHECK(r.fault_addr == Q_ADDR);
    }
    SUBCASE("write fault on the destination") {
        desc d(OP_COPY, 3 * 4096);
        d.put64(0x08, src_at(0));
        d.put64(0x10, DST);
        mem.bad_lo = DST + 3 * 4096 - 1;
        mem.bad_hi = DST + 3 * 4096;
        result r = execute(d.raw, MAX_LEN, mem);
        CHECK(r.chanerr == CHANERR_DEST_ADDR);
        CHECK(r.fault_addr == DST + 2 * 4096);
        CHECK(r.bytes_written == 2 * 4096);
        CHECK(mem.block(DST, 8192) == mem.block(src_at(0), 8192));
        mem.bad_kind = fault::data;
        CHECK(execute(d.raw, MAX_LEN, mem).chanerr == CHANERR_WRITE_DATA);
        // Q of a PQ faults on write too.
        mem.bad_lo = Q_ADDR;
        mem.bad_hi = Q_ADDR + 1;
        mem.bad_kind = fault::address;
        result q = execute(pq_desc(OP_PQ, 2, 64, COEF).raw, MAX_LEN, mem);
        CHECK(q.chanerr == CHANERR_DEST_ADDR);
        CHECK(q.fault_addr == Q_ADDR);
    }
}
