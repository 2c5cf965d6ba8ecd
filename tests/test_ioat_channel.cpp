// The IOAT channel's behaviour through the sockets: the state machine and each
// operation end to end, with a fake initiator on BAR0, DMA to real DRAM models and
// MSI-X writes recorded. Registers and interrupts are in test_ioat_registers.cpp,
// the errors software can provoke in test_ioat_errors.cpp.
// Facts: shared/reference/ioat-hardware.md §2-§8.
#include "ioat_harness.h"
#include "models/ioat/ops.h"

#include "tests/gf_reference.h"

#include <doctest/doctest.h>

#include <cstring>
#include <functional>
#include <vector>

using namespace ioatsim;
using namespace ioatsim::models;
using namespace ioatsim::ioat;
using namespace ioatsim::harness::regbench;

namespace {

constexpr uint64_t RING2 = 0x18000;

uint32_t src_cnt(unsigned nsrc) { return (nsrc - 2) << ioat_ops::SRC_CNT_SHIFT; }
void put64(std::vector<uint8_t>& f, unsigned off, uint64_t v) { std::memcpy(&f[off], &v, 8); }
void put32(std::vector<uint8_t>& f, unsigned off, uint32_t v) { std::memcpy(&f[off], &v, 4); }

constexpr uint32_t OP_LEN = 4100;  // crosses the engine's 4 KiB working chunk
uint64_t src_at(unsigned i) { return SRC + 0x10000 * uint64_t(i); }

}  // namespace

// ---------------------------------------------------------------- channel states

TEST_CASE("state: power-on HALTED, first DMACOUNT -> ACTIVE -> DONE") {
    run_bench([](bench& b) {
        CHECK(b.rd(b.ch(CHANSTS), 8) == HALTED);
        b.pattern(SRC, 65536, 3);
        b.desc(RING, 65536, DESC_COMPL_WRITE, SRC, DST, RING + 64);  // about 13 us
        start(b, RING, 1);
        CHECK(b.status() == HALTED);  // the start takes about 1 us
        wait_us(5);
        CHECK(b.status() == ACTIVE);
        CHECK(b.word(CMP) == SENT);
        wait_us(20);
        CHECK(b.rd(b.ch(CHANSTS), 8) == (RING | DONE));
        CHECK(b.word(CMP) == (RING | DONE));
        CHECK(b.block(DST, 65536) == b.block(SRC, 65536));
    });
}

TEST_CASE("state: START with nothing to do goes to DONE, then DMACOUNT runs from CHAINADDR") {
    run_bench([](bench& b) {
        b.desc(RING, 1, DESC_NULL | DESC_COMPL_WRITE, 0, 0, RING + 64);
        program(b, RING);
        wait_us(2);
        CHECK(b.status() == HALTED);
        b.wr(b.ch(CHANCMD), 1, CHANCMD_START);
        wait_us(5);
        CHECK(b.rd(b.ch(CHANSTS), 8) == DONE);
        CHECK(b.chanerr() == 0);
        CHECK(b.fn.chan(0).descriptors_done() == 0);
        CHECK(b.word(CMP) == SENT);
        b.wr(b.ch(DMACOUNT), 2, 1);
        wait_us(5);
        CHECK(b.word(CMP) == (RING | DONE));
        CHECK(b.fn.chan(0).descriptors_done() == 1);
    });
}

TEST_CASE("state: SUSPEND while ACTIVE stops at the descriptor boundary, RESUME finishes") {
    run_bench([](bench& b) {
        b.pattern(SRC, 65536, 9);
        b.memset(DST, 4 * 0x10000, 0xCC);
        for (int i = 0; i < 4; ++i)
            b.desc(RING + 64 * i, 65536, DESC_COMPL_WRITE, SRC, DST + 0x10000 * i, RING + 64 * (i + 1));
        start(b, RING, 4);
        wait_us(5);  // inside the first descriptor (1 us start + 13.6 us)
        REQUIRE(b.status() == ACTIVE);
        b.wr(b.ch(CHANCMD), 1, CHANCMD_SUSPEND);
        CHECK(b.status() == ACTIVE);  // the descriptor in flight finishes
        wait_us(30);
        CHECK(b.rd(b.ch(CHANSTS), 8) == (RING | SUSPENDED));
        CHECK(b.fn.chan(0).descriptors_done() == 1);
        CHECK(b.block(DST, 65536) == b.block(SRC, 65536));
        CHECK(b.block(DST + 0x10000, 65536) == std::vector<uint8_t>(65536, 0xCC));
        b.wr(b.ch(CHANCMD), 1, CHANCMD_RESUME);
        wait_us(1);
        CHECK(b.status() == ACTIVE);
        wait_us(60);
        CHECK(b.rd(b.ch(CHANSTS), 8) == ((RING + 192) | DONE));
        CHECK(b.fn.chan(0).descriptors_done() == 4);
        CHECK(b.block(DST + 0x30000, 65536) == b.block(SRC, 65536));
        CHECK(b.chanerr() == 0);
    });
}

TEST_CASE("state: SUSPEND while DONE -> SUSPENDED, a doorbell waits for RESUME") {
    run_bench([](bench& b) {
        b.desc(RING, 1, DESC_NULL | DESC_COMPL_WRITE, 0, 0, RING + 64);
        b.desc(RING + 64, 1, DESC_NULL | DESC_COMPL_WRITE, 0, 0, RING + 128);
        start(b, RING, 1);
        wait_us(5);
        REQUIRE(b.rd(b.ch(CHANSTS), 8) == (RING | DONE));
        b.wr(b.ch(CHANCMD), 1, CHANCMD_SUSPEND);
        wait_us(1);
        CHECK(b.rd(b.ch(CHANSTS), 8) == (RING | SUSPENDED));
        b.wr(b.ch(DMACOUNT), 2, 2);
        wait_us(5);
        CHECK(b.status() == SUSPENDED);
        CHECK(b.fn.chan(0).descriptors_done() == 1);
        b.wr(b.ch(CHANCMD), 1, CHANCMD_RESUME);
        wait_us(5);
        CHECK(b.rd(b.ch(CHANSTS), 8) == ((RING + 64) | DONE));
        CHECK(b.fn.chan(0).descriptors_done() == 2);
        // RESUME with nothing suspended changes nothing.
        b.wr(b.ch(CHANCMD), 1, CHANCMD_RESUME);
        wait_us(1);
        CHECK(b.rd(b.ch(CHANSTS), 8) == ((RING + 64) | DONE));
    });
}

// A 64 KiB copy over a 0xCC destination, 5 us into its 13 us.
void start_long_copy(bench& b) {
    b.pattern(SRC, 65536, 5);
    b.memset(DST, 65536, 0xCC);
    b.desc(RING, 65536, DESC_COMPL_WRITE, SRC, DST, RING + 64);
    start(b, RING, 1);
    wait_us(5);
    REQUIRE(b.status() == ACTIVE);
}

TEST_CASE("state: ABORT mid-descriptor drops it, HALTED without CHANERR, CHAINADDR+DMACOUNT restarts") {
    run_bench([](bench& b) {
        start_long_copy(b);
        b.wr(b.ch(CHANCMD), 1, CHANCMD_ABORT);
        wait_us(2);
        CHECK(b.status() == HALTED);
        CHECK(b.chanerr() == 0);
        wait_us(20);  // well past the time the descriptor would have ended
        CHECK(b.status() == HALTED);
        CHECK(b.block(DST, 65536) == std::vector<uint8_t>(65536, 0xCC));
        CHECK(b.fn.chan(0).descriptors_done() == 0);
        CHECK(b.word(CMP) == SENT);

        b.pattern(SRC + 0x20000, 512, 77);
        b.desc(RING2, 512, DESC_COMPL_WRITE, SRC + 0x20000, DST + 0x20000, RING2 + 64);
        b.wr(b.ch(CHAINADDR), 8, RING2);
        b.wr(b.ch(DMACOUNT), 2, 1);
        wait_us(5);
        CHECK(b.rd(b.ch(CHANSTS), 8) == (RING2 | DONE));
        CHECK(b.word(CMP) == (RING2 | DONE));
        CHECK(b.block(DST + 0x20000, 512) == b.block(SRC + 0x20000, 512));
        CHECK(b.block(DST, 65536) == std::vector<uint8_t>(65536, 0xCC));  // not resumed
        CHECK(b.chanerr() == 0);
    });
}

TEST_CASE("state: RESET mid-descriptor drops it and leaves the channel HALTED and reset") {
    run_bench([](bench& b) {
        start_long_copy(b);
        b.wr(b.ch(CHANCMD), 1, CHANCMD_RESET);
        CHECK(b.rd(b.ch(CHANCMD), 1) == CHANCMD_RESET);
        wait_us(3);
        CHECK(b.rd(b.ch(CHANCMD), 1) == 0);
        CHECK(b.rd(b.ch(CHANSTS), 8) == HALTED);
        CHECK(b.chanerr() == 0);
        CHECK(b.rd(b.ch(CHAINADDR), 8) == 0);
        wait_us(20);
        CHECK(b.rd(b.ch(CHANSTS), 8) == HALTED);
        CHECK(b.block(DST, 65536) == std::vector<uint8_t>(65536, 0xCC));
        CHECK(b.fn.chan(0).descriptors_done() == 0);
        CHECK(b.word(CMP) == SENT);
        // The driver's start sequence works again after the reset.
        b.desc(RING2, 1, DESC_NULL | DESC_COMPL_WRITE, 0, 0, RING2 + 64);
        start(b, RING2, 1);
        wait_us(5);
        CHECK(b.word(CMP) == (RING2 | DONE));
    });
}

TEST_CASE("DMACOUNT wraps at 16 bits: the count continues past 0xFFFF") {
    run_bench([](bench& b) {
        // A ring of 16 null descriptors; 0xFFF0 of them bring the count near the top.
        for (int i = 0; i < 16; ++i)
            b.desc(RING + 64 * i, 1, DESC_NULL, 0, 0, RING + 64 * ((i + 1) % 16));
        enable_msix(b);
        start(b, RING, 0xFFF0);
        CHECK(b.rd(b.ch(DMACOUNT), 2) == 0xFFF0);
        for (int i = 0; i < 100 && b.fn.chan(0).descriptors_done() < 0xFFF0; ++i) wait_us(1000);
        REQUIRE(b.fn.chan(0).descriptors_done() == 0xFFF0);
        CHECK(b.rd(b.ch(CHANSTS), 8) == ((RING + 15 * 64) | DONE));
        // 0xFFF0 -> 0x0008 hands over 24 more; the 17th fetch after the wrap follows
        // a bad `next`, which is a next-descriptor error, not a chain-address one.
        b.desc(RING + 15 * 64, 1, DESC_NULL, 0, 0, BAD);
        b.wr(b.ch(DMACOUNT), 2, 0x0008);
        wait_us(50);
        CHECK(b.fn.chan(0).descriptors_done() == 0xFFF0 + 16);
        check_halted_by(b, CHANERR_NEXT_ADDR, RING + 15 * 64);
    });
}

// ---------------------------------------------------------------- operations

TEST_CASE("op FILL: byte i of the destination is pattern byte i % 8, nothing beyond") {
    run_bench([](bench& b) {
        const uint64_t pat = 0x0123456789abcdefull;
        b.memset(DST, 2048, 0xCC);
        b.desc(RING, 1001, op_ctl(OP_FILL, DESC_COMPL_WRITE), pat, DST, RING + 64);
        start(b, RING, 1);
        wait_us(5);
        CHECK(b.word(CMP) == (RING | DONE));
        auto d = b.block(DST, 2048);
        bool ok = true;
        for (unsigned i = 0; i < 1001; ++i) ok &= d[i] == uint8_t(pat >> (8 * (i % 8)));
        CHECK(ok);
        CHECK(std::vector<uint8_t>(d.begin() + 1001, d.end()) == std::vector<uint8_t>(1047, 0xCC));
        CHECK(b.fn.chan(0).bytes_moved() == 1001);
    });
}

TEST_CASE("op XOR with 7 sources uses the extension frame and continues after it") {
    run_bench([](bench& b) {
        const unsigned n = 7;
        static const unsigned off[] = {0x08, 0x20, 0x28, 0x30, 0x38, 0x40, 0x48, 0x50};
        std::vector<uint8_t> f(128);
        put32(f, 0, OP_LEN);
        put32(f, 4, op_ctl(OP_XOR, src_cnt(n) | DESC_COMPL_WRITE));
        put64(f, 0x10, DST);
        put64(f, 0x18, RING + 64);       // the extension frame
        put64(f, 0x40 + 0x18, RING + 128);  // the extension frame's next
        for (unsigned i = 0; i < n; ++i) {
            put64(f, off[i], src_at(i));
            b.pattern(src_at(i), OP_LEN, uint8_t(i * 31 + 1));
        }
        b.put(RING, f.data(), f.size());
        b.desc(RING + 128, 1, DESC_NULL | DESC_COMPL_WRITE, 0, 0, RING + 192);
        start(b, RING, 3);
        wait_us(10);
        std::vector<uint8_t> want(OP_LEN, 0);
        for (unsigned i = 0; i < n; ++i) {
            auto s = b.block(src_at(i), OP_LEN);
            for (unsigned k = 0; k < OP_LEN; ++k) want[k] ^= s[k];
        }
        CHECK(b.block(DST, OP_LEN) == want);
        CHECK(b.fn.chan(0).descriptors_done() == 2);
        CHECK(b.word(CMP) == ((RING + 128) | DONE));
        CHECK(b.chanerr() == 0);
    });
}

namespace {
// XOR_VAL of 3 sources against P at DST, followed by a null descriptor.
void xor_val_ring(bench& b, bool corrupt) {
    const unsigned n = 3;
    std::vector<uint8_t> p(OP_LEN, 0);
    for (unsigned i = 0; i < n; ++i) {
        b.pattern(src_at(i), OP_LEN, uint8_t(i * 17 + 2));
        auto s = b.block(src_at(i), OP_LEN);
        for (unsigned k = 0; k < OP_LEN; ++k) p[k] ^= s[k];
    }
    if (corrupt) p[4097] ^= 0x10;
    b.put(DST, p.data(), p.size());
    std::vector<uint8_t> f(64);
    put32(f, 0, OP_LEN);
    put32(f, 4, op_ctl(OP_XOR_VAL, src_cnt(n) | DESC_COMPL_WRITE));
    put64(f, 0x08, src_at(0));
    put64(f, 0x10, DST);
    put64(f, 0x18, RING + 64);
    put64(f, 0x20, src_at(1));
    put64(f, 0x28, src_at(2));
    b.put(RING, f.data(), f.size());
    b.desc(RING + 64, 1, DESC_NULL | DESC_COMPL_WRITE, 0, 0, RING + 128);
}
}  // namespace

TEST_CASE("op XOR_VAL: a P mismatch sets CHANERR bit 16 and halts after the descriptor") {
    run_bench([](bench& b) {
        enable_msix(b);
        xor_val_ring(b, true);
        auto before = b.block(DST, OP_LEN);
        start(b, RING, 2);
        wait_us(10);
        CHECK(b.fn.chan(0).descriptors_done() == 1);  // the null descriptor never ran
        check_halted_by(b, CHANERR_XOR_P, RING);
        CHECK(b.block(DST, OP_LEN) == before);  // validation writes nothing
    });
}

TEST_CASE("op XOR_VAL: a match leaves CHANERR clear and the ring runs on") {
    run_bench([](bench& b) {
        xor_val_ring(b, false);
        start(b, RING, 2);
        wait_us(10);
        CHECK(b.chanerr() == 0);
        CHECK(b.fn.chan(0).descriptors_done() == 2);
        CHECK(b.word(CMP) == ((RING + 64) | DONE));
    });
}

TEST_CASE("op XOR_VAL: with bit 16 in CHANERR_MASK a P mismatch does not halt") {
    run_bench([](bench& b) {
        xor_val_ring(b, true);
        b.wr(b.ch(CHANERR_MASK), 4, CHANERR_XOR_P);
        start(b, RING, 2);
        wait_us(10);
        CHECK(b.fn.chan(0).descriptors_done() == 2);
        CHECK(b.rd(b.ch(CHANSTS), 8) == ((RING + 64) | DONE));
        CHECK(b.word(CMP) == ((RING + 64) | DONE));
    });
}

namespace {
// A PQ or PQ_VAL frame pair for n sources (hw.h ioat_pq_descriptor + extension).
std::vector<uint8_t> pq_frames(uint8_t op, unsigned n, const uint8_t* coef, uint64_t p, uint64_t q,
                               uint64_t next) {
    static const unsigned off[] = {0x08, 0x20, 0x28, 0x40, 0x48, 0x50, 0x60, 0x68};
    std::vector<uint8_t> f(n > 3 ? 128 : 64);
    put32(f, 0, OP_LEN);
    put32(f, 4, op_ctl(op, src_cnt(n) | DESC_COMPL_WRITE));
    put64(f, 0x10, p);
    put64(f, 0x18, n > 3 ? RING + 64 : next);
    std::memcpy(&f[0x30], coef, n);
    put64(f, 0x38, q);
    if (n > 3) put64(f, 0x40 + 0x18, next);
    for (unsigned i = 0; i < n; ++i) put64(f, off[i], src_at(i));
    return f;
}

void textbook_pq(bench& b, unsigned n, const uint8_t* coef, std::vector<uint8_t>& p,
                 std::vector<uint8_t>& q) {
    p.assign(OP_LEN, 0);
    q.assign(OP_LEN, 0);
    for (unsigned i = 0; i < n; ++i) {
        auto s = b.block(src_at(i), OP_LEN);
        for (unsigned k = 0; k < OP_LEN; ++k) {
            p[k] ^= s[k];
            q[k] ^= slow_mul(coef[i], s[k]);
        }
    }
}
constexpr uint64_t P_AT = 0x300000, Q_AT = 0x310000;
}  // namespace

TEST_CASE("op PQ with 6 sources writes textbook P and Q through the extension frame") {
    run_bench([](bench& b) {
        const unsigned n = 6;
        const uint8_t coef[8] = {1, 2, 4, 8, 0x1d, 0x3a, 0, 0};
        for (unsigned i = 0; i < n; ++i) b.pattern(src_at(i), OP_LEN, uint8_t(i * 41 + 3));
        auto f = pq_frames(OP_PQ, n, coef, P_AT, Q_AT, RING + 128);
        b.put(RING, f.data(), f.size());
        b.desc(RING + 128, 1, DESC_NULL | DESC_COMPL_WRITE, 0, 0, RING + 192);
        start(b, RING, 3);
        wait_us(20);
        std::vector<uint8_t> p, q;
        textbook_pq(b, n, coef, p, q);
        CHECK(b.block(P_AT, OP_LEN) == p);
        CHECK(b.block(Q_AT, OP_LEN) == q);
        CHECK(b.fn.chan(0).descriptors_done() == 2);
        CHECK(b.word(CMP) == ((RING + 128) | DONE));
        CHECK(b.chanerr() == 0);
    });
}

TEST_CASE("op PQ_VAL: a Q mismatch with P correct sets CHANERR bit 17 only and halts") {
    run_bench([](bench& b) {
        enable_msix(b);
        const unsigned n = 3;
        const uint8_t coef[8] = {1, 2, 4, 0, 0, 0, 0, 0};
        for (unsigned i = 0; i < n; ++i) b.pattern(src_at(i), OP_LEN, uint8_t(i * 23 + 5));
        std::vector<uint8_t> p, q;
        textbook_pq(b, n, coef, p, q);
        q[10] ^= 1;
        b.put(P_AT, p.data(), p.size());
        b.put(Q_AT, q.data(), q.size());
        auto f = pq_frames(OP_PQ_VAL, n, coef, P_AT, Q_AT, RING + 64);
        b.put(RING, f.data(), f.size());
        b.desc(RING + 64, 1, DESC_NULL | DESC_COMPL_WRITE, 0, 0, RING + 128);
        start(b, RING, 2);
        wait_us(10);
        CHECK(b.fn.chan(0).descriptors_done() == 1);
        check_halted_by(b, CHANERR_XOR_Q, RING);
        CHECK(b.block(P_AT, OP_LEN) == p);
        CHECK(b.block(Q_AT, OP_LEN) == q);
    });
}

TEST_CASE("op null descriptor: completes and writes back without touching memory") {
    run_bench([](bench& b) {
        b.memset(DST, 64, 0xCC);
        b.desc(RING, 1, DESC_NULL | DESC_COMPL_WRITE, SRC, DST, RING + 64);
        start(b, RING, 1);
        wait_us(5);
        CHECK(b.word(CMP) == (RING | DONE));
        CHECK(b.rd(b.ch(CDAR), 8) == RING);
        CHECK(b.block(DST, 64) == std::vector<uint8_t>(64, 0xCC));
        CHECK(b.fn.chan(0).bytes_moved() == 0);
        CHECK(b.fn.chan(0).descriptors_done() == 1);
    });
}

// ---------------------------------------------------------------- errors
