// A PCI Express root port of the IOH: a type-1 bridge whose slot reports presence,
// data-link-layer state and the attention button, and raises a hotplug interrupt
// (MSI) when software has enabled it, as pciehp expects.
#pragma once
#include "models/pcie/root_complex.h"

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include <string>

namespace ioatsim::models {

class root_port : public sc_core::sc_module, public pci_function_if {
public:
    tlm_utils::simple_initiator_socket<root_port> msi_out;  // to the root complex upstream

    root_port(sc_core::sc_module_name name, const std::string& bdf, uint16_t device_id, unsigned slot_number);

    config_space& config() override { return cfg_; }
    void config_written(unsigned off, unsigned len) override { notify(); }
    std::string bdf() const override { return bdf_; }
    int bar_count() const override { return 0; }

    // Slot events, as the hardware sees them.
    void set_presence(bool card_present);
    void set_link(bool up);
    void press_attention_button();
    void power_on_reset() { cfg_.reset(); pending_ = false; }

    unsigned exp_cap() const { return exp_; }

private:
    void event(uint16_t status_bit);
    void notify();  // sends the MSI when a status bit and its enable are both set

    std::string bdf_;
    config_space cfg_;
    unsigned exp_ = 0, msi_ = 0;
    bool pending_ = false;  // an interrupt condition already signalled
};

}  // namespace ioatsim::models
