// Test bench for the VT-d unit through its sockets (test_vtd.cpp): a fake CPU
// drives the register block through a router, tables live in a real DRAM model,
// interrupt messages are caught in the 0xFEEx_xxxx window, and DMA reaches the
// unit through a root complex, from an IOAT function and from a bare requester
// socket; plus the driver's table layout and register sequences.
#pragma once
#include "ioat_harness.h"

#include "models/core/request.h"
#include "models/ioh/vtd.h"
#include "models/pcie/root_complex.h"

#include <doctest/doctest.h>

#include <vector>

namespace ioatsim::vtdbench {
using namespace ioatsim::models;
using namespace ioatsim::vtd;
using sc_core::sc_time;
using sc_core::SC_NS;
using sc_core::SC_US;

constexpr uint64_t VTD = 0xFBFFE000, MMIO = 0xC0000000, ECAM = 0xE0000000, DRAM = 64ull << 20;
constexpr uint64_t FE_ADDR = 0xFEE01000, IE_ADDR = 0xFEE02000;
constexpr uint32_t FE_DATA = 0x4021, IE_DATA = 0x4022;
constexpr unsigned FRO = 0x100, IRO = 0x200;
constexpr uint16_t SID_IOAT = 0x16 << 3;  // 00:16.0
const sc_time MEM_LAT(100, SC_NS);        // the bench's DRAM latency

inline vtd_config unit_config() {
    vtd_config c;
    c.base = VTD;
    return c;
}

struct bench : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<bench> cpu{"cpu"};  // MMIO: the unit and the function's BAR
    tlm_utils::simple_initiator_socket<bench> dev{"dev"};  // a requester below the root complex
    router bus{"bus"};
    dram mem;
    harness::msi_catcher msi{"msi"};
    vtd_unit vtd;
    root_complex rc;
    ioat_function fn;
    std::function<void()> body;

    bench(sc_core::sc_module_name n, const vtd_config& c)
        : sc_module(n), mem("mem", 0, DRAM, dram_timing{MEM_LAT}), vtd("vtd", c),
          rc("rc", 0, 0, ECAM, MMIO, 0x100000), fn("ioat", "0000:00:16.0", ioat_config{}) {
        cpu.bind(bus.tsock);
        vtd.mem.bind(bus.tsock);
        rc.fabric.bind(bus.tsock);
        bus.isock.bind(mem.tsock);
        bus.isock.bind(msi.tsock);
        bus.isock.bind(vtd.regs);
        bus.isock.bind(rc.tsock);
        bus.map(0, DRAM, 0, "mem");
        bus.map(0xFEE00000, 0x100000, 1, "msi");
        bus.map(VTD, REG_SIZE, 2, "vtd");
        bus.map(MMIO, 0x100000, 3, "mmio");
        rc.attach(0, 0x16, 0, fn);
        rc.bar_out.bind(fn.bar0);
        fn.dma.bind(rc.upstream);  // port 0: slot 00:16.0
        dev.bind(rc.upstream);     // port 1: no slot, its request names the requester
        rc.set_remapper(&vtd);
        fn.config().write(pci_reg::BAR0, 4, uint32_t(MMIO));
        fn.config().write(pci_reg::BAR0 + 4, 4, 0);
        fn.config().write(pci_reg::COMMAND, 2, pci_reg::CMD_MEM | pci_reg::CMD_MASTER);
        SC_HAS_PROCESS(bench);
        SC_THREAD(run);
    }
    void run() {
        body();
        sc_core::sc_stop();
    }
    uint64_t io(tlm::tlm_command cmd, uint64_t addr, unsigned len, uint64_t v = 0) {
        tlm::tlm_generic_payload gp;
        prepare_payload(gp, cmd == tlm::TLM_WRITE_COMMAND, addr, &v, len);
        sc_time d = sc_core::SC_ZERO_TIME;
        cpu->b_transport(gp, d);
        wait(d);
        return v;
    }
    uint32_t rd32(unsigned off) { return uint32_t(io(tlm::TLM_READ_COMMAND, VTD + off, 4)); }
    void wr32(unsigned off, uint32_t v) { io(tlm::TLM_WRITE_COMMAND, VTD + off, 4, v); }
    uint64_t rd64(unsigned off) { return rd32(off) | uint64_t(rd32(off + 4)) << 32; }
    void wr64(unsigned off, uint64_t v) {  // low half first, as Linux's dmar_writeq
        wr32(off, uint32_t(v));
        wr32(off + 4, uint32_t(v >> 32));
    }
    // Polls a register until (value & mask) == want, for at most `limit`.
    bool poll(unsigned off, uint32_t mask, uint32_t want, sc_time limit = sc_time(20, SC_US)) {
        sc_time end = sc_core::sc_time_stamp() + limit;
        while (sc_core::sc_time_stamp() < end) {
            if ((rd32(off) & mask) == want) return true;
            wait(sc_time(10, SC_NS));
        }
        return false;
    }
    // A request from the bare requester socket with requester ID `rid`.
    bool dma(bool write, uint64_t addr, void* buf, unsigned len, sc_time& d, uint16_t rid) {
        tlm::tlm_generic_payload gp;
        prepare_payload(gp, write, addr, buf, len);
        request_ext who;
        who.kind = request_ext::dma;
        who.requester = rid;
        request_scope scope(gp, who);
        dev->b_transport(gp, d);
        return gp.is_response_ok();
    }
    void put(uint64_t a, uint64_t v) { mem.poke(a, &v, 8); }
    uint64_t get(uint64_t a) {
        uint64_t v = 0;
        mem.peek(a, &v, 8);
        return v;
    }
    vtd_unit::result tr(uint16_t sid, uint64_t iova, bool write, sc_time& d, uint64_t len = 8) {
        return vtd.translate(sid, iova, len, write, d);
    }
    vtd_unit::result tr(uint16_t sid, uint64_t iova, bool write = false) {
        sc_time d = sc_core::SC_ZERO_TIME;
        return vtd.translate(sid, iova, 8, write, d);
    }
};

inline void run(std::function<void(bench&)> body, const vtd_config& c = unit_config()) {
    harness::run<bench>(std::move(body), c);
}

// Root, context and second-level tables written into the bench's DRAM, as the
// driver would: pages from 4 MiB up, zero-filled, R|W on every non-leaf entry.
struct tables {
    bench& b;
    uint64_t next = 0x400000;
    uint64_t root;
    explicit tables(bench& bb) : b(bb) { root = alloc(); }
    uint64_t alloc() {
        uint64_t a = next;
        next += 0x1000;
        return a;
    }
    uint64_t context_slot(uint16_t sid) {
        uint64_t re = root + uint64_t(sid >> 8) * 16;
        uint64_t lo = b.get(re);
        if (!(lo & ENTRY_P)) b.put(re, lo = alloc() | ENTRY_P);
        return (lo & ENTRY_ADDR) + uint64_t(sid & 0xff) * 16;
    }
    void context(uint16_t sid, uint16_t did, uint64_t top, unsigned t = T_UNTRANSLATED, unsigned aw = 2,
                 bool fpd = false) {
        uint64_t at = context_slot(sid);
        b.put(at, top | uint64_t(t) << CTX_T_SHIFT | (fpd ? CTX_LO_FPD : 0) | ENTRY_P);
        b.put(at + 8, aw | uint64_t(did) << CTX_DID_SHIFT);
    }
    // The entry of `level` (4 top .. 1 leaf) for `iova`, tables made on the way.
    uint64_t slot(uint64_t top, uint64_t iova, unsigned level) {
        uint64_t table = top;
        for (unsigned l = 4; l > level; --l) {
            uint64_t at = table + ((iova >> (12 + 9 * (l - 1))) & 0x1ff) * 8;
            uint64_t e = b.get(at);
            if (!(e & (PTE_R | PTE_W))) b.put(at, e = alloc() | PTE_R | PTE_W);
            table = e & ENTRY_ADDR;
        }
        return table + ((iova >> (12 + 9 * (level - 1))) & 0x1ff) * 8;
    }
    void map(uint64_t top, uint64_t iova, uint64_t phys, bool r = true, bool w = true) {
        b.put(slot(top, iova, 1), phys | (r ? PTE_R : 0) | (w ? PTE_W : 0));
    }
    // A domain with its own top table for `sid`.
    uint64_t domain(uint16_t sid, uint16_t did) {
        uint64_t top = alloc();
        context(sid, did, top);
        return top;
    }
};

// The driver's enable sequence: root pointer, then translation (write-back of `keep`).
inline void enable(bench& b, uint64_t root, uint32_t keep = 0) {
    b.wr64(RTADDR, root);
    b.wr32(GCMD, keep | GCMD_SRTP);
    REQUIRE(b.poll(GSTS, GSTS_RTPS, GSTS_RTPS));
    b.wr32(GCMD, keep | GCMD_TE);
    REQUIRE(b.poll(GSTS, GSTS_TES, GSTS_TES));
}

inline void fault_event_to(bench& b, bool masked) {
    b.wr32(FEDATA, FE_DATA);
    b.wr32(FEADDR, uint32_t(FE_ADDR));
    b.wr32(FEUADDR, 0);
    b.wr32(FECTL, masked ? CTL_IM : 0);
}

inline uint64_t frcd_hi(uint16_t sid, uint8_t reason, bool write) {
    return uint64_t(sid) | uint64_t(reason) << 32 | (write ? 0 : FRCD_T_READ) | FRCD_F;
}

// Clears record i and every FSTS status, as Linux's dmar_fault does.
inline void service(bench& b, unsigned i) {
    b.wr32(FRO + 16 * i + 12, 0x80000000u);
    b.wr32(FSTS, b.rd32(FSTS));
}

// ---------------------------------------------------------------- the IOAT channel

constexpr uint64_t RING = 0x10000, CMP = 0x20000;

inline void ioat_wr(bench& b, unsigned reg, unsigned len, uint64_t v) {
    b.io(tlm::TLM_WRITE_COMMAND, MMIO + ioat::chan_base(0) + reg, len, v);
}
inline uint64_t ioat_rd(bench& b, unsigned reg, unsigned len) {
    return b.io(tlm::TLM_READ_COMMAND, MMIO + ioat::chan_base(0) + reg, len);
}

// One copy descriptor at `ring` (a chain of its own), started with DMACOUNT 1.
inline void copy(bench& b, uint64_t ring, uint64_t src, uint64_t dst, uint32_t len) {
    ioat::descriptor d{len, ioat::DESC_COMPL_WRITE, src, dst, ring, 0, 0, 0, 0};
    b.mem.poke(ring, &d, sizeof d);
    ioat_wr(b, ioat::CHANCTRL, 2, ioat::CHANCTRL_RUN);
    ioat_wr(b, ioat::CHANCMP, 4, CMP);
    ioat_wr(b, ioat::CHANCMP + 4, 4, 0);
    ioat_wr(b, ioat::CHAINADDR, 4, ring);
    ioat_wr(b, ioat::CHAINADDR + 4, 4, 0);
    ioat_wr(b, ioat::DMACOUNT, 2, 1);
    wait(sc_time(20, SC_US));
}

// Domain 7 for 00:16.0: ring and completion mapped 1:1, source and destination
// at IOVAs above the bench's memory, the destination's pages apart.
inline uint64_t ioat_domain(bench& b, tables& t) {
    uint64_t top = t.domain(SID_IOAT, 7);
    t.map(top, RING, RING);
    t.map(top, RING + 0x1000, RING + 0x1000);
    t.map(top, CMP, CMP);
    t.map(top, 0x7000000, 0x200000, true, false);
    t.map(top, 0x7001000, 0x201000, true, false);
    t.map(top, 0x7010000, 0x300000, false, true);
    t.map(top, 0x7011000, 0x380000, false, true);
    std::vector<uint8_t> v(0x2000);
    for (size_t i = 0; i < v.size(); ++i) v[i] = uint8_t(i * 13 + (i >> 8));
    b.mem.poke(0x200000, v.data(), v.size());
    enable(b, t.root);
    fault_event_to(b, false);
    return top;
}


}  // namespace ioatsim::vtdbench
