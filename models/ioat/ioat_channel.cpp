#include "models/ioat/ioat_channel.h"

#include "models/core/report.h"
#include "models/core/request.h"
#include "models/ioat/ioat_function.h"
#include "models/ioat/ops.h"

#include <bitset>

namespace ioatsim::models {
using namespace ioat;
using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;
using ioat_ops::fault;

namespace {
fault transfer(ioat_function& fn, bool write, uint64_t addr, uint8_t* buf, uint64_t len, sc_time& delay) {
    pooled_payload lent;
    tlm::tlm_generic_payload& gp = *lent;
    prepare_payload(gp, write, addr, buf, unsigned(len));
    fn.dma_transport(gp, delay);
    if (gp.is_response_ok()) return fault::none;
    return gp.get_response_status() == tlm::TLM_ADDRESS_ERROR_RESPONSE ? fault::address : fault::data;
}
}  // namespace

// Reads go out at once; writes are held until the descriptor's time has passed,
// so an abort or reset mid-descriptor leaves its destination untouched.
// Every access is also remembered, so the memory path can be charged for it.
// Its buffers live as long as the channel: no host allocation per descriptor.
class ioat_channel::port : public ioat_ops::mem_if {
public:
    explicit port(ioat_channel& c) : c_(c) {}
    void clear() {
        writes.clear();
        accesses.clear();
        staged.clear();
    }
    fault read(uint64_t addr, uint8_t* buf, uint64_t len) override {
        sc_time ignored = SC_ZERO_TIME;  // streaming time is charged per byte
        accesses.push_back({addr, len});
        return transfer(c_.fn_, false, addr, buf, len, ignored);
    }
    fault write(uint64_t addr, const uint8_t* buf, uint64_t len) override {
        writes.push_back({addr, staged.size(), len});
        staged.insert(staged.end(), buf, buf + len);
        accesses.push_back({addr, len});
        return fault::none;
    }
    std::vector<write_back> writes;
    std::vector<uint8_t> staged;  // the held writes' bytes, in order
    std::vector<std::pair<uint64_t, uint64_t>> accesses;  // address, bytes
private:
    ioat_channel& c_;
};

ioat_channel::ioat_channel(sc_core::sc_module_name name, ioat_function& fn, unsigned index)
    : sc_module(name), fn_(fn), index_(index), base_(chan_base(index)), src_(this->name()),
      port_(new port(*this)) {
    SC_HAS_PROCESS(ioat_channel);
    SC_THREAD(run);
}

ioat_channel::~ioat_channel() = default;

uint16_t ioat_channel::dmacount() const { return uint16_t(fn_.reg(base_ + DMACOUNT, 2)); }
uint16_t ioat_channel::available() const { return started_ ? uint16_t(dmacount() - count_) : 0; }

void ioat_channel::dmacount_written() {
    if ((!started_ || restart_) && !errored_) {
        // The first doorbell after reset, or after a new CHAINADDR, starts there.
        if (restart_ && state_ == SUSPENDED) state_ = DONE;
        started_ = chain_fetch_ = true;
        restart_ = false;
        next_ = fn_.reg(base_ + CHAINADDR, 8);
        count_ = 0;
    }
    kick_.notify(fn_.cfg().timing.reg_access);
}

void ioat_channel::command(uint8_t cmd) {
    cmd &= 0x3f;
    if (!cmd) return;
    if (std::bitset<8>(cmd).count() > 1 || (cmd & CHANCMD_APPEND)) {
        // One command at a time; APPEND belongs to the CB1 list model, not the ring.
        // An error like any other: error completion and interrupt as CHANCTRL says.
        fn_.set_reg(base_ + CHANCMD, 1, 0);
        halt(CHANERR_CHANCMD, 0);
        kick_.notify(SC_ZERO_TIME);
        return;
    }
    if (cmd & CHANCMD_RESET) reset_req_ = true;
    if (cmd & CHANCMD_ABORT) abort_req_ = true;
    if (cmd & CHANCMD_SUSPEND) suspend_req_ = true;
    if ((cmd & CHANCMD_RESUME) && state_ == SUSPENDED) state_ = available() ? ACTIVE : DONE;
    if ((cmd & CHANCMD_START) && !errored_ && state_ != ACTIVE) {
        started_ = chain_fetch_ = true;
        next_ = fn_.reg(base_ + CHAINADDR, 8);
        count_ = 0;
    }
    kick_.notify(fn_.cfg().timing.reg_access);
}

void ioat_channel::run() {
    const ioat_timing& t = fn_.cfg().timing;
    bool burst_start = true;
    for (;;) {
        if (reset_req_) {
            wait(t.reset_latency);
            do_reset();
            continue;
        }
        if (abort_req_) {
            abort_req_ = suspend_req_ = started_ = false;
            state_ = HALTED;
            count_ = 0;
            fn_.set_reg(base_ + DMACOUNT, 2, 0);
            sim_report().trace(ioat_function::stamp(), name(), "abort");
            continue;
        }
        if (suspend_req_) {
            suspend_req_ = false;
            if (state_ != HALTED) state_ = SUSPENDED;
        }
        if (started_ && state_ == HALTED && !errored_) {
            wait(t.start_latency);  // leaving reset after the first doorbell or START
            if (reset_req_ || abort_req_ || errored_) continue;  // errored: a CHANCMD error meanwhile
            state_ = DONE;
        }
        if (!available() || state_ == SUSPENDED || errored_) {
            if (state_ == ACTIVE) state_ = DONE;
            burst_start = true;
            wait(kick_);
            continue;
        }
        state_ = ACTIVE;
        burst_start = !process(burst_start);
    }
}

bool ioat_channel::supported(uint8_t op) const {
    uint32_t cap = fn_.cfg().dmacapability;
    switch (op) {
    case OP_FILL: return cap & DMACAP_FILL;
    case OP_XOR: case OP_XOR_VAL: return cap & DMACAP_XOR;
    case OP_PQ: case OP_PQ_VAL: return cap & DMACAP_PQ;
    default: return true;  // COPY always; unknown ops are ioat_ops' to reject
    }
}

bool ioat_channel::fetch(uint64_t addr, uint8_t* frame, bool first, sc_time& delay) {
    uint32_t err = 0;
    if (addr & 0x3f) err = first ? CHANERR_CHAIN_ADDR : CHANERR_NEXT_DESC_ALIGN;
    else if (transfer(fn_, false, addr, frame, 64, delay) != fault::none)
        err = first ? CHANERR_CHAIN_ADDR : CHANERR_NEXT_ADDR;
    if (err) halt(err, addr);
    return !err;
}

// One descriptor (and its extension frame): fetch, check, read, wait for its
// time, write, complete. False when it did not complete.
bool ioat_channel::process(bool burst_start) {
    const ioat_timing& t = fn_.cfg().timing;
    uint64_t addr = next_;
    uint8_t raw[128] = {};
    sc_time fetch_time = SC_ZERO_TIME;
    if (!fetch(addr, raw, chain_fetch_, fetch_time)) return false;
    fn_.set_reg(base_ + CDAR, 8, addr);
    descriptor d = decode_descriptor(raw);
    // XFERCAP[4:0] is log2 of the bytes a descriptor may move; 0 stands for 32 GB (registers.h).
    const unsigned xfercap = fn_.cfg().xfercap & 0x1f;
    uint64_t max_len = xfercap ? 1ull << xfercap : 1ull << 35;
    bool null = d.op() == OP_COPY && d.has(DESC_NULL);
    unsigned frames = null ? 1 : ioat_ops::frames(raw);
    if (available() < frames) {  // the extension frame is not handed over yet
        wait(kick_);
        return false;
    }
    if (frames == 2 && !fetch(d.next, raw + 64, false, fetch_time)) return false;

    port& mem = *port_;
    mem.clear();
    ioat_ops::result r;
    if (!supported(d.op())) {
        r.chanerr = CHANERR_DESC_CTRL;  // an operation DMACAPABILITY does not advertise
    } else if (null) {
        if (d.size == 0 || d.size > max_len) r.chanerr = CHANERR_LEN;
    } else {
        r = ioat_ops::execute(raw, max_len, mem);
    }
    if (r.chanerr) {
        halt(r.chanerr, r.fault_addr ? r.fault_addr : addr);
        return false;
    }
    // Descriptor fetch overlaps the previous payload: only a burst's first waits.
    // The descriptor's overhead and payload then take their turn on the data
    // mover -- the engine's, shared by the IOH's channels, or the channel's own
    // -- and on the memory path, whichever finishes last.
    uint64_t stream = std::max(r.bytes_read, r.bytes_written);
    sc_time ready = sc_core::sc_time_stamp() + (burst_start ? fetch_time : SC_ZERO_TIME);
    uint64_t at = uint64_t(ready.value()), done = 0;
    if (fn_.cfg().mover) done = fn_.cfg().mover->finish(at, stream, uint64_t(t.desc_overhead.value()));
    else done = at + uint64_t(t.desc_overhead.value()) + uint64_t(double(stream) * 1000.0 / t.bandwidth_gbps);
    if (fn_.cfg().memory)
        for (auto& [a, n] : mem.accesses) done = std::max(done, fn_.cfg().memory(at, a, n));
    sc_time end = sc_time::from_value(done);
    while (sc_core::sc_time_stamp() < end) {
        wait(end - sc_core::sc_time_stamp(), kick_);
        if (reset_req_ || abort_req_ || errored_) return false;  // the descriptor is dropped
    }
    if (!commit(mem)) return false;
    bytes_ += r.bytes_written;
    uint32_t val = (r.p_mismatch ? CHANERR_XOR_P : 0) | (r.q_mismatch ? CHANERR_XOR_Q : 0);
    next_ = decode_descriptor(frames == 2 ? raw + 64 : raw).next;  // `next` is at 0x18 of every frame
    complete(addr, d, frames, val);
    return true;
}

bool ioat_channel::commit(port& held) {
    for (const write_back& w : held.writes) {
        sc_time posted = SC_ZERO_TIME;
        fault f = transfer(fn_, true, w.addr, held.staged.data() + w.at, w.len, posted);
        if (f != fault::none) {
            halt(f == fault::address ? CHANERR_DEST_ADDR : CHANERR_WRITE_DATA, w.addr);
            return false;
        }
    }
    return true;
}

// Validation mismatches (XOR_VAL/PQ_VAL) are results the driver collects from
// CHANERR bits 16/17; unless masked in CHANERR_MASK they halt the channel like an
// error so the driver's error path sees them.
void ioat_channel::complete(uint64_t addr, const descriptor& d, unsigned frames, uint32_t val) {
    completed_ = addr & CHANSTS_ADDR_MASK;
    count_ = uint16_t(count_ + frames);
    chain_fetch_ = false;
    ++desc_done_;
    report& rep = sim_report();
    const std::string& src = src_;
    if (!rep.needs_fields(src, "desc")) rep.trace(ioat_function::stamp(), src, "desc");
    else rep.trace(ioat_function::stamp(), src, "desc",
                       json_obj().set("addr", hex(addr)).set("op", unsigned(d.op()))
                                 .set("len", d.op() == OP_COPY && d.has(DESC_NULL) ? 0u : d.size)
                                 .set("ctl", hex(d.ctl)));
    bool halted = false;
    if (val) {
        fn_.set_reg(base_ + CHANERR, 4, fn_.reg(base_ + CHANERR, 4) | val);
        uint32_t mask = uint32_t(fn_.reg(base_ + CHANERR_MASK, 4));
        if (val & ~mask) {
            state_ = HALTED;
            errored_ = halted = true;
            sim_report().trace(ioat_function::stamp(), name(), "halt", json_obj().set("chanerr", hex(val)));
        }
    }
    if (!halted && !available()) state_ = DONE;
    uint16_t ctrl = uint16_t(fn_.reg(base_ + CHANCTRL, 2));
    if (d.has(DESC_COMPL_WRITE) || (halted && (ctrl & CHANCTRL_ERR_COMPLETION_EN))) write_completion();
    if (d.has(DESC_INT_EN) || (halted && (ctrl & CHANCTRL_ERR_INT_EN))) interrupt(halted);
}

void ioat_channel::write_completion() {
    uint64_t cmp = fn_.reg(base_ + CHANCMP, 8);
    uint64_t sts = chansts();
    sc_time posted = SC_ZERO_TIME;
    if ((cmp & 0x7) || transfer(fn_, true, cmp, reinterpret_cast<uint8_t*>(&sts), 8, posted) != fault::none) {
        fn_.set_reg(base_ + CHANERR, 4, fn_.reg(base_ + CHANERR, 4) | CHANERR_COMPL_ADDR);
        state_ = HALTED;
        errored_ = true;
        sim_report().trace(ioat_function::stamp(), name(), "halt", json_obj().set("chanerr", hex(CHANERR_COMPL_ADDR)));
        if (fn_.reg(base_ + CHANCTRL, 2) & CHANCTRL_ERR_INT_EN) interrupt(true);
        return;
    }
    if (sc_core::sc_get_current_process_handle().proc_kind() == sc_core::SC_THREAD_PROC_)
        wait(fn_.cfg().timing.completion_write);
}

void ioat_channel::interrupt(bool error) {
    if (!armed_) return;  // at most one interrupt per arm
    armed_ = false;
    fn_.raise_interrupt(index_);
    if (error) sim_report().trace(ioat_function::stamp(), name(), "error_interrupt");
}

// An error: CHANERR bit, HALTED, error completion and interrupt as CHANCTRL says.
void ioat_channel::halt(uint32_t chanerr, uint64_t addr) {
    fn_.set_reg(base_ + CHANERR, 4, fn_.reg(base_ + CHANERR, 4) | chanerr);
    state_ = HALTED;
    errored_ = true;
    sim_report().trace(ioat_function::stamp(), name(), "halt",
                       json_obj().set("chanerr", hex(chanerr)).set("addr", hex(addr)));
    uint16_t ctrl = uint16_t(fn_.reg(base_ + CHANCTRL, 2));
    if (ctrl & CHANCTRL_ERR_COMPLETION_EN) write_completion();
    if (ctrl & CHANCTRL_ERR_INT_EN) interrupt(true);
}

// Power gone: whatever was in flight is lost, as after a reset.
void ioat_channel::power_loss() {
    reset_req_ = true;
    kick_.notify(sc_core::SC_ZERO_TIME);
}

void ioat_channel::do_reset() {
    reset_req_ = abort_req_ = suspend_req_ = started_ = armed_ = errored_ = chain_fetch_ = restart_ = false;
    state_ = HALTED;
    completed_ = next_ = 0;
    count_ = 0;
    fn_.reset_channel(index_);
    sim_report().trace(ioat_function::stamp(), name(), "reset");
}

}  // namespace ioatsim::models
