// A CPU as the hardware sees it: an initiator for MMIO and configuration cycles,
// a DMI-backed path to memory, and a local APIC that receives interrupt messages.
// What runs on it is software's business (sw/kernel).
#pragma once
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <vector>

namespace ioatsim::models {

class cpu : public sc_core::sc_module {
public:
    tlm_utils::simple_initiator_socket<cpu> isock;

    cpu(sc_core::sc_module_name name, unsigned index, unsigned apic_id, unsigned node);

    unsigned index() const { return index_; }
    unsigned apic_id() const { return apic_id_; }
    unsigned node() const { return node_; }

    // Uncached access (MMIO, ECAM). A failed request (Unsupported Request, master
    // abort) reads all-ones, as on a PC. Returns false on failure. `delay` grows by
    // what the core waits: a read's round trip (cpu.mmio_read) on top of the
    // target's own latency, a posted write's issue (cpu.mmio_write) only.
    bool io_read(uint64_t addr, unsigned len, uint64_t& value, sc_core::sc_time& delay);
    bool io_write(uint64_t addr, unsigned len, uint64_t value, sc_core::sc_time& delay);
    void set_mmio_timing(sc_core::sc_time read, sc_core::sc_time write) { mmio_read_ = read, mmio_write_ = write; }

    // Cacheable memory through DMI; no time passes here, callers charge it.
    void mem_read(uint64_t addr, void* dst, uint64_t len);
    void mem_write(uint64_t addr, const void* src, uint64_t len);
    // The same memory in place: fn(host pointer, offset into the range, bytes)
    // for each piece, or for one bounce buffer where memory gives no direct
    // pointer (read first, written back after a `write`).
    void mem_in_place(uint64_t addr, uint64_t len, bool write,
                      const std::function<void(uint8_t*, uint64_t, uint64_t)>& fn);

    // Local APIC: an interrupt message for this CPU. An offline CPU accepts none.
    void deliver(uint8_t vector);
    void set_online(bool on) { online_ = on; }
    bool online() const { return online_; }
    void set_interrupt_handler(std::function<void(uint8_t)> h) { irq_ = std::move(h); }

private:
    uint8_t* dmi_ptr(uint64_t addr, uint64_t& avail, bool write);
    void invalidate(sc_dt::uint64 start, sc_dt::uint64 end);
    void slow_mem(bool write, uint64_t addr, uint8_t* buf, uint64_t len);

    unsigned index_, apic_id_, node_;
    sc_core::sc_time mmio_read_ = sc_core::SC_ZERO_TIME, mmio_write_ = sc_core::SC_ZERO_TIME;
    bool online_ = true;
    std::map<uint64_t, tlm::tlm_dmi> dmi_;  // grants by start address, none overlapping
    std::function<void(uint8_t)> irq_;
};

// The interrupt message window (0xFEE00000-0xFEEFFFFF): a 32-bit write whose
// address bits [19:12] name the destination APIC and whose data [7:0] is the
// vector. A message reaches its CPU `latency` after it was posted (msi.delivery).
class msi_bus : public sc_core::sc_module {
public:
    static constexpr uint64_t base = 0xFEE00000, size = 0x100000;
    tlm_utils::simple_target_socket<msi_bus> tsock;
    msi_bus(sc_core::sc_module_name name, sc_core::sc_time latency = sc_core::SC_ZERO_TIME);
    void attach(cpu& c) { cpus_.push_back(&c); }
private:
    struct message { sc_core::sc_time at; cpu* to; uint8_t vector; };
    void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    void deliver_thread();
    std::vector<cpu*> cpus_;
    sc_core::sc_time latency_;
    std::deque<message> in_flight_;  // in arrival order: every message takes the same time
    sc_core::sc_event arrived_;
};

}  // namespace ioatsim::models
