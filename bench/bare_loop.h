// The floor any model pays per event: one 8-byte b_transport to a target that
// adds 30 ns, then a wait of that delay, n times, timed on the wall clock.
#pragma once
#include <systemc>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <chrono>
#include <cstdint>
#include <cstring>

namespace bench {

struct bare_target : sc_core::sc_module {
    tlm_utils::simple_target_socket<bare_target> tsock{"tsock"};
    uint64_t reg = 0;
    explicit bare_target(sc_core::sc_module_name n) : sc_module(n) {
        tsock.register_b_transport(this, &bare_target::b_transport);
    }
    void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& d) {
        std::memcpy(&reg, gp.get_data_ptr(), 8);
        d += sc_core::sc_time(30, sc_core::SC_NS);
        gp.set_response_status(tlm::TLM_OK_RESPONSE);
    }
};

// Called from a SystemC thread; returns the wall seconds the n iterations took.
template <class Socket> double bare_loop(Socket& isock, uint64_t n) {
    uint64_t v = 0;
    tlm::tlm_generic_payload gp;
    gp.set_command(tlm::TLM_WRITE_COMMAND);
    gp.set_data_ptr(reinterpret_cast<uint8_t*>(&v));
    gp.set_data_length(8);
    gp.set_streaming_width(8);
    auto t0 = std::chrono::steady_clock::now();
    for (uint64_t i = 0; i < n; ++i) {
        sc_core::sc_time d = sc_core::SC_ZERO_TIME;
        v = i;
        isock->b_transport(gp, d);
        sc_core::wait(d);
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace bench
