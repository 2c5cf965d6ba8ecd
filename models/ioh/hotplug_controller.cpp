#include "models/ioh/hotplug_controller.h"

#include "models/core/report.h"
#include "models/core/request.h"

#include <cstring>

namespace ioatsim::models {
using namespace hpc;

hotplug_controller::hotplug_controller(sc_core::sc_module_name name, unsigned iohs,
                                       std::function<void(unsigned, bool)> power,
                                       std::function<uint32_t(unsigned)> status, unsigned sockets,
                                       std::function<void(unsigned, bool)> socket_power,
                                       std::function<uint32_t(unsigned)> socket_status)
    : sc_module(name), tsock("tsock"), msi("msi"), iohs_(iohs), sockets_(sockets), power_(std::move(power)),
      socket_power_(std::move(socket_power)), status_(std::move(status)), socket_status_(std::move(socket_status)),
      events_(iohs + sockets, 0) {
    tsock.register_b_transport(this, &hotplug_controller::b_transport);
}

void hotplug_controller::latch(unsigned slot, uint32_t bits) {
    events_.at(slot) |= bits;
    json_obj f;
    if (slot < iohs_) f.set("ioh", slot);
    else f.set("socket", slot - iohs_);
    sim_report().trace(uint64_t(sc_core::sc_time_stamp().value()), name(), "event", f.set("events", hex(events_[slot])));
    notify();
}

int hotplug_controller::slot_of(unsigned off, unsigned& reg) const {
    reg = off % IOH_STRIDE;
    if (off >= IOH_BLOCK && off < IOH_BLOCK + IOH_STRIDE * iohs_) return int((off - IOH_BLOCK) / IOH_STRIDE);
    if (off >= SOCKET_BLOCK && off < SOCKET_BLOCK + IOH_STRIDE * sockets_)
        return int(iohs_ + (off - SOCKET_BLOCK) / IOH_STRIDE);
    return -1;
}

void hotplug_controller::notify() {
    bool any = false;
    for (uint32_t e : events_) any = any || e;
    if (!any) signalled_ = false;
    if (!any || signalled_ || !(ctrl_ & CTRL_INT_EN) || !msi_addr_) return;
    signalled_ = true;
    post_message(msi, uint64_t(msi_addr_hi_) << 32 | msi_addr_, msi_data_);
}

uint32_t hotplug_controller::read(unsigned off) const {
    switch (off) {
    case COUNT: return iohs_;
    case MSI_ADDR: return msi_addr_;
    case MSI_ADDR_HI: return msi_addr_hi_;
    case MSI_DATA: return msi_data_;
    case CTRL: return ctrl_;
    case SOCKET_COUNT: return sockets_;
    }
    unsigned reg = 0;
    const int slot = slot_of(off, reg);
    if (slot < 0) return 0;
    const unsigned i = unsigned(slot);
    if (reg == STATUS) return i < iohs_ ? status_(i) : socket_status_(i - iohs_);
    if (reg == EVENT) return events_[i];
    return 0;
}

void hotplug_controller::write(unsigned off, uint32_t v) {
    switch (off) {
    case MSI_ADDR: msi_addr_ = v & ~3u; return;
    case MSI_ADDR_HI: msi_addr_hi_ = v; return;
    case MSI_DATA: msi_data_ = v; return;
    case CTRL: ctrl_ = v & CTRL_INT_EN; notify(); return;
    }
    unsigned reg = 0;
    const int slot = slot_of(off, reg);
    if (slot < 0) return;
    const unsigned i = unsigned(slot);
    if (reg == EVENT) {
        events_[i] &= ~v;  // write one to clear
        notify();
    } else if (reg == COMMAND) {
        json_obj f;
        if (i < iohs_) f.set("ioh", i);
        else f.set("socket", i - iohs_);
        sim_report().trace(uint64_t(sc_core::sc_time_stamp().value()), name(), "command", f.set("value", hex(v)));
        auto& power = i < iohs_ ? power_ : socket_power_;
        const unsigned n = i < iohs_ ? i : i - iohs_;
        if (v & CMD_EJECT) power(n, false);
        if (v & CMD_POWER_ON) power(n, true);
    }
}

void hotplug_controller::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
    unsigned off = unsigned(gp.get_address() - BASE);
    if (gp.get_data_length() != 4 || (off & 3)) {
        gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
        return;
    }
    uint32_t v = 0;
    if (gp.is_read()) {
        v = read(off);
        std::memcpy(gp.get_data_ptr(), &v, 4);
    } else {
        std::memcpy(&v, gp.get_data_ptr(), 4);
        write(off, v);
    }
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace ioatsim::models
