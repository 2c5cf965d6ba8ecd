// One DMA channel of an IOAT function: a SystemC thread that follows the
// descriptor ring from CHAINADDR until its count reaches DMACOUNT, performs each
// operation, writes CHANSTS back to CHANCMP and asks for interrupts.
#pragma once
#include "models/ioat/descriptor.h"
#include "models/ioat/regs.h"

#include <systemc>
#include <tlm>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ioatsim::models {

class ioat_function;

// Every delay software can observe, with its source (timing-defaults.md,
// ioat-hardware.md §11).
struct ioat_timing {
    // MMIO register access: gem5's pio_latency, not derived from hardware [estimate].
    sc_core::sc_time reg_access{30, sc_core::SC_NS};
    // Fixed cost per descriptor once fetched: 1460 B at the raw 5 GB/s takes 292 ns,
    // at the effective 2.5 GB/s 584 ns, so about 290 ns per descriptor [derived, S7].
    sc_core::sc_time desc_overhead{290, sc_core::SC_NS};
    // Streaming rate per direction: "5 GB/s read + 5 GB/s write" [S7]: of the
    // engine's shared data mover, or of each channel (ioat.shared_engine).
    double bandwidth_gbps = 5.0;
    // Posted completion writeback: gem5's latAfterCompletion [estimate].
    sc_core::sc_time completion_write{20, sc_core::SC_NS};
    // From the first DMACOUNT write to ACTIVE; the driver allows 20 us [estimate].
    sc_core::sc_time start_latency{1, sc_core::SC_US};
    // CHANCMD.RESET reads 1 for this long; the driver allows 200 ms [estimate].
    sc_core::sc_time reset_latency{1, sc_core::SC_US};
};

class ioat_channel : public sc_core::sc_module {
public:
    ioat_channel(sc_core::sc_module_name name, ioat_function& fn, unsigned index);
    ~ioat_channel();

    // Register side effects, called by the function at the access time.
    void dmacount_written();
    // A new chain on a channel that is not running: the next doorbell starts there
    // with a fresh count (the driver's restart path).
    void chainaddr_written() { if (state_ != ioat::ACTIVE) restart_ = true; }
    void command(uint8_t cmd);
    void rearm() { armed_ = true; }
    void power_loss();
    uint64_t chansts() const { return completed_ | state_; }
    bool armed() const { return armed_; }

    ioat::chan_state state() const { return ioat::chan_state(state_); }
    uint64_t descriptors_done() const { return desc_done_; }
    uint16_t outstanding() const { return started_ ? available() : 0; }  // handed over, not yet done
    uint64_t bytes_moved() const { return bytes_; }

private:
    struct write_back { uint64_t addr, at, len; };  // `len` bytes from port::staged[at]
    class port;  // the ioat_ops memory interface over this channel's DMA socket

    void run();
    uint16_t available() const;  // descriptors handed over and not yet taken
    bool process(bool burst_start);  // false: the descriptor did not complete
    bool fetch(uint64_t addr, uint8_t* frame, bool first, sc_core::sc_time& delay);
    bool commit(port& held);
    void complete(uint64_t addr, const ioat::descriptor& d, unsigned frames, uint32_t result_err);
    void write_completion();
    void interrupt(bool error);
    void halt(uint32_t chanerr, uint64_t addr);
    void do_reset();
    uint16_t dmacount() const;
    bool supported(uint8_t op) const;

    ioat_function& fn_;
    unsigned index_;
    unsigned base_;
    const std::string src_;  // name(), as traces take it
    sc_core::sc_event kick_;        // doorbell or command
    uint8_t state_ = ioat::HALTED;  // power-on: halted until software starts it
    uint64_t completed_ = 0;        // CHANSTS[63:6]
    uint64_t next_ = 0;             // the next descriptor to fetch
    uint16_t count_ = 0;            // descriptors taken from the ring since start
    bool started_ = false, armed_ = false, errored_ = false;
    bool chain_fetch_ = false;      // the next fetch is at CHAINADDR (count_ wraps, so not count_ == 0)
    bool suspend_req_ = false, reset_req_ = false, abort_req_ = false, restart_ = false;
    uint64_t desc_done_ = 0, bytes_ = 0;
    std::unique_ptr<port> port_;
};

}  // namespace ioatsim::models
