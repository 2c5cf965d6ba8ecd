#include "models/ioat/ioat_channel.h"

#include "models/core/report.h"
#include "models/ioat/ioat_function.h"

namespace ioatsim::models {
using namespace ioat;
using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;

ioat_channel::ioat_channel(sc_core::sc_module_name name, ioat_function& fn, unsigned index)
    : sc_module(name), fn_(fn), index_(index), base_(chan_base(index)) {
    SC_HAS_PROCESS(ioat_channel);
    SC_THREAD(run);
}

uint16_t ioat_channel::dmacount() const { return uint16_t(fn_.reg(base_ + DMACOUNT, 2)); }

void ioat_channel::dmacount_written() {
    if (!started_ && state_ != SUSPENDED) {
        // First doorbell after reset: begin at CHAINADDR.
        started_ = true;
        next_ = fn_.reg(base_ + CHAINADDR, 8);
        count_ = 0;
    }
    kick_.notify(fn_.cfg().timing.reg_access);
}

void ioat_channel::command(uint8_t cmd) {
    if (cmd & CHANCMD_RESET) reset_pending_ = true;
    if (cmd & CHANCMD_SUSPEND) suspend_req_ = true;
    if ((cmd & CHANCMD_RESUME) && state_ == SUSPENDED) {
        suspend_req_ = false;
        state_ = has_work() ? ACTIVE : DONE;
    }
    if (cmd & CHANCMD_START) {
        started_ = true;
        next_ = fn_.reg(base_ + CHAINADDR, 8);
        count_ = 0;
    }
    kick_.notify(fn_.cfg().timing.reg_access);
}

bool ioat_channel::has_work() const { return started_ && count_ != dmacount(); }

void ioat_channel::run() {
    const ioat_timing& t = fn_.cfg().timing;
    bool burst_start = true;
    for (;;) {
        if (reset_pending_) {
            wait(t.reset_latency);
            do_reset();
            burst_start = true;
            continue;
        }
        if (suspend_req_ && state_ != HALTED) {
            state_ = SUSPENDED;
            suspend_req_ = false;
        }
        bool runnable = has_work() && state_ != SUSPENDED && !errored_;
        if (!runnable) {
            if (state_ == ACTIVE) state_ = DONE;
            burst_start = true;
            wait(kick_);
            continue;
        }
        if (state_ == HALTED) wait(t.start_latency);  // leaving reset on the first doorbell
        state_ = ACTIVE;
        uint64_t addr = next_;
        if (!process(addr, burst_start)) continue;
        burst_start = false;
    }
}

bool ioat_channel::dma_rw(bool write, uint64_t addr, uint8_t* buf, uint64_t len, sc_time& delay) {
    tlm::tlm_generic_payload gp;
    gp.set_command(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
    gp.set_address(addr);
    gp.set_data_ptr(buf);
    gp.set_data_length(unsigned(len));
    gp.set_streaming_width(unsigned(len));
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    fn_.dma->b_transport(gp, delay);
    return gp.is_response_ok();
}

// One descriptor: fetch, check, wait for its time, move the data, complete.
bool ioat_channel::process(uint64_t addr, bool burst_start) {
    const ioat_timing& t = fn_.cfg().timing;
    uint8_t raw[64];
    sc_time fetch = SC_ZERO_TIME;
    if (addr & 0x3f) {
        halt(count_ == 0 ? CHANERR_CHAIN_ADDR : CHANERR_NEXT_DESC_ALIGN, addr);
        return false;
    }
    if (!dma_rw(false, addr, raw, 64, fetch)) {
        halt(count_ == 0 ? CHANERR_CHAIN_ADDR : CHANERR_NEXT_ADDR, addr);
        return false;
    }
    descriptor d = decode_descriptor(raw);
    fn_.set_reg(base_ + CDAR, 8, addr);
    uint64_t max_len = 1ull << fn_.cfg().xfercap;
    if (d.size == 0 || d.size > max_len) {
        halt(CHANERR_LEN, addr);
        return false;
    }
    bool null = d.has(DESC_NULL);
    if (!null && d.op() != OP_COPY) {
        halt(CHANERR_DESC_CTRL, addr);
        return false;
    }
    // The fetch of a descriptor overlaps the previous payload; only the first of a
    // burst waits for it.
    sc_time busy = (burst_start ? fetch : SC_ZERO_TIME) + t.desc_overhead;
    if (!null) busy += sc_time(double(d.size) / t.bandwidth_gbps, sc_core::SC_NS);
    wait(busy);
    if (reset_pending_) return false;  // a reset discards the descriptor in progress
    if (!null && !move(d)) return false;
    complete(addr, d);
    return true;
}

bool ioat_channel::move(const descriptor& d) {
    buf_.resize(d.size);
    sc_time ignored = SC_ZERO_TIME;  // streaming time already charged per byte
    if (!dma_rw(false, d.src_addr, buf_.data(), d.size, ignored)) {
        halt(CHANERR_SRC_ADDR, d.src_addr);
        return false;
    }
    if (!dma_rw(true, d.dst_addr, buf_.data(), d.size, ignored)) {
        halt(CHANERR_DEST_ADDR, d.dst_addr);
        return false;
    }
    bytes_ += d.size;
    return true;
}

void ioat_channel::complete(uint64_t addr, const descriptor& d) {
    completed_ = addr & CHANSTS_ADDR_MASK;
    ++count_;
    ++desc_done_;
    next_ = d.next;
    if (!has_work()) state_ = DONE;
    sim_report().trace(ioat_function::stamp(), name(), "desc",
                       json_obj().set("addr", hex(addr)).set("op", unsigned(d.op()))
                                 .set("len", d.has(DESC_NULL) ? 0u : d.size)
                                 .set("ctl", hex(d.ctl)));
    if (d.has(DESC_COMPL_WRITE)) {
        uint64_t sts = chansts();
        sc_time posted = SC_ZERO_TIME;
        uint64_t cmp = fn_.reg(base_ + CHANCMP, 8);
        if (!dma_rw(true, cmp, reinterpret_cast<uint8_t*>(&sts), 8, posted)) {
            halt(CHANERR_COMPL_ADDR, cmp);
            return;
        }
        wait(fn_.cfg().timing.completion_write);
    }
    if (d.has(DESC_INT_EN) && armed_) {
        armed_ = false;
        fn_.raise_interrupt(index_);
    }
}

// An error: CHANERR bit, HALTED, error completion and interrupt as CHANCTRL says.
void ioat_channel::halt(uint32_t chanerr, uint64_t addr) {
    fn_.set_reg(base_ + CHANERR, 4, fn_.reg(base_ + CHANERR, 4) | chanerr);
    state_ = HALTED;
    errored_ = true;
    sim_report().trace(ioat_function::stamp(), name(), "halt",
                       json_obj().set("chanerr", hex(chanerr)).set("addr", hex(addr)));
    uint16_t ctrl = uint16_t(fn_.reg(base_ + CHANCTRL, 2));
    if (ctrl & CHANCTRL_ERR_COMPLETION_EN) {
        uint64_t sts = chansts();
        sc_time posted = SC_ZERO_TIME;
        dma_rw(true, fn_.reg(base_ + CHANCMP, 8), reinterpret_cast<uint8_t*>(&sts), 8, posted);
    }
    if ((ctrl & CHANCTRL_ERR_INT_EN) && armed_) {
        armed_ = false;
        fn_.raise_interrupt(index_);
    }
}

void ioat_channel::do_reset() {
    reset_pending_ = suspend_req_ = started_ = armed_ = errored_ = false;
    state_ = HALTED;
    err_flags_ = completed_ = next_ = 0;
    count_ = 0;
    fn_.set_reg(base_ + CHANCMD, 1, 0);
    fn_.set_reg(base_ + DMACOUNT, 2, 0);
    fn_.set_reg(base_ + CHANERR, 4, 0);
    fn_.set_reg(base_ + CDAR, 8, 0);
    sim_report().trace(ioat_function::stamp(), name(), "reset");
}

}  // namespace ioatsim::models
