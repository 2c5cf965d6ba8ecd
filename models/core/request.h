// Who issued a transaction: carried on every request through the fabric so the
// interconnect can charge NUMA distance and the trace can name the requester.
#pragma once
#include <tlm>

#include <cstdint>
#include <string>
#include <vector>

namespace ioatsim::models {

struct request_ext : tlm::tlm_extension<request_ext> {
    enum kind_t : uint8_t { cpu, dma, msi } kind = cpu;
    uint16_t requester = 0;  // CPU number, or the function's requester ID (bus << 8 | devfn)
    unsigned node = 0;       // NUMA node of the requester

    tlm::tlm_extension_base* clone() const override { return new request_ext(*this); }
    void copy_from(const tlm::tlm_extension_base& e) override {
        *this = static_cast<const request_ext&>(e);
    }
    std::string who() const;  // "cpu3", "0000:80:16.7"
};

// Attaches a stack-owned extension for the duration of one transport call.
class request_scope {
public:
    request_scope(tlm::tlm_generic_payload& gp, request_ext& ext) : gp_(gp), prev_(gp.get_extension<request_ext>()) {
        gp_.set_extension(&ext);
    }
    ~request_scope() { gp_.set_extension(prev_); }
private:
    tlm::tlm_generic_payload& gp_;
    request_ext* prev_;
};

inline const request_ext* requester_of(const tlm::tlm_generic_payload& gp) {
    return gp.get_extension<request_ext>();
}

// A payload lent for one transport call. tlm_generic_payload's constructor
// allocates its extension array, and hot paths make one per access, so
// payloads are kept and lent again. A transport may wait, so each call has its
// own; SystemC runs one process at a time, so one pool serves them all.
class pooled_payload {
public:
    pooled_payload() {
        if (free_list().empty()) gp_ = new tlm::tlm_generic_payload;  // kept for the process's life
        else gp_ = free_list().back(), free_list().pop_back();
    }
    ~pooled_payload() { free_list().push_back(gp_); }
    pooled_payload(const pooled_payload&) = delete;
    pooled_payload& operator=(const pooled_payload&) = delete;
    tlm::tlm_generic_payload& operator*() const { return *gp_; }

private:
    static std::vector<tlm::tlm_generic_payload*>& free_list() {
        static std::vector<tlm::tlm_generic_payload*> v;
        return v;
    }
    tlm::tlm_generic_payload* gp_;
};

// A fresh request: `len` bytes at `addr` from or into `buf`, no byte enables,
// no DMI, its response still to come.
inline void prepare_payload(tlm::tlm_generic_payload& gp, bool write, uint64_t addr, void* buf, unsigned len) {
    gp.set_command(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
    gp.set_address(addr);
    gp.set_data_ptr(static_cast<uint8_t*>(buf));
    gp.set_data_length(len);
    gp.set_streaming_width(len);
    gp.set_byte_enable_ptr(nullptr);
    gp.set_dmi_allowed(false);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
}

// An interrupt message: one posted 32-bit write of `data` to `addr`, tagged with
// its requester when `who` is given. Returns whether the fabric accepted it.
template <class Socket>
bool post_message(Socket& socket, uint64_t addr, uint32_t data, request_ext* who = nullptr) {
    pooled_payload lent;
    tlm::tlm_generic_payload& gp = *lent;
    prepare_payload(gp, true, addr, &data, 4);
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    if (who) gp.set_extension(who);
    socket->b_transport(gp, d);
    if (who) gp.clear_extension(who);
    return gp.is_response_ok();
}

}  // namespace ioatsim::models
