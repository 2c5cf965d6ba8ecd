// The VT-d unit seen from outside its registers: an IOAT channel's DMA
// translated or blocked through the root complex, and the unit going with
// its IOH. The register-level tests are in test_vtd.cpp.
#include "vtd_bench.h"

#include <doctest/doctest.h>

#include <vector>

using namespace ioatsim;
using namespace ioatsim::models;
using namespace ioatsim::vtd;
using namespace ioatsim::vtdbench;
using sc_core::sc_time;
using sc_core::SC_NS;
using sc_core::SC_US;

TEST_CASE("vtd ioat: a copy goes through translation - a destination with no mapping halts the channel, fault 5") {
    run([](bench& b) {
        tables t(b);
        ioat_domain(b, t);
        copy(b, RING, 0x7000000, 0x7010000, 0x2000);
        REQUIRE((ioat_rd(b, ioat::CHANSTS, 8) & ioat::CHANSTS_STATUS) == ioat::DONE);
        std::vector<uint8_t> src(0x2000), lo(0x1000), hi(0x1000);
        b.mem.peek(0x200000, src.data(), src.size());
        b.mem.peek(0x300000, lo.data(), lo.size());
        b.mem.peek(0x380000, hi.data(), hi.size());
        CHECK(std::equal(lo.begin(), lo.end(), src.begin()));
        CHECK(std::equal(hi.begin(), hi.end(), src.begin() + 0x1000));
        CHECK(b.rd32(FSTS) == 0);
        copy(b, RING + 0x1000, 0x7000000, 0x7100000, 0x100);
        CHECK((ioat_rd(b, ioat::CHANSTS, 8) & ioat::CHANSTS_STATUS) == ioat::HALTED);
        CHECK(ioat_rd(b, ioat::CHANERR, 4) == ioat::CHANERR_DEST_ADDR);
        CHECK((b.get(CMP) & ioat::CHANSTS_STATUS) == ioat::HALTED);  // the error completion is translated too
        CHECK(b.rd32(FSTS) == FSTS_PPF);
        CHECK(b.rd64(FRO) == 0x7100000);
        CHECK(b.rd64(FRO + 8) == frcd_hi(SID_IOAT, FR_NO_WRITE, true));
        REQUIRE(b.msi.got.size() == 1);
        CHECK(b.msi.got[0].data == FE_DATA);
    });
}

TEST_CASE("vtd ioat: a source the domain cannot read halts the channel with SRC_ADDR, fault 6") {
    run([](bench& b) {
        tables t(b);
        ioat_domain(b, t);
        copy(b, RING, 0x7010000, 0x7011000, 0x100);  // the destination pages are write-only
        CHECK((ioat_rd(b, ioat::CHANSTS, 8) & ioat::CHANSTS_STATUS) == ioat::HALTED);
        CHECK(ioat_rd(b, ioat::CHANERR, 4) == ioat::CHANERR_SRC_ADDR);
        CHECK(b.rd64(FRO) == 0x7010000);
        CHECK(b.rd64(FRO + 8) == frcd_hi(SID_IOAT, FR_NO_READ, false));
        CHECK(b.get(0x380000) == 0);
    });
}

// ---------------------------------------------------------------- presence and reset

TEST_CASE("vtd presence: a removed IOH's unit answers all-ones and drops writes - power-on resets it") {
    run([](bench& b) {
        tables t(b);
        enable(b, t.root);
        b.wr32(FEDATA, 0x77);
        CHECK_FALSE(b.tr(0x0100, 0x1000).ok);
        b.vtd.set_present(false);
        CHECK_FALSE(b.vtd.translating());
        CHECK(b.rd32(FSTS) == 0xffffffff);
        CHECK(b.rd32(VER) == 0xffffffff);
        b.wr32(FEDATA, 0x88);
        b.wr32(GCMD, 0);
        wait(sc_time(1, SC_US));
        b.vtd.set_present(true);
        CHECK(b.rd32(FEDATA) == 0x77);
        CHECK(b.rd32(GSTS) == (GSTS_TES | GSTS_RTPS));
        b.vtd.reset();
        CHECK(b.rd32(GSTS) == 0);
        CHECK(b.rd32(FEDATA) == 0);
        CHECK(b.rd32(FSTS) == 0);
        CHECK(b.rd64(FRO + 8) == 0);
        CHECK(b.rd32(FECTL) == CTL_IM);
        CHECK(b.rd64(CAP) == CAP_TYLERSBURG);
    });
}
