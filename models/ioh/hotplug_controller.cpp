#include "models/ioh/hotplug_controller.h"

#include "models/core/report.h"
#include "models/core/request.h"

#include <cstring>

namespace ioatsim::models {
using namespace hpc;

hotplug_controller::hotplug_controller(sc_core::sc_module_name name, unsigned iohs,
                                       std::function<void(unsigned, bool)> power,
                                       std::function<uint32_t(unsigned)> status)
    : sc_module(name), tsock("tsock"), msi("msi"), iohs_(iohs), power_(std::move(power)),
      status_(std::move(status)), events_(iohs, 0) {
    tsock.register_b_transport(this, &hotplug_controller::b_transport);
}

void hotplug_controller::latch(unsigned ioh, uint32_t bits) {
    events_.at(ioh) |= bits;
    sim_report().trace(uint64_t(sc_core::sc_time_stamp().value()), name(), "event",
                       json_obj().set("ioh", ioh).set("events", hex(events_[ioh])));
    notify();
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
    }
    if (off < IOH_BLOCK || off >= IOH_BLOCK + IOH_STRIDE * iohs_) return 0;
    unsigned i = (off - IOH_BLOCK) / IOH_STRIDE, reg = (off - IOH_BLOCK) % IOH_STRIDE;
    if (reg == STATUS) return status_(i);
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
    if (off < IOH_BLOCK || off >= IOH_BLOCK + IOH_STRIDE * iohs_) return;
    unsigned i = (off - IOH_BLOCK) / IOH_STRIDE, reg = (off - IOH_BLOCK) % IOH_STRIDE;
    if (reg == EVENT) {
        events_[i] &= ~v;  // write one to clear
        notify();
    } else if (reg == COMMAND) {
        sim_report().trace(uint64_t(sc_core::sc_time_stamp().value()), name(), "command",
                           json_obj().set("ioh", i).set("value", hex(v)));
        if (v & CMD_EJECT) power_(i, false);
        if (v & CMD_POWER_ON) power_(i, true);
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
