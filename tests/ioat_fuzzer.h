// Fuzzing the IOAT function through its sockets, seeded and deterministic: each
// round writes a ring of random descriptors (random ops, sizes, addresses, ctl
// bits, src_cnt and next pointers, some inside DRAM and some not), rings the
// doorbell, then does random register writes and commands at random times. After
// every round the channel must be in a state the reference allows
// (shared/reference/ioat-hardware.md §3, §5, §7):
//   * CHANSTS[2:0] is ACTIVE, DONE, SUSPENDED or HALTED, and CHANSTS/CDAR/the
//     completion word only ever name descriptors the fuzzer placed;
//   * CHANERR holds defined bits only; a fault bit (anything but the validation
//     results 16/17) means HALTED; HALTED with CHANERR == 0 only when nothing has
//     started the channel since power-on, RESET or ABORT, or software cleared it;
//   * completion words land only at programmed, 8-byte aligned CHANCMP addresses;
//   * after RESET and enough time CHANSTS == HALTED and CHANERR == 0.
// A SystemC error or an exception anywhere fails the test, so "never crashes" is
// checked on every access. The generator is a local splitmix64: same seed, same run.
#pragma once
#include "ioat_harness.h"
#include "models/core/report.h"
#include "models/ioat/ops.h"

#include "sw/kernel/random.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>
#include <vector>

using namespace ioatsim;
using namespace ioatsim::models;
using namespace ioatsim::ioat;
using sc_core::sc_time;
using sc_core::SC_NS;
using sc_core::SC_US;

namespace {

// Memory map of the fuzz bench (all in one DRAM at 0).
constexpr uint64_t DRAM_SIZE = 16 << 20;
constexpr uint64_t DESC_LO = 0x10000, DESC_SLOTS = 2048, DESC_HI = DESC_LO + 64 * DESC_SLOTS;
constexpr uint64_t GUARD_LO = 0x40000, GUARD_HI = 0x60000;  // never written: reads as zeros
constexpr uint64_t CMP_LO = 0x70000, CMP_SIZE = 0x1000;      // completion words
constexpr uint64_t DATA_LO = 0x100000, DATA_HI = DRAM_SIZE;  // every DMA write goes here
constexpr uint64_t BAD = 0x80000000ull;                      // decoded by nothing
constexpr uint64_t SENT = ~0ull;
constexpr uint64_t MSIX_ADDR = 0xFEE01000, MSI_ADDR = 0xFEE02000;
constexpr uint32_t MSIX_DATA = 0x41, MSI_DATA = 0x55;
constexpr uint32_t CHANERR_DEFINED = 0x0007ffff;  // §7: bits 0-18 (19-27 are newer hardware only)
constexpr uint32_t CHANERR_VALIDATION = CHANERR_XOR_P | CHANERR_XOR_Q;

using sw::splitmix64;

// The harness bench on one DRAM, INTx recorded, MMIO writes logged when
// IOAT_FUZZ_TRACE is set (for a failure report).
struct bench : harness::bench {
    bench(sc_core::sc_module_name n, const ioat_config& cfg)
        : harness::bench(n, {DRAM_SIZE, {}, cfg, true}) {}
    bool logging = std::getenv("IOAT_FUZZ_TRACE") != nullptr;
    std::vector<std::string> log;
    void wr(unsigned off, unsigned len, uint64_t v) {
        if (logging) {
            std::ostringstream s;
            s << sc_core::sc_time_stamp().value() << " ps: wr 0x" << std::hex << off << "/" << len
              << " = 0x" << (len == 8 ? v : v & ((1ull << (8 * len)) - 1));
            log.push_back(s.str());
        }
        harness::bench::wr(off, len, v);
    }
};

// How a test case leans: how often fields are invalid, how busy software is.
struct knobs {
    uint64_t seed;
    unsigned rounds;
    double bad = 0.08;          // chance a descriptor has one invalid field; scales bad CHAINADDR/CHANCMP/commands
    unsigned max_actions = 6;   // register writes / commands per round
    double max_gap_us = 20;     // between actions
    double cmd_share = 0.35;    // share of actions that are CHANCMD writes
    double reg_share = 0.35;    // share that are register / interrupt-config writes
    unsigned max_ring = 10;     // logical descriptors per ring
    ioat_config cfg{};
};

class fuzzer {
public:
    fuzzer(bench& b, const knobs& k) : b_(b), k_(k), r_{k.seed} {}

    void run() {
        setup();
        for (round_ = 0; round_ < k_.rounds && ok_; ++round_) {
            begin_round();
            for (unsigned a = 0, n = unsigned(r_.below(k_.max_actions + 1)); a < n && ok_; ++a) {
                sc_core::wait(sc_time(double(r_.below(uint64_t(k_.max_gap_us * 1000) + 1)), SC_NS));
                action();
            }
            settle();
            check_round();
        }
        if (ok_) reset_and_check();
        rounds_run = round_;
    }
    unsigned rounds_run = 0;
    uint64_t completed_max = 0, errors_seen = 0, halts_seen = 0;
    uint64_t status_seen[4] = {}, chanerr_bits_seen = 0;

private:
    // ------------------------------------------------------------ setup
    void setup() {
        std::vector<uint8_t> junk(1 << 20);
        for (auto& c : junk) c = uint8_t(r_.next());
        b_.mem.poke(DATA_LO, junk.data(), junk.size());  // sources worth XORing
        b_.wr(MSIX_TABLE, 8, MSIX_ADDR);
        b_.wr(MSIX_TABLE + 8, 4, MSIX_DATA);
        b_.wr(MSIX_TABLE + 12, 4, 0);
        unsigned msi = b_.fn.config().find_cap(pci_reg::CAP_MSI);
        b_.cfg_wr(msi + 4, 4, MSI_ADDR);
        b_.cfg_wr(msi + 8, 4, 0);
        b_.cfg_wr(msi + 12, 2, MSI_DATA);
        b_.cfg_wr(b_.fn.config().find_cap(pci_reg::CAP_MSIX) + 2, 2, 0x8000);
        b_.wr(INTRCTRL, 1, INTRCTRL_MASTER_INT_EN | INTRCTRL_MSIX_VECTOR_CONTROL);
        ring_base_ = DESC_LO;
    }

    // ------------------------------------------------------------ generators
    uint32_t cap() const { return 1u << k_.cfg.xfercap; }

    uint64_t bad_addr(uint64_t len) {  // an access that faults
        switch (r_.below(4)) {
        case 0: return BAD + r_.below(1 << 20);
        case 1: return DRAM_SIZE - r_.below(std::min<uint64_t>(len, 8192));  // runs off the end
        case 2: return ~0ull - r_.below(4096);
        default: return r_.next() | (1ull << 40);
        }
    }
    uint64_t data_addr(uint64_t len) {  // a block inside the data region
        uint64_t span = DATA_HI - DATA_LO;
        len = std::min(len, span);
        return DATA_LO + r_.below(span - len + 1);
    }

    uint64_t slot(uint64_t i) const { return DESC_LO + 64 * (i % DESC_SLOTS); }

    uint64_t bad_next(uint64_t follow) {
        switch (r_.below(5)) {
        case 0: return slot(r_.below(DESC_SLOTS));                        // some other placed slot
        case 1: return follow + 8 * (1 + r_.below(7));                     // misaligned
        case 2: return BAD + 64 * r_.below(1024);                          // outside memory
        case 3: return ~0ull & ~63ull;                                     // the top of the address space
        default: return GUARD_LO + 64 * r_.below((GUARD_HI - GUARD_LO) / 64);  // reads as zeros
        }
    }

    uint64_t chain_ptr(uint64_t base) {
        if (!r_.chance(k_.bad / 2)) return base;
        switch (r_.below(3)) {
        case 0: return base + 8 * (1 + r_.below(7));
        case 1: return BAD + 64 * r_.below(1024);
        default: return GUARD_LO + 64 * r_.below((GUARD_HI - GUARD_LO) / 64);
        }
    }

    uint64_t cmp_ptr() {
        if (!r_.chance(k_.bad)) return CMP_LO + 64 * r_.below(CMP_SIZE / 64);
        switch (r_.below(3)) {
        case 0: return CMP_LO + 8 * r_.below(CMP_SIZE / 8);    // 8-byte aligned only
        case 1: return CMP_LO + 1 + r_.below(CMP_SIZE - 16);   // misaligned
        default: return BAD + 8 * r_.below(1024);              // outside memory
        }
    }

    uint32_t pick_size(uint8_t op, bool bad) {
        if (bad) {
            switch (r_.below(3)) {
            case 0: return 0;
            case 1: return cap() + 1 + uint32_t(r_.below(4096));
            default: return uint32_t(r_.next()) | cap();  // above the cap
            }
        }
        bool bulk = op == OP_COPY || op == OP_FILL;
        uint64_t n;
        if (bulk && r_.chance(0.02)) n = 1 + r_.below(cap());
        else if (r_.chance(0.12)) n = 1 + r_.below(65536);
        else n = 1 + r_.below(4096);
        return uint32_t(std::min<uint64_t>(n, cap()));
    }

    uint8_t pick_op(bool bad) {
        if (bad) {
            static const uint8_t odd[] = {OP_PQ_UPDATE, 0x02, 0x86, 0x8C, 0xFF};
            return r_.chance(0.5) ? odd[r_.below(5)] : uint8_t(r_.next() | 0x02);
        }
        static const uint8_t ops[] = {OP_COPY, OP_COPY, OP_COPY, OP_FILL, OP_XOR,
                                      OP_XOR_VAL, OP_PQ, OP_PQ_VAL};
        return ops[r_.below(8)];
    }

    // One logical descriptor at `at` = slot(index), 1 or 2 frames, whose `next`
    // follows the ring (back to ring_base_ when last). With probability `bad` exactly
    // one field is invalid. Validation ops are built to match half of the time
    // (sources in equal pairs XOR to 0, equal coefficient pairs make Q 0, and P/Q
    // read from the zero guard), so they do not always halt. Returns its frames.
    unsigned put_desc(uint64_t at, uint64_t index, bool last) {
        uint8_t raw[128];
        for (auto& c : raw) c = uint8_t(r_.next());  // reserved and user fields: junk
        auto p32 = [&](unsigned off, uint32_t v) { std::memcpy(raw + off, &v, 4); };
        auto p64 = [&](unsigned off, uint64_t v) { std::memcpy(raw + off, &v, 8); };
        enum { F_OP, F_SIZE, F_SRC, F_DST, F_NEXT, F_EXT, F_SRC_CNT, F_NONE };
        unsigned bad = r_.chance(k_.bad) ? unsigned(r_.below(F_NONE)) : unsigned(F_NONE);

        uint8_t op = pick_op(bad == F_OP);
        bool is_xor = op == OP_XOR || op == OP_XOR_VAL, is_pq = op == OP_PQ || op == OP_PQ_VAL;
        bool is_val = op == OP_XOR_VAL || op == OP_PQ_VAL;
        bool match = is_val && r_.chance(0.75);
        uint32_t size = pick_size(op, bad == F_SIZE);
        if (match) size = std::min<uint32_t>(size, uint32_t(GUARD_HI - GUARD_LO));
        uint32_t ctl = uint32_t(r_.next()) & 0x7df;  // int_en, snoop, fence, brk, bundle, dca, hint
        ctl = (ctl & ~DESC_COMPL_WRITE) | (r_.chance(0.6) ? DESC_COMPL_WRITE : 0);
        ctl = (ctl & ~DESC_INT_EN) | (r_.chance(0.3) ? DESC_INT_EN : 0);
        unsigned nsrc = 0;
        if (is_xor || is_pq) {
            nsrc = bad == F_SRC_CNT ? 9 : 2 + unsigned(r_.below(7));  // 9 sources is invalid
            if (match) nsrc &= ~1u;
            ctl = (ctl & ~ioat_ops::SRC_CNT_MASK) | ((nsrc - 2) & 7) << ioat_ops::SRC_CNT_SHIFT;
            ctl &= ~(ioat_ops::PQ_P_DISABLE | ioat_ops::PQ_Q_DISABLE);
            if (is_pq && r_.chance(0.1)) ctl |= ioat_ops::PQ_P_DISABLE;
            if (is_pq && r_.chance(0.1)) ctl |= ioat_ops::PQ_Q_DISABLE;
        } else if (op == OP_COPY) {
            ctl = (ctl & ~DESC_NULL) | (r_.chance(0.15) ? DESC_NULL : 0);
        }
        if (r_.chance(0.05)) ctl |= uint32_t(r_.next()) & 0x00ffe000;  // reserved bits
        ctl |= uint32_t(op) << DESC_OP_SHIFT;
        p32(0x00, size);
        p32(0x04, ctl);

        unsigned frames = nsrc > (is_xor ? 5u : 3u) ? 2 : 1;
        uint64_t follow = last ? ring_base_ : slot(index + frames);
        uint64_t next = bad == F_NEXT ? bad_next(follow) : follow;
        if (frames == 2) {
            p64(0x18, bad == F_EXT ? bad_next(at + 64) : at + 64);  // the extension frame
            p64(0x40 + 0x18, next);
        } else {
            p64(0x18, next);
        }

        // Source slots in frame order; slot 0 is 0x08 for every op.
        static const unsigned xor_off[] = {0x08, 0x20, 0x28, 0x30, 0x38, 0x40, 0x48, 0x50};
        static const unsigned pq_off[] = {0x08, 0x20, 0x28, 0x40, 0x48, 0x50, 0x60, 0x68};
        const unsigned* src_off = is_pq ? pq_off : xor_off;
        unsigned nslots = nsrc ? std::min(nsrc, 8u) : 1;
        unsigned bad_src = unsigned(r_.below(nslots));
        for (unsigned i = 0; i < nslots; ++i) {
            uint64_t a = match && (i & 1) ? 0 : data_addr(size);
            if (match && (i & 1)) std::memcpy(&a, raw + src_off[i - 1], 8);  // the pair's twin
            if (bad == F_SRC && i == bad_src) a = bad_addr(size);
            if (op == OP_FILL) a = r_.next();  // the pattern, not an address
            p64(src_off[i], a);
        }
        p64(0x10, bad == F_DST ? bad_addr(size) : match ? GUARD_LO : data_addr(size));  // dst / P
        if (is_pq) {
            p64(0x38, match ? GUARD_LO : data_addr(size));  // Q
            if (match)
                for (unsigned i = 1; i < nsrc; i += 2) raw[0x30 + i] = raw[0x30 + i - 1];
        }
        b_.mem.poke(at, raw, 64 * frames);
        return frames;
    }

    // A ring of 1..max_ring descriptors at ring_base_; returns its frame count.
    unsigned build_ring() {
        unsigned n = 1 + unsigned(r_.below(k_.max_ring));
        unsigned idx = unsigned((ring_base_ - DESC_LO) / 64), frames = 0;
        std::vector<uint64_t> starts;
        for (unsigned i = 0; i < n; ++i) {
            starts.push_back(slot(idx + frames));
            frames += put_desc(slot(idx + frames), idx + frames, i + 1 == n);
        }
        ring_frames_ = frames;
        ring_starts_ = starts;
        return frames;
    }

    // ------------------------------------------------------------ software side
    uint32_t chanerr() { return uint32_t(b_.rd(b_.ch(CHANERR), 4)); }
    uint64_t chansts() { return b_.rd(b_.ch(CHANSTS), 8); }

    void note_start_trigger() {
        if (sc_core::sc_time_stamp() >= quiet_after_) may_halt_clean_ = false;
    }
    // A doorbell or START that lands before a pending RESET/ABORT has been carried
    // out may be swallowed by it, so only those after the quiet time count.
    void note_reset_or_abort(sc_time quiet = sc_time(3, SC_US)) {
        may_halt_clean_ = true;
        quiet_after_ = sc_core::sc_time_stamp() + quiet;
    }

    void write_chancmp(uint64_t a) {
        b_.wr(b_.ch(CHANCMP), 4, uint32_t(a));
        b_.wr(b_.ch(CHANCMP) + 4, 4, a >> 32);
        if (!(a & 7)) cmp_programmed_.insert(a);
    }
    void write_chainaddr(uint64_t a) {
        if (r_.chance(0.5)) {
            b_.wr(b_.ch(CHAINADDR), 8, a);
        } else {
            b_.wr(b_.ch(CHAINADDR), 4, uint32_t(a));
            b_.wr(b_.ch(CHAINADDR) + 4, 4, a >> 32);
        }
    }
    void doorbell(unsigned frames) {
        uint16_t dc = uint16_t(b_.rd(b_.ch(DMACOUNT), 2));
        uint64_t p = r_.below(100);
        uint16_t add = p < 75 ? uint16_t(frames)
                     : p < 85 ? uint16_t(1 + r_.below(frames))
                     : p < 96 ? uint16_t(frames + r_.below(3 * frames + 1))
                     : p < 98 ? uint16_t(r_.next())
                              : 0;
        b_.wr(b_.ch(DMACOUNT), 2, uint16_t(dc + add));
        note_start_trigger();
    }
    uint16_t pick_chanctrl() {
        switch (r_.below(6)) {
        case 0: case 1: case 2: return CHANCTRL_RUN;
        case 3: return CHANCTRL_RUN | uint16_t(r_.next() & 0xf220);
        case 4: return uint16_t(r_.next());
        default: return CHANCTRL_INT_REARM | (r_.chance(0.5) ? CHANCTRL_ERR_COMPLETION_EN : 0);
        }
    }

    // RESET as the driver does it (write, then poll the bit), and the reference's
    // promise about the result.
    void reset_and_check() {
        b_.wr(b_.ch(CHANCMD), 1, CHANCMD_RESET);
        note_reset_or_abort();
        sw_cleared_ = false;
        for (int i = 0; i < 200 && (b_.rd(b_.ch(CHANCMD), 1) & CHANCMD_RESET); ++i)
            sc_core::wait(sc_time(100, SC_NS));
        sc_core::wait(sc_time(1, SC_US));
        note_reset_or_abort(sc_core::SC_ZERO_TIME);  // done: every later doorbell counts
        uint64_t sts = chansts();
        uint32_t err = chanerr();
        expect(b_.rd(b_.ch(CHANCMD), 1) == 0, "RESET did not self-clear");
        expect(sts == HALTED, "after RESET CHANSTS != HALTED", sts);
        expect(err == 0, "after RESET CHANERR != 0", err);
        expect(b_.rd(b_.ch(DMACOUNT), 2) == 0, "after RESET DMACOUNT != 0");
    }

    void begin_round() {
        // Fresh completion area each round.
        std::vector<uint64_t> sent(CMP_SIZE / 8, SENT);
        b_.mem.poke(CMP_LO, sent.data(), CMP_SIZE);
        uint64_t sts = chansts();
        uint32_t err = chanerr();
        bool broken = (sts & CHANSTS_STATUS) == HALTED && err;
        uint64_t how = r_.below(100);
        if (broken ? how < 85 : how < 35) {
            // Driver start: RESET, CHANCTRL, CHANCMP halves, ring, CHAINADDR, DMACOUNT.
            reset_and_check();
            ring_base_ = slot(r_.below(DESC_SLOTS - 2 * k_.max_ring - 2));
            b_.wr(b_.ch(CHANCTRL), 2, pick_chanctrl());
            if (r_.chance(0.3)) b_.wr(b_.ch(CHANERR_MASK), 4, r_.chance(0.5) ? CHANERR_VALIDATION : uint32_t(r_.next()));
            write_chancmp(cmp_ptr());
            unsigned frames = build_ring();
            write_chainaddr(chain_ptr(ring_base_));
            doorbell(frames);
        } else if (how < 65) {
            // Restart after ABORT at a new CHAINADDR.
            b_.wr(b_.ch(CHANCMD), 1, CHANCMD_ABORT);
            note_reset_or_abort();
            sc_core::wait(sc_time(double(r_.below(3000)), SC_NS));
            ring_base_ = slot(r_.below(DESC_SLOTS - 2 * k_.max_ring - 2));
            if (r_.chance(0.5)) b_.wr(b_.ch(CHANCTRL), 2, pick_chanctrl());
            if (r_.chance(0.3)) write_chancmp(cmp_ptr());
            unsigned frames = build_ring();
            write_chainaddr(chain_ptr(ring_base_));
            doorbell(frames);
        } else {
            // Keep going: new descriptors in the same ring slots, more DMACOUNT.
            if (r_.chance(0.5)) b_.wr(b_.ch(CHANCTRL), 2, CHANCTRL_RUN);
            unsigned frames = build_ring();
            doorbell(frames);
        }
    }

    void command() {
        static const uint8_t cmds[] = {CHANCMD_START, CHANCMD_SUSPEND, CHANCMD_SUSPEND, CHANCMD_RESUME,
                                       CHANCMD_RESUME, CHANCMD_ABORT, CHANCMD_RESET, CHANCMD_APPEND};
        uint8_t cmd = r_.chance(k_.bad) ? uint8_t(r_.next()) : cmds[r_.below(r_.chance(k_.bad) ? 8 : 7)];
        b_.wr(b_.ch(CHANCMD), 1, cmd);
        uint8_t c = cmd & 0x3f;
        if (c == CHANCMD_RESET || c == CHANCMD_ABORT) note_reset_or_abort();
        if (c == CHANCMD_RESET) sw_cleared_ = false;
        if (c == CHANCMD_START) note_start_trigger();
    }

    void register_write() {
        switch (r_.below(16)) {
        case 0: case 1: b_.wr(b_.ch(CHANCTRL), 2, pick_chanctrl()); break;
        case 2: {  // the driver's error path: write back what was read
            uint32_t before = chanerr();
            uint32_t v = r_.chance(0.7) ? before : uint32_t(r_.next());
            b_.wr(b_.ch(CHANERR), 4, v);
            if (before & v) sw_cleared_ = true;
            break;
        }
        case 3: b_.wr(b_.ch(CHANERR_MASK), 4, r_.chance(0.5) ? CHANERR_VALIDATION : uint32_t(r_.next())); break;
        case 4: write_chainaddr(chain_ptr(ring_base_)); break;
        case 5: write_chancmp(cmp_ptr()); break;
        case 6: b_.wr(INTRDELAY, 2, r_.chance(0.5) ? 0 : r_.below(40)); break;
        case 7: b_.wr(INTRCTRL, 1, r_.chance(0.7) ? INTRCTRL_MASTER_INT_EN | INTRCTRL_MSIX_VECTOR_CONTROL
                                                   : r_.next() & 0xff); break;
        case 8: b_.wr(MSIX_TABLE + 12, 4, r_.below(2)); break;
        case 9: {  // interrupt mechanism: MSI-X, MSI, or neither (INTx)
            unsigned msix = b_.fn.config().find_cap(pci_reg::CAP_MSIX);
            unsigned msi = b_.fn.config().find_cap(pci_reg::CAP_MSI);
            uint64_t m = r_.below(4);
            b_.cfg_wr(msix + 2, 2, m == 0 ? 0x8000 : m == 1 ? 0xC000 : 0);
            b_.cfg_wr(msi + 2, 2, m == 2 ? 1 : 0);
            break;
        }
        case 10: {  // a doorbell at a random time
            uint16_t dc = uint16_t(b_.rd(b_.ch(DMACOUNT), 2));
            b_.wr(b_.ch(DMACOUNT), 2, uint16_t(dc + 1 + r_.below(4)));
            note_start_trigger();
            break;
        }
        case 11: {  // rewrite one descriptor of the ring while it may be running
            if (ring_starts_.empty()) break;
            size_t i = r_.below(ring_starts_.size());
            uint64_t at = ring_starts_[i];
            put_desc(at, (at - DESC_LO) / 64, i + 1 == ring_starts_.size());
            break;
        }
        case 12: {  // registers that must not change, and undefined offsets
            static const unsigned ro[][2] = {{CHANCNT, 1}, {XFERCAP, 1}, {CBVER, 1}, {PERPORTOFFSET, 2},
                                             {DEVICE_STATUS, 2}, {DMACAPABILITY, 4}, {DCAOFFSET, 2},
                                             {0x70, 4}, {0x40, 8}, {0x80 + DMA_COMP, 2},
                                             {0x80 + CHANSTS, 8}, {0x80 + CDAR, 8}, {0x80 + 0x38, 8}};
            auto& r = ro[r_.below(13)];
            b_.wr(r[0], r[1], r_.next());
            break;
        }
        case 13: b_.wr(GENCTRL, 1, r_.next()); break;
        case 14: b_.wr(b_.ch(DCACTRL), 4, r_.next()); break;
        default: {  // reads, some with side effects (ATTNSTATUS, CHANCTRL in-use)
            static const unsigned rds[][2] = {{ATTNSTATUS, 4}, {INTRCTRL, 1}, {0x80 + CHANCTRL, 2},
                                              {0x80 + CHANSTS, 4}, {0x80 + CHANSTS + 4, 4}, {0x00, 8},
                                              {MSIX_PBA, 8}, {0x80 + CHANERR, 4}};
            auto& r = rds[r_.below(8)];
            b_.rd(r[0], r[1]);
            break;
        }
        }
    }

    void action() {
        double p = double(r_.next() >> 11) * 0x1.0p-53;
        if (p < k_.cmd_share) command();
        else if (p < k_.cmd_share + k_.reg_share) register_write();
        else doorbell(std::max(1u, ring_frames_));
        // Mid-round, every CHANSTS read must already be a defined state.
        uint64_t sts = chansts();
        expect((sts & CHANSTS_STATUS) <= HALTED, "CHANSTS status undefined mid-round", sts);
    }

    // Time for a pending start (1 us), RESET or command to land, then for the ring
    // to run out; a channel still ACTIVE after 2 ms is checked as it is.
    void settle() {
        sc_core::wait(sc_time(5, SC_US));
        for (int i = 0; i < 200 && (chansts() & CHANSTS_STATUS) == ACTIVE; ++i)
            sc_core::wait(sc_time(10, SC_US));
    }

    // ------------------------------------------------------------ invariants
    static bool placed(uint64_t a) { return a == 0 || (a >= DESC_LO && a < DESC_HI); }

    void check_round() {
        // The channel may still be running, so each rule reads in the order that keeps
        // it sound: a fault bit is set together with HALTED, and nothing but RESET
        // (not issued here) clears it, so CHANERR-then-CHANSTS for "fault => HALTED",
        // CHANSTS-then-CHANERR for "HALTED without CHANERR".
        uint32_t err_before = chanerr();
        uint64_t sts = chansts();
        uint32_t err = chanerr();
        uint64_t st = sts & CHANSTS_STATUS, addr = sts & CHANSTS_ADDR_MASK;
        if (st == HALTED) ++halts_seen;
        if (err) ++errors_seen;
        if (st <= HALTED) ++status_seen[st];
        chanerr_bits_seen |= err;
        completed_max = std::max(completed_max, b_.fn.chan(0).descriptors_done());

        expect(st <= HALTED, "CHANSTS status is not ACTIVE/DONE/SUSPENDED/HALTED", sts);
        expect(!(sts & 0x20), "CHANSTS reserved bit 5 set", sts);
        expect(placed(addr), "CHANSTS names no placed descriptor", sts);
        uint64_t cdar = b_.rd(b_.ch(CDAR), 8);
        expect(placed(cdar) || (cdar >= GUARD_LO && cdar < GUARD_HI), "CDAR outside fetched memory", cdar);
        expect(!(cdar & 63), "CDAR not 64-byte aligned", cdar);
        expect(!(err & ~CHANERR_DEFINED), "CHANERR has undefined bits", err);
        expect(!(err_before & ~CHANERR_VALIDATION) || st == HALTED, "a CHANERR fault bit without HALTED (value: CHANSTS)", sts);
        expect(!(st == HALTED && err == 0) || may_halt_clean_ || sw_cleared_,
               "HALTED with CHANERR == 0 although started since RESET/ABORT", sts);

        // Completion words: only at programmed 8-byte aligned addresses, each a CHANSTS value.
        std::vector<uint64_t> words(CMP_SIZE / 8);
        b_.mem.peek(CMP_LO, words.data(), CMP_SIZE);
        for (size_t i = 0; i < words.size(); ++i) {
            if (words[i] == SENT) continue;
            uint64_t at = CMP_LO + 8 * i;
            expect(cmp_programmed_.count(at) != 0, "completion word at an address never programmed", at);
            expect((words[i] & CHANSTS_STATUS) <= HALTED, "completion word status undefined", words[i]);
            expect(!(words[i] & 0x20), "completion word has reserved bit 5 set", words[i]);
            expect(placed(words[i] & CHANSTS_ADDR_MASK), "completion word names no placed descriptor", words[i]);
        }
        // Interrupt messages only to the programmed MSI-X / MSI addresses; INTx toggles.
        for (; msgs_seen_ < b_.msi.got.size(); ++msgs_seen_) {
            auto& m = b_.msi.got[msgs_seen_];
            expect((m.addr == MSIX_ADDR && m.data == MSIX_DATA) || (m.addr == MSI_ADDR && m.data == MSI_DATA),
                   "interrupt message to an unprogrammed address", m.addr);
        }
        for (size_t i = 1; i < b_.intx.size(); ++i)
            expect(b_.intx[i] != b_.intx[i - 1], "INTx reported the same level twice");
        // Identity registers untouched by anything the fuzzer wrote.
        expect(b_.rd(CHANCNT, 1) == k_.cfg.chancnt && b_.rd(XFERCAP, 1) == k_.cfg.xfercap &&
                   b_.rd(CBVER, 1) == k_.cfg.cbver && b_.rd(DMACAPABILITY, 4) == k_.cfg.dmacapability &&
                   b_.rd(b_.ch(DMA_COMP), 2) == 2 && (b_.rd(INTRDELAY, 2) & 0xc000) == 0x8000,
               "a read-only register changed");
    }

    void expect(bool cond, const char* what, uint64_t value = 0) {
        if (cond || !ok_) return;
        ok_ = false;
        std::ostringstream s;
        s << what << " (seed 0x" << std::hex << k_.seed << std::dec << ", round " << round_
          << ", value 0x" << std::hex << value << ")";
        FAIL_CHECK(s.str());
        if (std::getenv("IOAT_FUZZ_TRACE")) {  // the model's own trace leading up to it
            auto lines = sim_report().trace_lines();
            for (size_t i = lines.size() > 60 ? lines.size() - 60 : 0; i < lines.size(); ++i)
                MESSAGE(lines[i]);
            for (size_t i = b_.log.size() > 60 ? b_.log.size() - 60 : 0; i < b_.log.size(); ++i)
                MESSAGE(b_.log[i]);
        }
    }

    bench& b_;
    knobs k_;
    splitmix64 r_;
    unsigned round_ = 0;
    bool ok_ = true;
    uint64_t ring_base_ = DESC_LO;
    unsigned ring_frames_ = 0;
    std::vector<uint64_t> ring_starts_;
    std::set<uint64_t> cmp_programmed_;
    size_t msgs_seen_ = 0;
    bool may_halt_clean_ = true;  // power-on: HALTED, never started
    bool sw_cleared_ = false;     // software cleared a CHANERR bit since the last RESET
    sc_time quiet_after_ = sc_core::SC_ZERO_TIME;
};

}  // namespace
