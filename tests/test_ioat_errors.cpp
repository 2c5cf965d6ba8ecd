// Each CHANERR condition software can provoke, through the sockets: the bit, the
// halt, the error completion and the error interrupt as CHANCTRL says.
// Facts: shared/reference/ioat-hardware.md §7.
#include "ioat_harness.h"

#include <doctest/doctest.h>

#include <vector>

using namespace ioatsim;
using namespace ioatsim::models;
using namespace ioatsim::ioat;
using namespace ioatsim::harness::regbench;

namespace {

// A good 64-byte copy at RING, the descriptor under test at RING+64, and a good copy
// at RING+128 that must never run because the channel halts before it.
void run_second_faulty(bench& b, uint32_t size, uint32_t ctl, uint64_t src, uint64_t dst) {
    enable_msix(b);
    b.pattern(SRC, 0x1000, 1);
    b.memset(DST + 0x2000, 64, 0xEE);
    b.desc(RING, 64, 0, SRC, DST, RING + 64);
    b.desc(RING + 64, size, ctl, src, dst, RING + 128);
    b.desc(RING + 128, 64, 0, SRC, DST + 0x2000, RING + 192);
    start(b, RING, 3);
    wait_us(20);
    CHECK(b.fn.chan(0).descriptors_done() == 1);
    CHECK(b.block(DST + 0x2000, 64) == std::vector<uint8_t>(64, 0xEE));
}

}  // namespace

TEST_CASE("error bit 0: source address outside memory") {
    run_bench([](bench& b) {
        run_second_faulty(b, 64, 0, BAD, DST + 0x1000);
        check_halted_by(b, CHANERR_SRC_ADDR, RING);
    });
}

TEST_CASE("error bit 1: destination address outside memory") {
    run_bench([](bench& b) {
        run_second_faulty(b, 64, 0, SRC, BAD);
        check_halted_by(b, CHANERR_DEST_ADDR, RING);
    });
}

TEST_CASE("error bit 2: a ring whose next points outside memory") {
    run_bench([](bench& b) {
        enable_msix(b);
        b.desc(RING, 64, 0, SRC, DST, BAD);
        start(b, RING, 2);
        wait_us(10);
        CHECK(b.fn.chan(0).descriptors_done() == 1);
        check_halted_by(b, CHANERR_NEXT_ADDR, RING);
    });
}

TEST_CASE("error bit 3: next descriptor not 64-byte aligned") {
    run_bench([](bench& b) {
        enable_msix(b);
        b.desc(RING, 64, 0, SRC, DST, RING + 64 + 8);
        b.desc(RING + 64 + 8, 1, DESC_NULL, 0, 0, RING);  // would be valid if fetched
        start(b, RING, 2);
        wait_us(10);
        CHECK(b.fn.chan(0).descriptors_done() == 1);
        check_halted_by(b, CHANERR_NEXT_DESC_ALIGN, RING);
    });
}

TEST_CASE("error bit 4: CHAINADDR not 64-byte aligned") {
    run_bench([](bench& b) {
        enable_msix(b);
        b.desc(RING + 8, 1, DESC_NULL | DESC_COMPL_WRITE, 0, 0, RING + 128);
        start(b, RING + 8, 1);
        wait_us(10);
        CHECK(b.fn.chan(0).descriptors_done() == 0);
        check_halted_by(b, CHANERR_CHAIN_ADDR, 0);
    });
}

TEST_CASE("error bit 4: CHAINADDR outside memory") {
    run_bench([](bench& b) {
        enable_msix(b);
        start(b, BAD, 1);
        wait_us(10);
        CHECK(b.fn.chan(0).descriptors_done() == 0);
        check_halted_by(b, CHANERR_CHAIN_ADDR, 0);
    });
}

TEST_CASE("error bit 5: two command bits at once") {
    run_bench([](bench& b) {
        enable_msix(b);
        b.desc(RING, 64, 0, SRC, DST, RING + 64);
        start(b, RING, 1);
        wait_us(5);
        REQUIRE(b.status() == DONE);
        b.wr(b.ch(CHANCMD), 1, CHANCMD_START | CHANCMD_SUSPEND);
        wait_us(2);
        CHECK(b.rd(b.ch(CHANCMD), 1) == 0);
        check_halted_by(b, CHANERR_CHANCMD, RING);
        b.desc(RING + 64, 64, 0, SRC, DST + 64, RING + 128);  // the halted channel takes no more
        b.wr(b.ch(DMACOUNT), 2, 2);
        wait_us(5);
        CHECK(b.fn.chan(0).descriptors_done() == 1);
        CHECK(b.status() == HALTED);
    });
}

TEST_CASE("error bit 5: APPEND (CB1 only) right after the first doorbell") {
    run_bench([](bench& b) {
        enable_msix(b);
        b.desc(RING, 64, 0, SRC, DST, RING + 64);
        start(b, RING, 1);
        b.wr(b.ch(CHANCMD), 1, CHANCMD_APPEND);  // while the channel is still leaving reset
        wait_us(10);
        CHECK(b.fn.chan(0).descriptors_done() == 0);
        check_halted_by(b, CHANERR_CHANCMD, 0);
    });
}

TEST_CASE("error bit 5: a command error while a descriptor is in flight halts the channel") {
    run_bench([](bench& b) {
        enable_msix(b);
        b.desc(RING, 65536, 0, SRC, DST, RING + 64);  // the only descriptor handed over
        start(b, RING, 1);
        wait_us(5);
        REQUIRE(b.status() == ACTIVE);
        b.wr(b.ch(CHANCMD), 1, CHANCMD_SUSPEND | CHANCMD_RESUME);
        wait_us(40);  // past the end of the descriptor
        CHECK(b.status() == HALTED);
        CHECK(b.chanerr() == CHANERR_CHANCMD);
        CHECK((b.word(CMP) & CHANSTS_STATUS) == HALTED);
        CHECK(b.msi.got.size() == 1);
    });
}

TEST_CASE("error bit 10: unknown operation code") {
    run_bench([](bench& b) {
        run_second_faulty(b, 64, op_ctl(0x42), SRC, DST + 0x1000);
        check_halted_by(b, CHANERR_DESC_CTRL, RING);
    });
}

TEST_CASE("error bit 10: an operation DMACAPABILITY does not advertise") {
    ioat_config cfg;
    cfg.dmacapability = DMACAP_XOR | DMACAP_PQ;  // no FILL
    run_bench([](bench& b) {
        b.memset(DST + 0x1000, 64, 0xCC);
        run_second_faulty(b, 64, op_ctl(OP_FILL), 0x1111111111111111ull, DST + 0x1000);
        check_halted_by(b, CHANERR_DESC_CTRL, RING);
        CHECK(b.block(DST + 0x1000, 64) == std::vector<uint8_t>(64, 0xCC));
    }, cfg);
}

TEST_CASE("error bit 11: transfer size 0") {
    run_bench([](bench& b) {
        run_second_faulty(b, 0, 0, SRC, DST + 0x1000);
        check_halted_by(b, CHANERR_LEN, RING);
    });
}

TEST_CASE("error bit 11: transfer size above 2^XFERCAP") {
    run_bench([](bench& b) {
        b.memset(DST + 0x1000, 64, 0xCC);
        run_second_faulty(b, (1u << 20) + 1, 0, SRC, DST + 0x1000);
        check_halted_by(b, CHANERR_LEN, RING);
        CHECK(b.block(DST + 0x1000, 64) == std::vector<uint8_t>(64, 0xCC));
    });
}

TEST_CASE("error bit 11: exactly 2^XFERCAP is accepted") {
    ioat_config cfg;
    cfg.xfercap = 12;
    run_bench([](bench& b) {
        b.pattern(SRC, 4096, 4);
        b.desc(RING, 4096, DESC_COMPL_WRITE, SRC, DST, RING + 64);
        b.desc(RING + 64, 4097, DESC_COMPL_WRITE, SRC, DST, RING + 128);
        start(b, RING, 2);
        wait_us(10);
        CHECK(b.block(DST, 4096) == b.block(SRC, 4096));
        CHECK(b.chanerr() == CHANERR_LEN);
        CHECK(b.word(CMP) == (RING | HALTED));
    }, cfg);
}

TEST_CASE("error bit 12: a misaligned CHANCMP") {
    run_bench([](bench& b) {
        enable_msix(b);
        b.desc(RING, 64, DESC_COMPL_WRITE, SRC, DST, RING + 64);
        b.desc(RING + 64, 64, 0, SRC, DST + 0x1000, RING + 128);
        program(b, RING, CHANCTRL_RUN, CMP + 4);
        b.wr(b.ch(DMACOUNT), 2, 2);
        wait_us(10);
        uint64_t sts = b.rd(b.ch(CHANSTS), 8);
        CHECK((sts & CHANSTS_STATUS) == HALTED);
        CHECK(b.chanerr() == CHANERR_COMPL_ADDR);
        CHECK(b.word(CMP) == SENT);  // nothing can be written there
        CHECK(b.word(CMP + 8) == SENT);
        CHECK(b.fn.chan(0).descriptors_done() == 1);
        CHECK(b.msi.got.size() == 1);  // ERR_INT_EN and armed
    });
}

TEST_CASE("error bit 12: CHANCMP outside memory") {
    run_bench([](bench& b) {
        enable_msix(b);
        b.desc(RING, 64, DESC_COMPL_WRITE, SRC, DST, RING + 64);
        b.desc(RING + 64, 64, 0, SRC, DST + 0x1000, RING + 128);
        program(b, RING, CHANCTRL_RUN, BAD);
        b.wr(b.ch(DMACOUNT), 2, 2);
        wait_us(10);
        CHECK(b.status() == HALTED);
        CHECK(b.chanerr() == CHANERR_COMPL_ADDR);
        CHECK(b.fn.chan(0).descriptors_done() == 1);
        CHECK(b.msi.got.size() == 1);
    });
}

TEST_CASE("errors: no completion without ERR_COMPLETION_EN, no interrupt without ERR_INT_EN") {
    run_bench([](bench& b) {
        enable_msix(b);
        b.desc(RING, 0, 0, SRC, DST, RING + 64);
        start(b, RING, 1, CHANCTRL_INT_REARM | CHANCTRL_ANY_ERR_ABORT_EN);
        wait_us(10);
        CHECK(b.status() == HALTED);
        CHECK(b.chanerr() == CHANERR_LEN);
        CHECK(b.word(CMP) == SENT);
        CHECK(b.msi.got.empty());
        CHECK(b.rd(ATTNSTATUS, 4) == 0);
    });
}

TEST_CASE("errors: no error interrupt when the channel is not armed") {
    run_bench([](bench& b) {
        enable_msix(b);
        b.desc(RING, 0, 0, SRC, DST, RING + 64);
        start(b, RING, 1, CHANCTRL_ERR_INT_EN | CHANCTRL_ERR_COMPLETION_EN);  // no INT_REARM
        wait_us(10);
        CHECK(b.status() == HALTED);
        CHECK(b.word(CMP) == HALTED);  // the completion is still written
        CHECK(b.msi.got.empty());
    });
}
