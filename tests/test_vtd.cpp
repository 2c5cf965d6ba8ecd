// The IOH's VT-d remapping unit through its sockets (the bench: vtd_bench.h):
// registers, translation, faults, invalidation, queued invalidation, the IOAT
// channel's DMA through the root complex, presence.
// Facts: shared/reference/dma-mapping-vtd.md §5-§6.
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

// ---------------------------------------------------------------- registers

TEST_CASE("vtd registers: reset values - read-only registers ignore writes - 64-bit ones work as 32-bit halves") {
    run([](bench& b) {
        CHECK(b.rd32(VER) == 0x10);
        CHECK(b.rd32(CAP) == uint32_t(CAP_TYLERSBURG));
        CHECK(b.rd32(CAP + 4) == uint32_t(CAP_TYLERSBURG >> 32));
        CHECK(b.io(tlm::TLM_READ_COMMAND, VTD + CAP, 8) == CAP_TYLERSBURG);
        CHECK(b.rd64(ECAP) == 0xf020feull);
        CHECK(b.rd32(GSTS) == 0);
        CHECK(b.rd32(FSTS) == 0);
        CHECK(b.rd32(FECTL) == CTL_IM);
        CHECK(b.rd32(IECTL) == CTL_IM);
        CHECK(b.rd64(RTADDR) == 0);
        struct { unsigned off; uint64_t value; } ro[] = {{VER, 0x10}, {CAP, CAP_TYLERSBURG}, {ECAP, 0xf020fe},
                                                         {GSTS, 0}, {IQH, 0}};
        for (auto& r : ro) {
            CAPTURE(r.off);
            b.wr64(r.off, ~r.value);
            CHECK(b.rd32(r.off) == uint32_t(r.value));
        }
        // RTADDR [63:12]: the low half written first, then the high half.
        b.wr32(RTADDR, 0x12345fff);
        CHECK(b.rd64(RTADDR) == 0x12345000);
        b.wr32(RTADDR + 4, 0xab);
        CHECK(b.rd64(RTADDR) == 0xab12345000ull);
        b.wr32(FEADDR, 0xFEE01003);
        CHECK(b.rd32(FEADDR) == 0xFEE01000);
        b.wr32(GCMD, GCMD_TE);  // write-only: reads 0
        CHECK(b.rd32(GCMD) == 0);
        // Nothing where no register is; a bad size or alignment changes nothing.
        b.wr32(0x48, 0xffffffff);
        CHECK(b.rd32(0x48) == 0);
        CHECK(b.io(tlm::TLM_READ_COMMAND, VTD + FEDATA + 2, 4) == 0xffffffffull);
        b.wr32(FEDATA, 0x1234);
        b.io(tlm::TLM_WRITE_COMMAND, VTD + FEDATA + 1, 4, 0xffffffff);
        b.io(tlm::TLM_WRITE_COMMAND, VTD + FEDATA, 3, 0xffffffff);
        CHECK(b.rd32(FEDATA) == 0x1234);
        b.wr32(0xff8, 0xffffffff);
        CHECK(b.rd32(0xff8) == 0);
        // PMEN: PRS follows EPM.
        b.wr32(PMEN, PMEN_EPM);
        CHECK(b.rd32(PMEN) == (PMEN_EPM | PMEN_PRS));
        b.wr32(PMEN, 0);
        CHECK(b.rd32(PMEN) == 0);
    });
}

TEST_CASE("vtd registers: GCMD/GSTS handshake after the command latency, write back to keep, SRTP latches RTADDR") {
    run([](bench& b) {
        tables t(b);
        uint64_t top = t.domain(0x0100, 1);
        t.map(top, 0x5000, 0x600000);
        b.wr64(RTADDR, t.root);
        b.wr32(GCMD, GCMD_SRTP);
        sc_time issued = sc_core::sc_time_stamp();
        CHECK((b.rd32(GSTS) & GSTS_RTPS) == 0);
        REQUIRE(b.poll(GSTS, GSTS_RTPS, GSTS_RTPS));
        CHECK(sc_core::sc_time_stamp() - issued >= sc_time(100, SC_NS));
        CHECK(sc_core::sc_time_stamp() - issued < sc_time(200, SC_NS));
        CHECK_FALSE(b.vtd.translating());
        b.wr32(GCMD, GCMD_TE);
        CHECK((b.rd32(GSTS) & GSTS_TES) == 0);  // not yet
        REQUIRE(b.poll(GSTS, GSTS_TES, GSTS_TES));
        CHECK(b.vtd.translating());
        CHECK(b.tr(0x0100, 0x5008).phys == 0x600008);
        // A new RTADDR does nothing until SRTP; SRTP clears RTPS at once, sets it when done.
        tables other(b);
        other.next = 0x800000;
        other.root = other.alloc();
        b.wr64(RTADDR, other.root);
        CHECK(b.tr(0x0101, 0x5008).reason == FR_CTX_NOT_PRESENT);  // still the first root (bus 1 present)
        service(b, 0);
        b.wr32(GCMD, GCMD_TE | GCMD_SRTP);
        CHECK((b.rd32(GSTS) & GSTS_RTPS) == 0);
        REQUIRE(b.poll(GSTS, GSTS_RTPS, GSTS_RTPS));
        CHECK(b.rd32(GSTS) == (GSTS_TES | GSTS_RTPS));
        CHECK(b.tr(0x0102, 0x5008).reason == FR_ROOT_NOT_PRESENT);  // the new, empty root
        // Each write is the whole command: QIE alone turns translation off.
        b.wr32(GCMD, GCMD_QIE);
        REQUIRE(b.poll(GSTS, GSTS_QIES, GSTS_QIES));
        CHECK((b.rd32(GSTS) & GSTS_TES) == 0);
        CHECK_FALSE(b.vtd.translating());
        b.wr32(GCMD, GCMD_QIE | GCMD_TE | GCMD_IRE | GCMD_SIRTP);
        REQUIRE(b.poll(GSTS, GSTS_TES, GSTS_TES));
        CHECK(b.rd32(GSTS) == (GSTS_TES | GSTS_RTPS | GSTS_QIES | GSTS_IRES | GSTS_IRTPS));
    });
}

// ---------------------------------------------------------------- translation

TEST_CASE("vtd translation: TE=0 is identity, walks nothing and leaves DMA timing as without a unit") {
    run([](bench& b) {
        sc_time d = sc_core::SC_ZERO_TIME;
        auto r = b.tr(0x0100, 0x123456, false, d);
        CHECK(r.ok);
        CHECK(r.phys == 0x123456);
        CHECK(d == sc_core::SC_ZERO_TIME);
        uint64_t v = 0x1122334455667788ull;
        d = sc_core::SC_ZERO_TIME;
        CHECK(b.dma(true, 0x3000, &v, 8, d, 0x0100));
        CHECK(d == MEM_LAT);
        CHECK(b.get(0x3000) == v);
        CHECK(b.vtd.activity().walk_reads == 0);
    });
}

TEST_CASE("vtd translation: a miss walks root, context and four levels in memory - a hit costs nothing") {
    vtd_config c = unit_config();
    c.walk_read = sc_time(10, SC_NS);
    run([](bench& b) {
        tables t(b);
        uint64_t top = t.domain(0x0100, 5);
        t.map(top, 0x12345000, 0x600000);
        t.map(top, 0x12346000, 0x601000);
        enable(b, t.root);
        sc_time d = sc_core::SC_ZERO_TIME;
        auto r = b.tr(0x0100, 0x12345678, false, d);
        REQUIRE(r.ok);
        CHECK(r.phys == 0x600678);
        CHECK(d == 6 * (MEM_LAT + sc_time(10, SC_NS)));
        CHECK(b.vtd.activity().walk_reads == 6);
        d = sc_core::SC_ZERO_TIME;
        CHECK(b.tr(0x0100, 0x12345000, true, d).phys == 0x600000);
        CHECK(d == sc_core::SC_ZERO_TIME);
        CHECK(b.vtd.activity().iotlb_hits == 1);
        d = sc_core::SC_ZERO_TIME;
        CHECK(b.tr(0x0100, 0x12346010, false, d).phys == 0x601010);  // context cached: four reads
        CHECK(d == 4 * (MEM_LAT + sc_time(10, SC_NS)));
        // Through the root complex: a hit costs what the access costs untranslated.
        uint64_t v = 0xabcdef;
        d = sc_core::SC_ZERO_TIME;
        CHECK(b.dma(true, 0x12345010, &v, 8, d, 0x0100));
        CHECK(d == MEM_LAT);
        CHECK(b.get(0x600010) == v);
        CHECK(b.get(0x12345010 & (DRAM - 1)) != v);
    }, c);
}

TEST_CASE("vtd translation: pass-through, bursts translated per page, interrupt messages untranslated") {
    run([](bench& b) {
        tables t(b);
        t.context(0x0200, 3, 0, T_PASSTHROUGH);
        uint64_t top = t.domain(0x0100, 1);
        t.map(top, 0x10000000, 0x700000);
        t.map(top, 0x10001000, 0x500000);
        enable(b, t.root);
        auto pt = b.tr(0x0200, 0x3008, true);
        CHECK(pt.ok);
        CHECK(pt.phys == 0x3008);
        CHECK(b.vtd.activity().walk_reads == 2);  // root and context only
        std::vector<uint8_t> out(0x100), in(0x100, 0);
        for (size_t i = 0; i < out.size(); ++i) out[i] = uint8_t(i * 7 + 1);
        sc_time d = sc_core::SC_ZERO_TIME;
        REQUIRE(b.dma(true, 0x10000f80, out.data(), 0x100, d, 0x0100));
        std::vector<uint8_t> lo(0x80), hi(0x80);
        b.mem.peek(0x700f80, lo.data(), 0x80);
        b.mem.peek(0x500000, hi.data(), 0x80);
        CHECK(std::equal(lo.begin(), lo.end(), out.begin()));
        CHECK(std::equal(hi.begin(), hi.end(), out.begin() + 0x80));
        REQUIRE(b.dma(false, 0x10000f80, in.data(), 0x100, d, 0x0100));
        CHECK(in == out);
        // The next page is not mapped: the first part lands, the request fails.
        std::vector<uint8_t> ones(0x100, 0xee);
        CHECK_FALSE(b.dma(true, 0x10001f80, ones.data(), 0x100, d, 0x0100));
        CHECK(b.get(0x500f80) == 0xeeeeeeeeeeeeeeeeull);
        CHECK(b.rd64(FRO) == 0x10002000);
        CHECK(b.rd64(FRO + 8) == frcd_hi(0x0100, FR_NO_WRITE, true));
        // An interrupt message is not DMA: it passes with nothing mapped there.
        uint32_t msg = 0x55;
        CHECK(b.dma(true, 0xFEE01000, &msg, 4, d, 0x0100));
        REQUIRE(b.msi.got.size() == 1);
        CHECK(b.msi.got[0].data == 0x55);
        CHECK(b.vtd.activity().blocked == 1);
    });
}

// ---------------------------------------------------------------- faults

TEST_CASE("vtd faults: every reason, with its record, FSTS PPF and FRI") {
    run([](bench& b) {
        tables t(b);
        // Bus 1: context tables present; bus 2: no root entry.
        uint64_t top = t.domain(0x0100, 1);
        t.map(top, 0x1000, 0x600000, true, false);        // read-only
        t.map(top, 0x2000, 0x601000, false, true);        // write-only
        t.map(top, 0x3000, 0x602000, false, false);       // not present
        t.map(top, 0x4000, 0x603000 | 0x8, true, true);   // reserved bit 3
        b.put(t.slot(top, 0x40000000, 3), 0x80000000ull | PTE_R | PTE_W);  // next table outside memory
        t.context(0x0103, 2, t.alloc(), T_UNTRANSLATED, 1);              // AW 1: 3-level, not in SAGAW
        t.context(0x0104, 2, t.alloc(), T_RESERVED);
        uint64_t ce = t.context_slot(0x0105);
        t.context(0x0105, 2, t.alloc());
        b.put(ce, b.get(ce) | 0x20);                                     // context lo reserved bit 5
        b.put(t.root + 3 * 16, 0x80000000ull | ENTRY_P);                 // bus 3: CTP outside memory
        b.put(t.root + 4 * 16, t.alloc() | 0x10 | ENTRY_P);              // bus 4: reserved bit 4
        enable(b, t.root);
        struct { uint16_t sid; uint64_t iova; bool write; uint8_t reason; } cases[] = {
            {0x0201, 0x1000, false, FR_ROOT_NOT_PRESENT},
            {0x0102, 0x1000, true, FR_CTX_NOT_PRESENT},
            {0x0103, 0x1000, false, FR_CTX_INVALID},
            {0x0104, 0x1000, false, FR_CTX_INVALID},
            {0x0100, 1ull << 48, false, FR_BEYOND_MGAW},
            {0x0100, 0x1008, true, FR_NO_WRITE},
            {0x0100, 0x2010, false, FR_NO_READ},
            {0x0100, 0x3000, true, FR_NO_WRITE},   // R = W = 0 is "not present": the access's reason
            {0x0100, 0x3000, false, FR_NO_READ},
            {0x0100, 0x40000000, false, FR_PTE_READ_ERROR},
            {0x0301, 0x1000, false, FR_CTX_READ_ERROR},
            {0x0401, 0x1000, true, FR_ROOT_RSVD},
            {0x0105, 0x1000, false, FR_CTX_RSVD},
            {0x0100, 0x4000, false, FR_PTE_RSVD},
        };
        unsigned index = 0;
        for (auto& c : cases) {
            CAPTURE(unsigned(c.reason));
            CAPTURE(c.sid);
            auto r = b.tr(c.sid, c.iova, c.write);
            CHECK_FALSE(r.ok);
            CHECK(r.reason == c.reason);
            CHECK(b.rd32(FSTS) == (FSTS_PPF | index << 8));
            CHECK(b.rd64(FRO + 16 * index) == (c.iova & ~0xfffull));
            CHECK(b.rd64(FRO + 16 * index + 8) == frcd_hi(c.sid, c.reason, c.write));
            service(b, index);
            CHECK(b.rd32(FSTS) == index << 8);  // FRI keeps its value; it means something only with PPF
            index = (index + 1) % 8;
        }
        // Zero-length reads of a write-only page pass (CAP.ZLR); one byte does not.
        sc_time d = sc_core::SC_ZERO_TIME;
        CHECK(b.tr(0x0100, 0x2000, false, d, 0).ok);
        CHECK_FALSE(b.tr(0x0100, 0x2000, false, d, 1).ok);
        // A root table outside memory: reason 8 (its entries are read afresh once
        // the context cache is flushed).
        b.wr64(RTADDR, 0x80000000ull);
        b.wr32(GCMD, GCMD_TE | GCMD_SRTP);
        REQUIRE(b.poll(GSTS, GSTS_RTPS, GSTS_RTPS));
        b.wr64(CCMD, CCMD_ICC | uint64_t(G_GLOBAL) << CCMD_CIRG_SHIFT);
        REQUIRE(b.poll(CCMD + 4, uint32_t(CCMD_ICC >> 32), 0));
        service(b, index);
        auto r = b.tr(0x0100, 0x1000, false);
        CHECK(r.reason == FR_ROOT_READ_ERROR);
        CHECK((b.rd32(FSTS) & FSTS_PPF) != 0);
    });
}

TEST_CASE("vtd faults: a context with FPD set blocks the request without recording it") {
    run([](bench& b) {
        tables t(b);
        t.context(0x0100, 1, t.alloc(), T_UNTRANSLATED, 2, true);
        enable(b, t.root);
        auto r = b.tr(0x0100, 0x1000, true);
        CHECK_FALSE(r.ok);
        CHECK(r.reason == FR_NO_WRITE);
        CHECK(b.rd32(FSTS) == 0);
        CHECK(b.rd64(FRO + 8) == 0);
        CHECK(b.vtd.activity().blocked == 1);
        CHECK(b.vtd.activity().faults == 0);
    });
}

TEST_CASE("vtd faults: compression by SID, one event while PPF is set, PFO when the next record is pending") {
    run([](bench& b) {
        tables t(b);
        enable(b, t.root);  // an empty root table: every requester faults with reason 1
        fault_event_to(b, false);
        auto fault = [&](uint16_t sid) { CHECK_FALSE(b.tr(sid, 0x7000 + sid, false).ok); };
        fault(0x0101);
        CHECK(b.rd32(FSTS) == FSTS_PPF);
        REQUIRE(b.msi.got.size() == 1);
        CHECK(b.msi.got[0].addr == FE_ADDR);
        CHECK(b.msi.got[0].data == FE_DATA);
        CHECK(b.rd32(FECTL) == 0);  // IP cleared once sent
        fault(0x0101);              // same requester, record 0 pending: collapsed
        CHECK(b.rd64(FRO + 16 + 8) == 0);
        fault(0x0102);              // another: record 1, no new event (PPF was set)
        CHECK(b.rd64(FRO + 16 + 8) == frcd_hi(0x0102, FR_ROOT_NOT_PRESENT, false));
        CHECK(b.rd32(FSTS) == FSTS_PPF);
        CHECK(b.msi.got.size() == 1);
        service(b, 0);
        service(b, 1);
        CHECK(b.rd32(FSTS) == 0);
        fault(0x0103);  // goes to record 2: FRI 2, a new event
        CHECK(b.rd32(FSTS) == (FSTS_PPF | 2u << 8));
        CHECK(b.msi.got.size() == 2);
        for (uint16_t s = 0x0104; s <= 0x0109; ++s) fault(s);  // records 3-7, then 0
        CHECK(b.rd64(FRO + 8) == frcd_hi(0x0109, FR_ROOT_NOT_PRESENT, false));
        CHECK((b.rd32(FSTS) & FSTS_PFO) == 0);
        fault(0x010a);  // the next record (1) is free: recorded, no event
        CHECK(b.rd64(FRO + 16 + 8) == frcd_hi(0x010a, FR_ROOT_NOT_PRESENT, false));
        fault(0x010b);  // the next (2) is pending: overflow, dropped, no event
        CHECK(b.rd32(FSTS) == (FSTS_PPF | FSTS_PFO | 2u << 8));
        CHECK(b.msi.got.size() == 2);
        b.wr32(FSTS, FSTS_PPF | FSTS_FRI);  // read-only bits: no change
        CHECK(b.rd32(FSTS) == (FSTS_PPF | FSTS_PFO | 2u << 8));
        for (unsigned i = 0; i < 8; ++i) b.wr32(FRO + 16 * i + 12, 0x80000000u);
        CHECK(b.rd32(FSTS) == (FSTS_PFO | 2u << 8));
        fault(0x010c);  // PFO still set: dropped though records are free
        CHECK((b.rd64(FRO + 16 * 2 + 8) & FRCD_F) == 0);
        CHECK(b.rd32(FSTS) == (FSTS_PFO | 2u << 8));
        b.wr32(FSTS, FSTS_PFO);
        CHECK((b.rd32(FSTS) & FSTS_PFO) == 0);
        fault(0x010d);  // record 2 again, FRI 2, a third event
        CHECK(b.rd64(FRO + 16 * 2 + 8) == frcd_hi(0x010d, FR_ROOT_NOT_PRESENT, false));
        CHECK(b.msi.got.size() == 3);
    });
}

TEST_CASE("vtd faults: the event waits behind IM=1 and goes when IM is cleared - servicing first withdraws it") {
    run([](bench& b) {
        tables t(b);
        enable(b, t.root);
        fault_event_to(b, true);
        CHECK_FALSE(b.tr(0x0100, 0x1000).ok);
        CHECK(b.rd32(FECTL) == (CTL_IM | CTL_IP));
        CHECK(b.msi.got.empty());
        b.wr32(FECTL, 0);
        REQUIRE(b.msi.got.size() == 1);
        CHECK(b.msi.got[0].data == FE_DATA);
        CHECK(b.rd32(FECTL) == 0);
        service(b, 0);
        b.wr32(FECTL, CTL_IM);
        CHECK_FALSE(b.tr(0x0101, 0x1000).ok);
        CHECK(b.rd32(FECTL) == (CTL_IM | CTL_IP));
        service(b, 1);  // every condition cleared: IP goes, nothing is sent later
        CHECK(b.rd32(FECTL) == CTL_IM);
        b.wr32(FECTL, 0);
        CHECK(b.msi.got.size() == 1);
    });
}

TEST_CASE("vtd faults: a fault message aimed at the unit's own FECTL is one write, not a loop") {
    run([](bench& b) {
        tables t(b);
        enable(b, t.root);
        b.wr32(FEDATA, 0);  // the message clears IM in FECTL itself
        b.wr32(FEADDR, uint32_t(VTD + FECTL));
        CHECK_FALSE(b.tr(0x0100, 0x1000).ok);
        CHECK(b.rd32(FECTL) == (CTL_IM | CTL_IP));
        b.wr32(FECTL, 0);
        CHECK(b.rd32(FECTL) == 0);
        CHECK(b.msi.got.empty());
    });
}

// ---------------------------------------------------------------- invalidation

TEST_CASE("vtd invalidation: register-based context cache, device, domain and global - stale until flushed") {
    run([](bench& b) {
        tables t(b);
        uint64_t top1 = t.domain(0x0100, 1);
        t.context(0x0108, 1, top1);
        uint64_t top2 = t.domain(0x0110, 2);
        t.map(top1, 0x1000, 0x600000);
        t.map(top2, 0x1000, 0x610000);
        enable(b, t.root);
        for (uint16_t s : {0x0100, 0x0108, 0x0110}) REQUIRE(b.tr(s, 0x1000).ok);
        for (uint16_t s : {0x0100, 0x0108, 0x0110}) b.put(t.context_slot(s), 0);  // no longer present
        for (uint16_t s : {0x0100, 0x0108, 0x0110}) CHECK(b.tr(s, 0x1000).ok);   // cached: still used
        auto flush = [&](unsigned g, uint16_t did, uint16_t sid, unsigned fm = 0) {
            b.wr64(CCMD, CCMD_ICC | uint64_t(g) << CCMD_CIRG_SHIFT | uint64_t(fm) << 32 | uint64_t(sid) << 16 | did);
            CHECK((b.rd64(CCMD) & CCMD_ICC) != 0);
            REQUIRE(b.poll(CCMD + 4, uint32_t(CCMD_ICC >> 32), 0));
            CHECK((b.rd64(CCMD) >> CCMD_CAIG_SHIFT & 3) == g);
        };
        flush(G_DEVICE, 1, 0x0108);
        CHECK(b.tr(0x0108, 0x1000).reason == FR_CTX_NOT_PRESENT);
        CHECK(b.tr(0x0100, 0x1000).ok);
        CHECK(b.tr(0x0110, 0x1000).ok);
        flush(G_DOMAIN, 2, 0);
        CHECK(b.tr(0x0110, 0x1000).reason == FR_CTX_NOT_PRESENT);
        CHECK(b.tr(0x0100, 0x1000).ok);
        flush(G_GLOBAL, 0, 0);
        CHECK(b.tr(0x0100, 0x1000).reason == FR_CTX_NOT_PRESENT);
        // Device-selective with a function mask: FM 3 covers all eight functions.
        t.context(0x0118, 3, top2);
        t.context(0x011d, 3, top2);
        REQUIRE(b.tr(0x0118, 0x1000).ok);
        REQUIRE(b.tr(0x011d, 0x1000).ok);
        b.put(t.context_slot(0x0118), 0);
        b.put(t.context_slot(0x011d), 0);
        flush(G_DEVICE, 3, 0x0118, 3);
        CHECK_FALSE(b.tr(0x0118, 0x1000).ok);
        CHECK_FALSE(b.tr(0x011d, 0x1000).ok);
    });
}

TEST_CASE("vtd invalidation: register-based IOTLB, page-selective with AM, domain and global - stale until flushed") {
    run([](bench& b) {
        tables t(b);
        uint64_t top1 = t.domain(0x0100, 1), top2 = t.domain(0x0110, 2);
        const uint64_t base = 0x40000000;
        for (unsigned i = 0; i < 4; ++i) t.map(top1, base + i * 0x1000, 0x600000 + i * 0x1000);
        t.map(top2, base, 0x700000);
        enable(b, t.root);
        for (unsigned i = 0; i < 4; ++i) REQUIRE(b.tr(0x0100, base + i * 0x1000).ok);
        REQUIRE(b.tr(0x0110, base).ok);
        for (unsigned i = 0; i < 4; ++i) t.map(top1, base + i * 0x1000, 0x800000 + i * 0x1000);  // remapped
        t.map(top2, base, 0x900000);
        auto phys = [&](uint16_t sid, unsigned page) { return b.tr(sid, base + page * 0x1000).phys; };
        for (unsigned i = 0; i < 4; ++i) CHECK(phys(0x0100, i) == 0x600000 + i * 0x1000);  // stale
        auto flush = [&](unsigned g, uint16_t did, uint64_t addr, unsigned am) {
            b.wr64(IRO, addr | am);
            b.wr64(IRO + 8, IOTLB_IVT | uint64_t(g) << IOTLB_IIRG_SHIFT | IOTLB_DW | uint64_t(did) << IOTLB_DID_SHIFT);
            CHECK((b.rd64(IRO + 8) & IOTLB_IVT) != 0);
            REQUIRE(b.poll(IRO + 12, uint32_t(IOTLB_IVT >> 32), 0));
            return unsigned(b.rd64(IRO + 8) >> IOTLB_IAIG_SHIFT & 3);
        };
        CHECK(flush(G_PAGE, 1, base + 0x2000, 1) == G_PAGE);  // pages 2 and 3
        CHECK(phys(0x0100, 0) == 0x600000);
        CHECK(phys(0x0100, 1) == 0x601000);
        CHECK(phys(0x0100, 2) == 0x802000);
        CHECK(phys(0x0100, 3) == 0x803000);
        CHECK(flush(G_PAGE, 2, base + 0x1000, 0) == G_PAGE);  // another domain's page: not these
        CHECK(phys(0x0100, 1) == 0x601000);
        CHECK(phys(0x0110, 0) == 0x700000);
        CHECK(flush(G_DOMAIN, 2, 0, 0) == G_DOMAIN);
        CHECK(phys(0x0110, 0) == 0x900000);
        CHECK(phys(0x0100, 0) == 0x600000);
        // A mask beyond CAP.MAMV (9) is done for the domain, and IAIG says so [inference].
        CHECK(flush(G_PAGE, 1, 0, 10) == G_DOMAIN);
        CHECK(phys(0x0100, 0) == 0x800000);
        t.map(top1, base, 0xa00000);
        CHECK(phys(0x0100, 0) == 0x800000);
        CHECK(flush(G_GLOBAL, 0, 0, 0) == G_GLOBAL);
        CHECK(phys(0x0100, 0) == 0xa00000);
    });
}

TEST_CASE("vtd queued invalidation: descriptors from IQH to IQT, a wait descriptor's status write and interrupt") {
    run([](bench& b) {
        tables t(b);
        uint64_t top = t.domain(0x0100, 1);
        t.map(top, 0x1000, 0x600000);
        t.map(top, 0x2000, 0x601000);
        const uint64_t queue = t.alloc(), status = 0x30000;
        enable(b, t.root);
        b.wr64(IQT, 0);
        b.wr64(IQA, queue);
        b.wr32(GCMD, GCMD_TE | GCMD_QIE);
        REQUIRE(b.poll(GSTS, GSTS_QIES, GSTS_QIES));
        b.wr32(IEDATA, IE_DATA);
        b.wr32(IEADDR, uint32_t(IE_ADDR));
        b.wr32(IECTL, 0);
        REQUIRE(b.tr(0x0100, 0x1000).ok);
        REQUIRE(b.tr(0x0100, 0x2000).ok);
        t.map(top, 0x1000, 0x700000);
        t.map(top, 0x2000, 0x701000);
        b.put(status, 0);
        b.put(queue + 0, QI_IOTLB | uint64_t(G_PAGE) << 4 | 1ull << 16);  // page 0x1000 of domain 1
        b.put(queue + 8, 0x1000);
        b.put(queue + 16, QI_WAIT | QI_WAIT_SW | QI_WAIT_IF | 2ull << 32);
        b.put(queue + 24, status);
        b.wr64(IQT, 2 << 4);
        sc_time start = sc_core::sc_time_stamp();
        while (b.get(status) != 2 && sc_core::sc_time_stamp() - start < sc_time(20, SC_US)) wait(sc_time(10, SC_NS));
        REQUIRE(b.get(status) == 2);
        CHECK(sc_core::sc_time_stamp() - start >= 2 * (MEM_LAT + sc_time(50, SC_NS)));  // two fetches
        CHECK(b.rd64(IQH) == 2 << 4);
        CHECK(b.rd32(ICS) == ICS_IWC);
        REQUIRE(b.msi.got.size() == 1);
        CHECK(b.msi.got[0].addr == IE_ADDR);
        CHECK(b.msi.got[0].data == IE_DATA);
        CHECK(b.tr(0x0100, 0x1000).phys == 0x700000);  // flushed
        CHECK(b.tr(0x0100, 0x2000).phys == 0x601000);  // not asked: stale
        // A global context flush then a wait without interrupt; the register interface is unused meanwhile.
        b.wr32(ICS, ICS_IWC);
        b.put(t.context_slot(0x0100), 0);
        b.put(queue + 32, QI_CONTEXT | uint64_t(G_GLOBAL) << 4);
        b.put(queue + 40, 0);
        b.put(queue + 48, QI_WAIT | QI_WAIT_SW | 3ull << 32);
        b.put(queue + 56, status);
        b.wr64(IQT, 4 << 4);
        start = sc_core::sc_time_stamp();
        while (b.get(status) != 3 && sc_core::sc_time_stamp() - start < sc_time(20, SC_US)) wait(sc_time(10, SC_NS));
        REQUIRE(b.get(status) == 3);
        CHECK(b.rd32(ICS) == 0);
        CHECK(b.msi.got.size() == 1);
        CHECK(b.tr(0x0100, 0x2000).reason == FR_CTX_NOT_PRESENT);
        b.wr64(CCMD, CCMD_ICC | uint64_t(G_GLOBAL) << CCMD_CIRG_SHIFT);
        REQUIRE(b.poll(CCMD + 4, uint32_t(CCMD_ICC >> 32), 0));
        CHECK((b.rd64(CCMD) & CCMD_CAIG) == 0);  // not done: QI is the interface in use [inference]
    });
}

TEST_CASE("vtd queued invalidation: an invalid descriptor sets IQE and stops at it - clearing IQE resumes") {
    run([](bench& b) {
        tables t(b);
        const uint64_t queue = t.alloc(), status = 0x30000;
        enable(b, t.root);
        fault_event_to(b, false);
        b.wr64(IQT, 0);
        b.wr64(IQA, queue);
        b.wr32(GCMD, GCMD_TE | GCMD_QIE);
        REQUIRE(b.poll(GSTS, GSTS_QIES, GSTS_QIES));
        b.put(status, 0);
        b.put(queue + 16, QI_WAIT | QI_WAIT_SW | 5ull << 32);  // slot 0 stays zero: type 0, invalid
        b.put(queue + 24, status);
        b.wr64(IQT, 2 << 4);
        REQUIRE(b.poll(FSTS, FSTS_IQE, FSTS_IQE));
        wait(sc_time(2, SC_US));
        CHECK(b.rd64(IQH) == 0);      // at the bad descriptor
        CHECK(b.get(status) == 0);    // nothing after it ran
        REQUIRE(b.msi.got.size() == 1);  // IQE is a fault event
        CHECK(b.msi.got[0].data == FE_DATA);
        // Linux rewrites the slot with a wait descriptor and clears IQE.
        b.put(queue + 0, QI_WAIT | QI_WAIT_SW | 4ull << 32);
        b.put(queue + 8, status + 8);
        b.wr32(FSTS, FSTS_IQE);
        REQUIRE(b.poll(IQH, 0xffffffff, 2 << 4));
        CHECK(b.get(status + 8) == 4);
        CHECK(b.get(status) == 5);
        CHECK(b.rd32(FSTS) == 0);
        // An IOTLB descriptor with granularity 0 is invalid too.
        b.put(queue + 32, QI_IOTLB);
        b.put(queue + 40, 0);
        b.wr64(IQT, 3 << 4);
        REQUIRE(b.poll(FSTS, FSTS_IQE, FSTS_IQE));
        CHECK(b.rd64(IQH) == 2 << 4);
        CHECK(b.msi.got.size() == 2);
    });
}

// ---------------------------------------------------------------- the IOAT channel through the root complex
