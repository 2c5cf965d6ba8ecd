#include "models/pcie/root_port.h"

#include "models/core/report.h"
#include "models/core/request.h"

namespace ioatsim::models {
using namespace pci_reg;

root_port::root_port(sc_core::sc_module_name name, const std::string& bdf, uint16_t device_id,
                     unsigned slot_number)
    : sc_module(name), msi_out("msi_out"), bdf_(bdf), cfg_(0x8086, device_id, 0x060400, 0x13, 1) {
    // PCI Express v2 root port with a slot: attention button, hot-plug capable,
    // surprise removal possible; the slot starts empty with the link down.
    exp_ = cfg_.add_cap(CAP_EXP, 0x3c);
    cfg_.define(exp_ + EXP_FLAGS, 2, 0x0142, 0);  // v2, root port (4), slot implemented
    cfg_.define(exp_ + EXP_LNKSTA, 2, 0x0011, 0);
    cfg_.define(exp_ + EXP_SLTCAP, 4, (slot_number << 19) | SLTCAP_ABP | SLTCAP_HPS | SLTCAP_HPC, 0);
    cfg_.define(exp_ + EXP_SLTCTL, 2, 0, 0x1fff);
    cfg_.define(exp_ + EXP_SLTSTA, 2, 0, 0, SLTSTA_ABP | SLTSTA_PDC | SLTSTA_DLLSC);
    msi_ = cfg_.add_cap(CAP_MSI, 14);
    cfg_.define(msi_ + 2, 2, 0x0080, 0x0001);       // 64-bit, one message
    cfg_.define(msi_ + 4, 4, 0, 0xfffffffc);
    cfg_.define(msi_ + 8, 4, 0, 0xffffffff);
    cfg_.define(msi_ + 12, 2, 0, 0xffff);
}

void root_port::set_presence(bool card_present) {
    bool was = cfg_.word(exp_ + EXP_SLTSTA) & SLTSTA_PDS;
    if (was == card_present) return;
    if (card_present) cfg_.set_bits(exp_ + EXP_SLTSTA, 2, SLTSTA_PDS);
    else cfg_.clear_bits(exp_ + EXP_SLTSTA, 2, SLTSTA_PDS);
    event(SLTSTA_PDC);
}

void root_port::set_link(bool up) {
    bool was = cfg_.word(exp_ + EXP_LNKSTA) & LNKSTA_DLLLA;
    if (was == up) return;
    if (up) cfg_.set_bits(exp_ + EXP_LNKSTA, 2, LNKSTA_DLLLA);
    else cfg_.clear_bits(exp_ + EXP_LNKSTA, 2, LNKSTA_DLLLA);
    event(SLTSTA_DLLSC);
}

void root_port::press_attention_button() { event(SLTSTA_ABP); }

void root_port::event(uint16_t status_bit) {
    cfg_.set_bits(exp_ + EXP_SLTSTA, 2, status_bit);
    sim_report().trace(uint64_t(sc_core::sc_time_stamp().value()), name(), "slot.event",
                       json_obj().set("status", hex(cfg_.word(exp_ + EXP_SLTSTA))));
    notify();
}

// One message per rising interrupt condition; software clears the status bits
// (write one) before the next event can interrupt again.
void root_port::notify() {
    uint16_t ctl = cfg_.word(exp_ + EXP_SLTCTL), sta = cfg_.word(exp_ + EXP_SLTSTA);
    bool cond = (ctl & SLTCTL_HPIE) && (((sta & SLTSTA_ABP) && (ctl & SLTCTL_ABPE)) ||
                                        ((sta & SLTSTA_PDC) && (ctl & SLTCTL_PDCE)) ||
                                        ((sta & SLTSTA_DLLSC) && (ctl & SLTCTL_DLLSCE)));
    if (!cond) {
        pending_ = false;
        return;
    }
    if (pending_ || !(cfg_.word(msi_ + 2) & 1) || !cfg_.bus_master()) return;
    pending_ = true;
    uint64_t addr = cfg_.read(msi_ + 4, 4) | uint64_t(cfg_.read(msi_ + 8, 4)) << 32;
    post_message(msi_out, addr, cfg_.word(msi_ + 12));
}

}  // namespace ioatsim::models
