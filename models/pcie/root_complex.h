// PCIe root complex of an IOH: ECAM configuration space, the MMIO window that
// decodes BARs to functions, and the upstream path carrying functions' DMA and
// MSI writes into the system fabric.
#pragma once
#include "models/pcie/config_space.h"

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/multi_passthrough_target_socket.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <string>
#include <vector>

namespace ioatsim::models {

// What the root complex needs of a function besides its BAR socket.
class pci_function_if {
public:
    virtual ~pci_function_if() = default;
    virtual config_space& config() = 0;
    virtual void config_written(unsigned off, unsigned len) {}  // side effects (MSI-X enable, ...)
    virtual std::string bdf() const = 0;
};

struct root_complex_timing {
    // Config and MMIO requests through the root complex: an estimate of a few
    // internal hops; no published figure for the 5520/7500.
    sc_core::sc_time cfg_latency{100, sc_core::SC_NS};
};

class root_complex : public sc_core::sc_module {
public:
    tlm_utils::simple_target_socket<root_complex> tsock;                   // CPU side: ECAM + MMIO
    tlm_utils::multi_passthrough_initiator_socket<root_complex> bar_out;   // to functions' BAR0
    tlm_utils::multi_passthrough_target_socket<root_complex> upstream;     // functions' DMA / MSI
    tlm_utils::simple_initiator_socket<root_complex> fabric;               // to the system router

    root_complex(sc_core::sc_module_name name, uint8_t bus, uint64_t ecam_base,
                 uint64_t mmio_base, uint64_t mmio_size, root_complex_timing t = {});

    // Attaches a function at bus:dev.fn; its BAR socket must be bound to bar_out
    // in the same order as attach calls.
    void attach(uint8_t dev, uint8_t fn, pci_function_if& f);

    uint64_t ecam_base() const { return ecam_base_; }
    uint64_t ecam_size() const { return 1ull << 20; }  // one bus
    uint64_t mmio_base() const { return mmio_base_; }
    uint64_t mmio_size() const { return mmio_size_; }
    uint8_t bus() const { return bus_; }

private:
    struct slot { uint8_t dev, fn; pci_function_if* f; };
    slot* find(uint8_t dev, uint8_t fn);
    void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    unsigned transport_dbg(tlm::tlm_generic_payload& gp);
    void config_access(tlm::tlm_generic_payload& gp);
    void up_b_transport(int port, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    unsigned up_transport_dbg(int port, tlm::tlm_generic_payload& gp);

    uint8_t bus_;
    uint64_t ecam_base_, mmio_base_, mmio_size_;
    root_complex_timing t_;
    std::vector<slot> slots_;
};

}  // namespace ioatsim::models
