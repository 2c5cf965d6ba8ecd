// The system interconnect (QPI): decodes an absolute address to a DRAM node, an
// IOH's MMIO/ECAM windows or the interrupt message window, and charges the hop
// distance between the requester's node and the target's.
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

    // Every socket is one QPI hop from every other up to four sockets (x3850 X5).
    explicit router(sc_core::sc_module_name name, sc_core::sc_time hop_latency = sc_core::SC_ZERO_TIME);

    // Maps [base, base+size) to the target bound at isock index `port`, which sits
    // on NUMA node `node` (-1: no distance, e.g. interrupt messages). Addresses are
    // forwarded unchanged: every target decodes absolute addresses.
    void map(uint64_t base, uint64_t size, unsigned port, const std::string& what, int node = -1);
    unsigned hops(unsigned from_node, int to_node) const { return to_node < 0 || int(from_node) == to_node ? 0 : 1; }

private:
    struct window { uint64_t base, size; unsigned port; std::string what; int node; };
    const window* decode(uint64_t addr, uint64_t len) const;
    void b_transport(int id, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    unsigned transport_dbg(int id, tlm::tlm_generic_payload& gp);
    bool get_direct_mem_ptr(int id, tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi);
    void invalidate(int port, sc_dt::uint64 start, sc_dt::uint64 end);

    std::vector<window> map_;
    sc_core::sc_time hop_;
};

}  // namespace ioatsim::models
