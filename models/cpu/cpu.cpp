#include "models/cpu/cpu.h"

#include "models/core/report.h"
#include "models/core/request.h"

#include <cstring>

namespace ioatsim::models {

cpu::cpu(sc_core::sc_module_name name, unsigned index, unsigned apic_id, unsigned node)
    : sc_module(name), isock("isock"), index_(index), apic_id_(apic_id), node_(node) {
    isock.register_invalidate_direct_mem_ptr(this, &cpu::invalidate);
}


bool cpu::io_read(uint64_t addr, unsigned len, uint64_t& value, sc_core::sc_time& delay) {
    pooled_payload lent;
    tlm::tlm_generic_payload& gp = *lent;
    uint64_t v = 0;
    prepare_payload(gp, false, addr, reinterpret_cast<uint8_t*>(&v), len);
    request_ext who;
    who.requester = uint16_t(index_);
    who.node = node_;
    request_scope scope(gp, who);
    isock->b_transport(gp, delay);
    delay += mmio_read_;
    if (!gp.is_response_ok()) {
        value = len == 8 ? ~0ull : ((1ull << (8 * len)) - 1);
        return false;
    }
    value = v;
    return true;
}

bool cpu::io_write(uint64_t addr, unsigned len, uint64_t value, sc_core::sc_time& delay) {
    pooled_payload lent;
    tlm::tlm_generic_payload& gp = *lent;
    prepare_payload(gp, true, addr, reinterpret_cast<uint8_t*>(&value), len);
    request_ext who;
    who.requester = uint16_t(index_);
    who.node = node_;
    request_scope scope(gp, who);
    sc_core::sc_time travel = delay;  // the write travels on; the core does not wait for it
    isock->b_transport(gp, travel);
    delay += mmio_write_;
    return gp.is_response_ok();
}

// A grant for reading may be read-only (a page shared with another process):
// a write asks again, for writing.
uint8_t* cpu::dmi_ptr(uint64_t addr, uint64_t& avail, bool write) {
    auto it = dmi_.upper_bound(addr);
    if (it != dmi_.begin()) {
        const tlm::tlm_dmi& d = (--it)->second;
        if (addr <= d.get_end_address() && (write ? d.is_write_allowed() : d.is_read_allowed())) {
            avail = d.get_end_address() - addr + 1;
            return d.get_dmi_ptr() + (addr - d.get_start_address());
        }
    }
    tlm::tlm_generic_payload gp;
    uint8_t dummy;
    prepare_payload(gp, write, addr, &dummy, 1);
    tlm::tlm_dmi d;
    if (!isock->get_direct_mem_ptr(gp, d) || !(write ? d.is_write_allowed() : d.is_read_allowed())) return nullptr;
    invalidate(d.get_start_address(), d.get_end_address());  // a write grant replaces a read grant
    dmi_[d.get_start_address()] = d;
    avail = d.get_end_address() - addr + 1;
    return d.get_dmi_ptr() + (addr - d.get_start_address());
}

void cpu::invalidate(sc_dt::uint64 start, sc_dt::uint64 end) {
    auto it = dmi_.upper_bound(start);
    if (it != dmi_.begin() && std::prev(it)->second.get_end_address() >= start) --it;
    while (it != dmi_.end() && it->first <= end) it = dmi_.erase(it);
}

void cpu::slow_mem(bool write, uint64_t addr, uint8_t* buf, uint64_t len) {
    tlm::tlm_generic_payload gp;
    prepare_payload(gp, write, addr, buf, unsigned(len));
    isock->transport_dbg(gp);
    if (!gp.is_response_ok() && !write) std::memset(buf, 0xff, len);
}

void cpu::mem_read(uint64_t addr, void* dst, uint64_t len) {
    auto* out = static_cast<uint8_t*>(dst);
    while (len) {
        uint64_t avail = 0;
        uint8_t* p = dmi_ptr(addr, avail, false);
        uint64_t n = p ? std::min(len, avail) : len;
        if (p) std::memcpy(out, p, n); else slow_mem(false, addr, out, n);
        addr += n; out += n; len -= n;
    }
}

void cpu::mem_write(uint64_t addr, const void* src, uint64_t len) {
    auto* in = static_cast<const uint8_t*>(src);
    while (len) {
        uint64_t avail = 0;
        uint8_t* p = dmi_ptr(addr, avail, true);
        uint64_t n = p ? std::min(len, avail) : len;
        if (p) std::memcpy(p, in, n); else slow_mem(true, addr, const_cast<uint8_t*>(in), n);
        addr += n; in += n; len -= n;
    }
}

void cpu::mem_in_place(uint64_t addr, uint64_t len, bool write,
                       const std::function<void(uint8_t*, uint64_t, uint64_t)>& fn) {
    for (uint64_t off = 0; off < len;) {
        uint64_t avail = 0;
        if (uint8_t* p = dmi_ptr(addr + off, avail, write)) {
            uint64_t n = std::min(len - off, avail);
            fn(p, off, n);
            off += n;
            continue;
        }
        std::vector<uint8_t> bounce(len - off);
        slow_mem(false, addr + off, bounce.data(), bounce.size());
        fn(bounce.data(), off, bounce.size());
        if (write) slow_mem(true, addr + off, bounce.data(), bounce.size());
        return;
    }
}

void cpu::deliver(uint8_t vector) {
    uint64_t t = uint64_t(sc_core::sc_time_stamp().value());
    if (!online_) {  // the local APIC still latches it (IRR); what becomes of it is the OS's
        ++sim_report().counter("irq.to_offline_cpu");
        sim_report().trace(t, name(), "irq.offline", json_obj().set("vector", unsigned(vector)));
    } else {
        report& rep = sim_report();
        const std::string src = name();
        if (rep.needs_fields(src, "irq")) rep.trace(t, src, "irq", json_obj().set("vector", unsigned(vector)));
        else rep.trace(t, src, "irq");
    }
    if (irq_) irq_(vector);
}

msi_bus::msi_bus(sc_core::sc_module_name name, sc_core::sc_time latency)
    : sc_module(name), tsock("tsock"), latency_(latency) {
    tsock.register_b_transport(this, &msi_bus::b_transport);
    sim_report().declare("irq.to_offline_cpu");
    SC_HAS_PROCESS(msi_bus);
    SC_THREAD(deliver_thread);
}

void msi_bus::deliver_thread() {
    for (;;) {
        while (in_flight_.empty()) wait(arrived_);
        message m = in_flight_.front();
        if (m.at > sc_core::sc_time_stamp()) {
            wait(m.at - sc_core::sc_time_stamp());
            continue;
        }
        in_flight_.pop_front();
        m.to->deliver(m.vector);
    }
}

void msi_bus::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
    uint32_t data = 0;
    if (!gp.is_write() || gp.get_data_length() != 4) {
        gp.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
        return;
    }
    std::memcpy(&data, gp.get_data_ptr(), 4);
    unsigned dest = unsigned((gp.get_address() >> 12) & 0xff);
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
    for (cpu* c : cpus_)
        if (c->apic_id() == dest) {
            if (latency_ == sc_core::SC_ZERO_TIME && in_flight_.empty()) {
                c->deliver(uint8_t(data));
                return;
            }
            in_flight_.push_back({sc_core::sc_time_stamp() + delay + latency_, c, uint8_t(data)});
            arrived_.notify(sc_core::SC_ZERO_TIME);
            return;
        }
    sim_report().trace(uint64_t((sc_core::sc_time_stamp() + delay).value()), name(), "msi.lost",
                       json_obj().set("dest", dest).set("vector", data & 0xff));
}

}  // namespace ioatsim::models
