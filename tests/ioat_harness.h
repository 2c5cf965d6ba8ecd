// Test bench for the IOAT function through its sockets: a fake initiator drives
// BAR0 (and config space, as firmware would), DMA goes to real DRAM models, MSI
// and MSI-X writes are caught by a fake target, INTx levels can be recorded.
#pragma once

#include "models/core/request.h"
#include "models/fabric/router.h"
#include "models/ioat/descriptor.h"
#include "models/ioat/ioat_function.h"
#include "models/memory/dram.h"

#include <doctest/doctest.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace ioatsim::harness {

struct message { sc_core::sc_time t; uint64_t addr; uint32_t data; };

// Records every write to the MSI window: when, where and the (first 4 bytes of) data.
struct msi_catcher : sc_core::sc_module {
    tlm_utils::simple_target_socket<msi_catcher> tsock{"tsock"};
    std::vector<message> got;
    explicit msi_catcher(sc_core::sc_module_name n) : sc_module(n) {
        tsock.register_b_transport(this, &msi_catcher::b_transport);
    }
    void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& d) {
        uint32_t v = 0;
        std::memcpy(&v, gp.get_data_ptr(), std::min(4u, gp.get_data_length()));
        got.push_back({sc_core::sc_time_stamp() + d, gp.get_address(), v});
        gp.set_response_status(tlm::TLM_OK_RESPONSE);
    }
};

struct window { const char* name; uint64_t base, size; };

struct bench_config {
    uint64_t dram_size = 64 << 20;  // DRAM at 0
    std::vector<window> extra;      // more DRAM windows, in ascending address order
    models::ioat_config ioat{};
    bool intx = false;              // record every INTx level change in bench::intx
};

// Fake initiator plus the function, DRAM at 0 (and `extra`), the MSI window at
// 0xFEE00000; the SC_THREAD runs `body` and then stops the simulation.
struct bench : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<bench> isock{"isock"};
    models::router bus{"bus"};
    models::dram mem;
    std::vector<std::unique_ptr<models::dram>> extra;
    msi_catcher msi{"msi"};
    models::ioat_function fn;
    std::vector<bool> intx;
    std::function<void()> body;

    bench(sc_core::sc_module_name n, const bench_config& c)
        : sc_module(n), mem("mem", 0, c.dram_size), extra(windows(c.extra)),
          fn("ioat", "0000:00:16.0", c.ioat) {
        isock.bind(fn.bar0);
        fn.dma.bind(bus.tsock);
        bus.isock.bind(mem.tsock);
        bus.isock.bind(msi.tsock);
        for (auto& d : extra) bus.isock.bind(d->tsock);
        bus.map(0, c.dram_size, 0, "mem");
        bus.map(0xFEE00000, 0x100000, 1, "msi");
        for (unsigned i = 0; i < c.extra.size(); ++i)
            bus.map(c.extra[i].base, c.extra[i].size, 2 + i, c.extra[i].name);
        fn.config().write(0x04, 2, 0x6);  // memory decode and bus master
        if (c.intx) fn.set_intx([this](bool level) { intx.push_back(level); });
        SC_HAS_PROCESS(bench);
        SC_THREAD(run);
    }
    void run() {
        body();
        sc_core::sc_stop();
    }
    uint64_t rd(unsigned off, unsigned len) {
        uint64_t v = 0;
        transport(tlm::TLM_READ_COMMAND, off, len, v);
        return v;
    }
    void wr(unsigned off, unsigned len, uint64_t v) { transport(tlm::TLM_WRITE_COMMAND, off, len, v); }
    void cfg_wr(unsigned off, unsigned len, uint32_t v) {  // as the root complex does
        fn.config().write(off, len, v);
        fn.config_written(off, len);
    }
    unsigned ch(unsigned reg) const { return ioat::chan_base(0) + reg; }

    // Backdoor DRAM access: the highest window starting at or below `a`.
    models::dram& at(uint64_t a) {
        models::dram* d = &mem;
        for (auto& w : extra)
            if (a >= w->base()) d = w.get();
        return *d;
    }
    void put(uint64_t a, const void* p, uint64_t n) { at(a).poke(a, p, n); }
    uint64_t word(uint64_t a) {
        uint64_t v = 0;
        at(a).peek(a, &v, 8);
        return v;
    }
    void desc(uint64_t a, uint32_t size, uint32_t ctl, uint64_t src, uint64_t dst, uint64_t next) {
        ioat::descriptor d{size, ctl, src, dst, next, 0, 0, 0, 0};
        put(a, &d, sizeof d);
    }

private:
    static std::vector<std::unique_ptr<models::dram>> windows(const std::vector<window>& ws) {
        std::vector<std::unique_ptr<models::dram>> v;
        for (auto& w : ws) v.push_back(std::make_unique<models::dram>(w.name, w.base, w.size));
        return v;
    }
    void transport(tlm::tlm_command cmd, unsigned off, unsigned len, uint64_t& v) {
        tlm::tlm_generic_payload gp;
        ioatsim::models::prepare_payload(gp, cmd == tlm::TLM_WRITE_COMMAND, off, &v, len);
        sc_core::sc_time d = sc_core::SC_ZERO_TIME;
        isock->b_transport(gp, d);
        wait(d);
    }
};

// Elaborates a B named "tb" from `args`, runs `body` in it, simulates to the end.
template <class B, class... A>
void run(std::function<void(B&)> body, A&&... args) {
    B b("tb", std::forward<A>(args)...);
    b.body = [&] { body(b); };
    sc_core::sc_start();
}


// The register-level bench shared by test_ioat_registers and test_ioat_channel:
// fixed addresses, DRAM at 0 and at 4 GiB, INTx recorded, data helpers, and the
// driver's MSI-X and channel start sequences.
namespace regbench {

constexpr uint64_t RING = 0x10000, CMP = 0x20000, SRC = 0x100000, DST = 0x200000;
constexpr uint64_t HI = 0x100000000ull;   // a second DRAM window above 4 GiB
constexpr uint64_t SENT = ~0ull;          // "never written" marker (status 7 is no state)
constexpr uint64_t MSIX_ADDR = 0xFEE01000;

// The harness bench with DRAM at 0 and at 4 GiB, INTx recorded, and data helpers.
struct bench : harness::bench {
    bench(sc_core::sc_module_name n, const models::ioat_config& cfg)
        : harness::bench(n, {64 << 20, {{"hi", HI, 1 << 20}}, cfg, true}) {}
    void set_word(uint64_t a, uint64_t v) { put(a, &v, 8); }
    std::vector<uint8_t> block(uint64_t a, uint64_t n) {
        std::vector<uint8_t> v(n);
        at(a).peek(a, v.data(), n);
        return v;
    }
    void pattern(uint64_t a, uint64_t n, uint8_t seed) {
        std::vector<uint8_t> v(n);
        for (uint64_t i = 0; i < n; ++i) v[i] = uint8_t(seed + i * 13 + (i >> 8));
        put(a, v.data(), n);
    }
    void memset(uint64_t a, uint64_t n, uint8_t c) {
        std::vector<uint8_t> v(n, c);
        put(a, v.data(), n);
    }
    uint8_t status() { return uint8_t(rd(ch(ioat::CHANSTS), 8) & ioat::CHANSTS_STATUS); }
    uint32_t chanerr() { return uint32_t(rd(ch(ioat::CHANERR), 4)); }
};

inline void run_bench(std::function<void(bench&)> body,
                      const models::ioat_config& cfg = models::ioat_config{}) {
    harness::run<bench>(std::move(body), cfg);
}

inline void wait_us(double us) { sc_core::wait(sc_core::sc_time(us, sc_core::SC_US)); }

// MSI-X as the driver sets it up: vector 0 unmasked, MSI-X and master enable.
inline void enable_msix(bench& b) {
    unsigned cap = b.fn.config().find_cap(models::pci_reg::CAP_MSIX);
    b.wr(ioat::MSIX_TABLE, 8, MSIX_ADDR);
    b.wr(ioat::MSIX_TABLE + 8, 4, 0x41);
    b.wr(ioat::MSIX_TABLE + 12, 4, 0);
    b.cfg_wr(cap + 2, 2, 0x8000);
    b.wr(ioat::INTRCTRL, 1, ioat::INTRCTRL_MASTER_INT_EN | ioat::INTRCTRL_MSIX_VECTOR_CONTROL);
}

// CHANCTRL, CHANCMP and CHAINADDR as the driver writes them (32-bit halves); the
// completion word is marked so a write to it can be seen.
inline void program(bench& b, uint64_t chain, uint16_t ctrl = ioat::CHANCTRL_RUN,
                    uint64_t cmp = CMP) {
    b.wr(b.ch(ioat::CHANCTRL), 2, ctrl);
    b.wr(b.ch(ioat::CHANCMP), 4, uint32_t(cmp));
    b.wr(b.ch(ioat::CHANCMP) + 4, 4, cmp >> 32);
    b.wr(b.ch(ioat::CHAINADDR), 4, uint32_t(chain));
    b.wr(b.ch(ioat::CHAINADDR) + 4, 4, chain >> 32);
    uint64_t aligned = cmp & ~7ull;
    if (aligned < (64u << 20) - 16 || (aligned >= HI && aligned < HI + (1 << 20) - 16)) {
        b.set_word(aligned, SENT);
        b.set_word(aligned + 8, SENT);
    }
}

inline void start(bench& b, uint64_t chain, uint16_t count, uint16_t ctrl = ioat::CHANCTRL_RUN) {
    program(b, chain, ctrl);
    b.wr(b.ch(ioat::DMACOUNT), 2, count);
}

constexpr uint64_t BAD = 0x80000000ull;   // decoded by nothing

inline uint32_t op_ctl(uint8_t op, uint32_t bits = 0) { return uint32_t(op) << ioat::DESC_OP_SHIFT | bits; }

// The error contract: CHANSTS HALTED naming the last completed descriptor, CHANERR
// exactly `bit`, the error completion (ERR_COMPLETION_EN is in CHANCTRL_RUN) and one
// error interrupt (ERR_INT_EN and INT_REARM are in CHANCTRL_RUN).
inline void check_halted_by(bench& b, uint32_t bit, uint64_t last) {
    uint64_t sts = b.rd(b.ch(ioat::CHANSTS), 8);
    CHECK((sts & ioat::CHANSTS_STATUS) == ioat::HALTED);
    CHECK((sts & ioat::CHANSTS_ADDR_MASK) == last);
    CHECK(b.chanerr() == bit);
    CHECK(b.word(CMP) == (last | ioat::HALTED));
    CHECK(b.msi.got.size() == 1);
}

}  // namespace regbench

}  // namespace ioatsim::harness
