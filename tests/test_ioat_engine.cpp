// The IOAT function through its sockets: a fake initiator drives BAR0 as a driver
// would, DMA goes to a real DRAM model, MSI writes are caught by a fake target.
#include "ioat_harness.h"

#include <doctest/doctest.h>

using namespace ioatsim;
using namespace ioatsim::models;
using namespace ioatsim::ioat;
using sc_core::sc_time;
using sc_core::SC_NS;
using sc_core::SC_US;

namespace {

using bench = harness::bench;

constexpr uint64_t RING = 0x10000, CMP = 0x20000, SRC = 0x100000, DST = 0x200000;

void run_bench(std::function<void(bench&)> body) {
    harness::run<bench>(std::move(body), harness::bench_config{});
}

// Programs the channel as the driver does and starts a ring of `n` descriptors.
void start(bench& b, uint16_t count) {
    b.wr(b.ch(CHANCTRL), 2, CHANCTRL_RUN);
    b.wr(b.ch(CHANCMP), 4, CMP);
    b.wr(b.ch(CHANCMP) + 4, 4, 0);
    b.wr(b.ch(CHAINADDR), 4, RING);
    b.wr(b.ch(CHAINADDR) + 4, 4, 0);
    b.wr(b.ch(DMACOUNT), 2, count);
}

}  // namespace

TEST_CASE("identity registers and config space read as a CB3 function") {
    run_bench([](bench& b) {
        CHECK(b.rd(CHANCNT, 1) == 1);
        CHECK(b.rd(XFERCAP, 1) == 20);
        CHECK(b.rd(CBVER, 1) == 0x30);
        CHECK((b.rd(b.ch(CHANSTS), 8) & CHANSTS_STATUS) == HALTED);
        CHECK(b.fn.config().read(0x00, 4) == 0x34308086u);
        CHECK((b.fn.config().read(0x08, 4) >> 8) == 0x088000u);
        // BAR sizing: a 64-bit 16 KiB memory BAR.
        b.fn.config().write(0x10, 4, 0xffffffff);
        CHECK(b.fn.config().read(0x10, 4) == 0xffffc004u);
        CHECK(b.fn.config().find_cap(0x11) != 0);
    });
}

TEST_CASE("a copy descriptor moves the bytes and writes CHANSTS to the completion address") {
    run_bench([](bench& b) {
        std::vector<uint8_t> src(5000);
        for (size_t i = 0; i < src.size(); ++i) src[i] = uint8_t(i * 7 + 3);
        b.mem.poke(SRC, src.data(), src.size());
        b.desc(RING, 1, DESC_NULL | DESC_COMPL_WRITE, 0, 0, RING + 64);
        b.desc(RING + 64, 5000, DESC_COMPL_WRITE, SRC, DST, RING + 128);
        start(b, 2);
        sc_core::wait(sc_time(20, SC_US));
        std::vector<uint8_t> dst(5000);
        b.mem.peek(DST, dst.data(), dst.size());
        CHECK(dst == src);
        uint64_t sts = b.rd(b.ch(CHANSTS), 8);
        CHECK((sts & CHANSTS_ADDR_MASK) == RING + 64);
        CHECK((sts & CHANSTS_STATUS) == DONE);
        CHECK(b.word(CMP) == ((RING + 64) | DONE));
        // Read as two 32-bit halves, as the 3.x driver does.
        uint64_t halves = b.rd(b.ch(CHANSTS), 4) | b.rd(b.ch(CHANSTS) + 4, 4) << 32;
        CHECK(halves == sts);
        CHECK(b.rd(b.ch(CDAR), 8) == RING + 64);
        CHECK(b.fn.chan(0).bytes_moved() == 5000);
    });
}

TEST_CASE("copy time follows the per-descriptor overhead and streaming bandwidth") {
    run_bench([](bench& b) {
        b.desc(RING, 1460, DESC_COMPL_WRITE, SRC, DST, RING + 64);
        b.desc(RING + 64, 1460, DESC_COMPL_WRITE, SRC, DST + 4096, RING + 128);
        start(b, 2);
        sc_time t0 = sc_core::sc_time_stamp();
        while ((b.word(CMP) & CHANSTS_ADDR_MASK) != RING + 64) sc_core::wait(sc_time(10, SC_NS));
        double ns = (sc_core::sc_time_stamp() - t0).to_seconds() * 1e9;
        // start latency 1 us, first fetch 160 ns, then 2 x (290 ns + 1460 B / 5 GB/s).
        double model = 1000 + 160 + 2 * (290 + 292) + 30;
        CHECK(ns == doctest::Approx(model).epsilon(0.05));
    });
}

TEST_CASE("DMACOUNT is free-running: later doorbells continue from the next descriptor") {
    run_bench([](bench& b) {
        for (int i = 0; i < 4; ++i)
            b.desc(RING + 64 * i, 64, DESC_COMPL_WRITE, SRC, DST + 64 * i, RING + 64 * ((i + 1) % 4));
        start(b, 1);
        sc_core::wait(sc_time(5, SC_US));
        CHECK(b.word(CMP) == (RING | DONE));
        b.wr(b.ch(DMACOUNT), 2, 3);
        sc_core::wait(sc_time(5, SC_US));
        CHECK(b.word(CMP) == ((RING + 128) | DONE));
        CHECK(b.fn.chan(0).descriptors_done() == 3);
    });
}

TEST_CASE("int_en raises one MSI-X message per arm") {
    run_bench([](bench& b) {
        unsigned cap = b.fn.config().find_cap(0x11);
        b.wr(MSIX_TABLE, 4, 0xFEE01000);
        b.wr(MSIX_TABLE + 8, 4, 0x41);
        b.wr(MSIX_TABLE + 12, 4, 0);
        b.cfg_wr(cap + 2, 2, 0x8000);
        b.wr(INTRCTRL, 1, INTRCTRL_MASTER_INT_EN | INTRCTRL_MSIX_VECTOR_CONTROL);
        for (int i = 0; i < 3; ++i)
            b.desc(RING + 64 * i, 8, DESC_COMPL_WRITE | DESC_INT_EN, SRC, DST, RING + 64 * (i + 1));
        start(b, 2);  // CHANCTRL_RUN arms once
        sc_core::wait(sc_time(5, SC_US));
        REQUIRE(b.msi.got.size() == 1);
        CHECK(b.msi.got[0].addr == 0xFEE01000);
        CHECK(b.msi.got[0].data == 0x41);
        CHECK((b.rd(ATTNSTATUS, 4) & 1) == 1);
        b.wr(b.ch(CHANCTRL), 2, CHANCTRL_RUN);  // re-arm
        b.wr(b.ch(DMACOUNT), 2, 3);
        sc_core::wait(sc_time(5, SC_US));
        CHECK(b.msi.got.size() == 2);
    });
}

TEST_CASE("a zero-length descriptor halts the channel with a length error") {
    run_bench([](bench& b) {
        b.desc(RING, 0, DESC_COMPL_WRITE, SRC, DST, RING + 64);
        start(b, 1);
        sc_core::wait(sc_time(5, SC_US));
        CHECK((b.rd(b.ch(CHANSTS), 8) & CHANSTS_STATUS) == HALTED);
        CHECK(b.rd(b.ch(CHANERR), 4) == CHANERR_LEN);
        CHECK((b.word(CMP) & CHANSTS_STATUS) == HALTED);  // ERR_COMPLETION_EN is in CHANCTRL_RUN
        b.wr(b.ch(CHANERR), 4, CHANERR_LEN);               // write one to clear
        CHECK(b.rd(b.ch(CHANERR), 4) == 0);
    });
}

TEST_CASE("RESET reads back 1 until the reset completes, then the channel is halted and idle") {
    run_bench([](bench& b) {
        b.desc(RING, 64, DESC_COMPL_WRITE, SRC, DST, RING + 64);
        start(b, 1);
        sc_core::wait(sc_time(5, SC_US));
        CHECK((b.rd(b.ch(CHANSTS), 8) & CHANSTS_STATUS) == DONE);
        b.wr(b.ch(CHANCMD), 1, CHANCMD_RESET);
        CHECK((b.rd(b.ch(CHANCMD), 1) & CHANCMD_RESET) != 0);
        sc_core::wait(sc_time(2, SC_US));
        CHECK((b.rd(b.ch(CHANCMD), 1) & CHANCMD_RESET) == 0);
        CHECK(b.rd(b.ch(CHANSTS), 8) == HALTED);
    });
}

TEST_CASE("SUSPEND stops at a descriptor boundary and RESUME continues") {
    run_bench([](bench& b) {
        for (int i = 0; i < 4; ++i)
            b.desc(RING + 64 * i, 65536, DESC_COMPL_WRITE, SRC, DST, RING + 64 * (i + 1));
        start(b, 4);
        sc_core::wait(sc_time(3, SC_US));  // inside the first descriptors (13 us each)
        b.wr(b.ch(CHANCMD), 1, CHANCMD_SUSPEND);
        sc_core::wait(sc_time(30, SC_US));
        CHECK((b.rd(b.ch(CHANSTS), 8) & CHANSTS_STATUS) == SUSPENDED);
        uint64_t done = b.fn.chan(0).descriptors_done();
        CHECK(done < 4);
        b.wr(b.ch(CHANCMD), 1, CHANCMD_RESUME);
        sc_core::wait(sc_time(80, SC_US));
        CHECK(b.fn.chan(0).descriptors_done() == 4);
        CHECK((b.rd(b.ch(CHANSTS), 8) & CHANSTS_STATUS) == DONE);
    });
}

TEST_CASE("undefined offsets read zero and wrong sizes never crash") {
    run_bench([](bench& b) {
        CHECK(b.rd(0x70, 4) == 0);
        b.wr(0x70, 4, 0xdeadbeef);
        CHECK(b.rd(0x70, 4) == 0);
        CHECK(b.rd(b.ch(DMACOUNT) + 1, 2) == 0xffff);  // misaligned: completes with all-ones
    });
}
