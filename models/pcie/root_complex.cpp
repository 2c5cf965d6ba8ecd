#include "models/pcie/root_complex.h"

#include "models/core/report.h"

#include <cstring>

namespace ioatsim::models {

root_complex::root_complex(sc_core::sc_module_name name, uint8_t bus, uint64_t ecam_base,
                           uint64_t mmio_base, uint64_t mmio_size, root_complex_timing t)
    : sc_module(name), tsock("tsock"), bar_out("bar_out"), upstream("upstream"), fabric("fabric"),
      bus_(bus), ecam_base_(ecam_base), mmio_base_(mmio_base), mmio_size_(mmio_size), t_(t) {
    tsock.register_b_transport(this, &root_complex::b_transport);
    tsock.register_transport_dbg(this, &root_complex::transport_dbg);
    upstream.register_b_transport(this, &root_complex::up_b_transport);
    upstream.register_transport_dbg(this, &root_complex::up_transport_dbg);
}

void root_complex::attach(uint8_t dev, uint8_t fn, pci_function_if& f) {
    slots_.push_back({dev, fn, &f});
}

root_complex::slot* root_complex::find(uint8_t dev, uint8_t fn) {
    for (auto& s : slots_)
        if (s.dev == dev && s.fn == fn) return &s;
    return nullptr;
}

// ECAM: offset bits [19:15] device, [14:12] function, [11:0] register.
// No function there: reads complete as all-ones, writes are dropped (master abort).
void root_complex::config_access(tlm::tlm_generic_payload& gp) {
    uint64_t off = gp.get_address() - ecam_base_;
    unsigned len = gp.get_data_length();
    unsigned reg = off & 0xfff;
    uint8_t dev = (off >> 15) & 0x1f, fn = (off >> 12) & 7;
    uint8_t* data = gp.get_data_ptr();
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
    if ((len != 1 && len != 2 && len != 4) || (reg & (len - 1))) {
        gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
        return;
    }
    slot* s = find(dev, fn);
    if (gp.is_read()) {
        uint32_t v = s ? s->f->config().read(reg, len) : 0xffffffffu;
        std::memcpy(data, &v, len);
    } else if (s) {
        uint32_t v = 0;
        std::memcpy(&v, data, len);
        s->f->config().write(reg, len, v);
        s->f->config_written(reg, len);
    }
}

void root_complex::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
    uint64_t a = gp.get_address();
    if (a >= ecam_base_ && a - ecam_base_ < ecam_size()) {
        config_access(gp);
        delay += t_.cfg_latency;
        return;
    }
    for (unsigned i = 0; i < slots_.size(); ++i) {
        if (auto hit = slots_[i].f->config().decode(a, gp.get_data_length())) {
            gp.set_address(hit->offset);
            bar_out[i]->b_transport(gp, delay);
            gp.set_address(a);
            return;
        }
    }
    // Unclaimed MMIO: Unsupported Request; the CPU sees all-ones.
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
}

unsigned root_complex::transport_dbg(tlm::tlm_generic_payload& gp) {
    sc_core::sc_time d;
    uint64_t a = gp.get_address();
    if (a >= ecam_base_ && a - ecam_base_ < ecam_size()) {
        config_access(gp);
        return gp.is_response_ok() ? gp.get_data_length() : 0;
    }
    for (unsigned i = 0; i < slots_.size(); ++i) {
        if (auto hit = slots_[i].f->config().decode(a, gp.get_data_length())) {
            gp.set_address(hit->offset);
            unsigned n = bar_out[i]->transport_dbg(gp);
            gp.set_address(a);
            return n;
        }
    }
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return 0;
}

// A function's memory request: only with Bus Master Enable, as the spec requires.
void root_complex::up_b_transport(int port, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
    if (port < int(slots_.size()) && !slots_[port].f->config().bus_master()) {
        gp.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
        sim_report().trace(uint64_t((sc_core::sc_time_stamp() + delay).value()),
                           name(), "dma.blocked",
                           json_obj().set("dev", slots_[port].f->bdf()).set("addr", hex(gp.get_address())));
        return;
    }
    fabric->b_transport(gp, delay);
}

unsigned root_complex::up_transport_dbg(int, tlm::tlm_generic_payload& gp) {
    return fabric->transport_dbg(gp);
}

}  // namespace ioatsim::models
