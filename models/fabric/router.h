// The system interconnect seen from one socket: decodes an absolute address to
// DRAM, the IOH's MMIO/ECAM windows or the interrupt message window.
#pragma once
#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/multi_passthrough_target_socket.h>

#include <string>
#include <vector>

namespace ioatsim::models {

class router : public sc_core::sc_module {
public:
    tlm_utils::multi_passthrough_target_socket<router> tsock;     // from initiators
    tlm_utils::multi_passthrough_initiator_socket<router> isock;  // to targets

    explicit router(sc_core::sc_module_name name);

    // Maps [base, base+size) to the target bound at isock index `port`.
    // Addresses are forwarded unchanged: every target decodes absolute addresses.
    void map(uint64_t base, uint64_t size, unsigned port, const std::string& what);

private:
    struct window { uint64_t base, size; unsigned port; std::string what; };
    const window* decode(uint64_t addr, uint64_t len) const;
    void b_transport(int id, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    unsigned transport_dbg(int id, tlm::tlm_generic_payload& gp);
    bool get_direct_mem_ptr(int id, tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi);
    void invalidate(int port, sc_dt::uint64 start, sc_dt::uint64 end);

    std::vector<window> map_;
};

}  // namespace ioatsim::models
