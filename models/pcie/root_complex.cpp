#include "models/pcie/root_complex.h"

#include "models/core/report.h"
#include "models/core/request.h"

#include <algorithm>
#include <cstring>

namespace ioatsim::models {

root_complex::root_complex(sc_core::sc_module_name name, uint8_t bus_lo, uint8_t bus_hi,
                           uint64_t ecam_base, uint64_t mmio_base, uint64_t mmio_size,
                           root_complex_timing t)
    : sc_module(name), tsock("tsock"), bar_out("bar_out"), upstream("upstream"), fabric("fabric"),
      bus_lo_(bus_lo), bus_hi_(bus_hi), ecam_base_(ecam_base), mmio_base_(mmio_base),
      mmio_size_(mmio_size), t_(t) {
    tsock.register_b_transport(this, &root_complex::b_transport);
    tsock.register_transport_dbg(this, &root_complex::transport_dbg);
    upstream.register_b_transport(this, &root_complex::up_b_transport);
    upstream.register_transport_dbg(this, &root_complex::up_transport_dbg);
    for (const char* c : {"pcie.unsupported_requests", "pcie.posted_dropped", "pcie.dma_dropped",
                          "pcie.completion_timeouts"})
        sim_report().declare(c);
}

uint64_t root_complex::now_ps(const sc_core::sc_time& extra) const {
    return uint64_t((sc_core::sc_time_stamp() + extra).value());
}

void root_complex::attach(uint8_t bus, uint8_t dev, uint8_t fn, pci_function_if& f) {
    slots_.push_back({bus, dev, fn, &f, f.bar_count() ? bar_ports_++ : -1});
}

root_complex::slot* root_complex::find(uint8_t bus, uint8_t dev, uint8_t fn) {
    for (auto& s : slots_)
        if (s.bus == bus && s.dev == dev && s.fn == fn) return &s;
    return nullptr;
}

void root_complex::set_present(bool present) {
    if (present == present_) return;
    present_ = present;
    sim_report().trace(now_ps(), name(), present ? "link.up" : "link.down");
    if (!present) removed_ev_.notify();
}

// ECAM: offset bits [27:20] bus, [19:15] device, [14:12] function, [11:0] register.
// No function there: reads complete as all-ones, writes are dropped (master abort).
void root_complex::config_access(tlm::tlm_generic_payload& gp) {
    uint64_t off = gp.get_address() - ecam_base_;
    unsigned len = gp.get_data_length();
    unsigned reg = off & 0xfff;
    uint8_t bus = uint8_t(bus_lo_ + (off >> 20)), dev = (off >> 15) & 0x1f, fn = (off >> 12) & 7;
    uint8_t* data = gp.get_data_ptr();
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
    if ((len != 1 && len != 2 && len != 4) || (reg & (len - 1))) {
        gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
        return;
    }
    slot* s = find(bus, dev, fn);
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

bool root_complex::route(tlm::tlm_generic_payload& gp, sc_core::sc_time* delay) {
    uint64_t a = gp.get_address();
    if (a >= ecam_base_ && a - ecam_base_ < ecam_size()) {
        config_access(gp);
        if (delay) *delay += t_.cfg_latency;
        return true;
    }
    for (auto& s : slots_) {
        if (s.bar_port < 0) continue;
        if (auto hit = s.f->config().decode(a, gp.get_data_length())) {
            gp.set_address(hit->offset);
            if (delay && gp.is_write()) trace_write(gp, *s.f, hit->offset, *delay);
            if (delay) bar_out[s.bar_port]->b_transport(gp, *delay);
            else bar_out[s.bar_port]->transport_dbg(gp);
            gp.set_address(a);
            return true;
        }
    }
    return false;
}

// A posted register write reaching a function (doorbells, for the timelines);
// hotplug.jsonl only counts them.
void root_complex::trace_write(const tlm::tlm_generic_payload& gp, pci_function_if& f, uint64_t offset,
                               const sc_core::sc_time& delay) {
    report& rep = sim_report();
    const std::string src = name();
    if (!rep.needs_fields(src, "mmio.write")) return rep.trace(now_ps(delay), src, "mmio.write");
    uint64_t v = 0;
    std::memcpy(&v, gp.get_data_ptr(), std::min<unsigned>(8, gp.get_data_length()));
    const request_ext* r = requester_of(gp);
    rep.trace(now_ps(delay), src, "mmio.write",
                       json_obj().set("fn", f.bdf()).set("offset", hex(offset)).set("len", gp.get_data_length())
                                 .set("value", hex(v)).set("by", r ? r->who() : std::string("?")));
}

void root_complex::unsupported(tlm::tlm_generic_payload& gp, const char* why) {
    ++sim_report().counter(gp.is_write() ? "pcie.posted_dropped" : "pcie.unsupported_requests");
    if (gp.is_read()) std::memset(gp.get_data_ptr(), 0xff, gp.get_data_length());
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    report& rep = sim_report();
    const std::string src = name();
    if (!rep.needs_fields(src, why)) return rep.trace(now_ps(), src, why);
    const request_ext* r = requester_of(gp);
    rep.trace(now_ps(), src, why,
                       json_obj().set("addr", hex(gp.get_address())).set("write", gp.is_write())
                                 .set("by", r ? r->who() : std::string("?")));
}

void root_complex::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
    if (!present_) return unsupported(gp, "ur.removed");
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    if (!route(gp, &d)) {
        // Unclaimed MMIO: Unsupported Request; the CPU sees all-ones.
        gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return;
    }
    if (gp.is_write()) {
        delay += d;  // posted: the requester does not wait
        return;
    }
    // A read's completion travels back; a removal in the meantime loses it and the
    // requester waits for its completion timeout.
    wait(d, removed_ev_);
    if (!present_) {
        wait(t_.completion_timeout);
        ++sim_report().counter("pcie.completion_timeouts");
        std::memset(gp.get_data_ptr(), 0xff, gp.get_data_length());
        gp.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
        sim_report().trace(now_ps(), name(), "completion_timeout", json_obj().set("addr", hex(gp.get_address())));
    }
}

unsigned root_complex::transport_dbg(tlm::tlm_generic_payload& gp) {
    if (!present_ || !route(gp, nullptr)) {
        gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return 0;
    }
    return gp.is_response_ok() ? gp.get_data_length() : 0;
}

// A function's memory request: dropped when the link is down, and only with Bus
// Master Enable, as the spec requires.
void root_complex::up_b_transport(int port, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
    // Named only for the trace of a refused request.
    auto who = [&] {
        const request_ext* r = requester_of(gp);
        return r ? r->who() : slots_.at(port).f->bdf();
    };
    if (!present_) {
        ++sim_report().counter("pcie.dma_dropped");
        gp.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
        sim_report().trace(now_ps(delay), name(), "dma.dropped",
                           json_obj().set("by", who()).set("addr", hex(gp.get_address())).set("write", gp.is_write()));
        return;
    }
    if (port < int(slots_.size()) && !slots_[port].f->config().bus_master()) {
        gp.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
        sim_report().trace(now_ps(delay), name(), "dma.blocked", json_obj().set("by", who()).set("addr", hex(gp.get_address())));
        return;
    }
    if (remapped(gp)) return remapped_transport(port, gp, delay);
    fabric->b_transport(gp, delay);
    if (on_dma_write && gp.is_write() && gp.is_response_ok()) on_dma_write(gp.get_address(), gp.get_data_length());
    if (on_dma_access && gp.is_response_ok() && !interrupt(gp.get_address()))
        on_dma_access(source_id(port, gp), gp.get_address(), gp.get_data_length(), gp.is_write());
}

bool root_complex::interrupt(uint64_t a) { return a >= interrupt_window && a - interrupt_window < interrupt_window_size; }

bool root_complex::remapped(const tlm::tlm_generic_payload& gp) const {
    return remapper_ && !interrupt(gp.get_address()) && remapper_->translating();
}

// The requester as the IOH knows it: the slot the request came in on, else
// what the request says.
uint16_t root_complex::source_id(int port, const tlm::tlm_generic_payload& gp) const {
    if (port >= 0 && port < int(slots_.size())) {
        const slot& s = slots_[size_t(port)];
        return uint16_t(s.bus << 8 | s.dev << 3 | s.fn);
    }
    const request_ext* r = requester_of(gp);
    return r ? r->requester : 0;
}

// One request under translation: each 4 KiB page of it is translated on its
// own and goes to the fabric at its own physical address; the first page that
// faults ends the request with an address error (what the IOAT channel takes
// for a bad source or destination), earlier pages having gone through as a
// device's TLPs would have. Walks are dependent reads, so their time adds up;
// the pages' own accesses are issued back to back and overlap [inference].
void root_complex::remapped_transport(int port, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
    const uint16_t sid = source_id(port, gp);
    const uint64_t iova = gp.get_address();
    const unsigned len = gp.get_data_length(), sw = gp.get_streaming_width();
    uint8_t* const data = gp.get_data_ptr();
    uint8_t* const be = gp.get_byte_enable_ptr();
    const unsigned be_len = gp.get_byte_enable_length();
    sc_core::sc_time end = delay;
    unsigned done = 0;
    bool ok = true;
    do {
        const uint64_t a = iova + done;
        const unsigned n = unsigned(std::min<uint64_t>(len - done, 0x1000 - (a & 0xfff)));
        uint64_t phys = 0;
        if (!remapper_->remap(sid, a, n, gp.is_write(), phys, delay)) {
            ok = false;
            break;
        }
        gp.set_address(phys);
        gp.set_data_ptr(data + done);
        gp.set_data_length(n);
        gp.set_streaming_width(n);
        if (be && be_len >= len) gp.set_byte_enable_ptr(be + done);
        sc_core::sc_time d = delay;
        fabric->b_transport(gp, d);
        end = std::max(end, d);
        if (!gp.is_response_ok()) break;
        if (on_dma_write && gp.is_write()) on_dma_write(phys, n);
        if (on_dma_access) on_dma_access(sid, a, n, gp.is_write());
        done += n;
    } while (done < len);
    gp.set_address(iova);
    gp.set_data_ptr(data);
    gp.set_data_length(len);
    gp.set_streaming_width(sw);
    gp.set_byte_enable_ptr(be);
    delay = std::max(end, delay);
    if (!ok) {
        if (gp.is_read()) std::memset(data + done, 0xff, len - done);  // the blocked part completes as UR
        gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    }
}

unsigned root_complex::up_transport_dbg(int port, tlm::tlm_generic_payload& gp) {
    if (!present_) return 0;
    if (!remapped(gp)) return fabric->transport_dbg(gp);
    const uint16_t sid = source_id(port, gp);
    const uint64_t iova = gp.get_address();
    const unsigned len = gp.get_data_length();
    uint8_t* const data = gp.get_data_ptr();
    unsigned done = 0;
    while (done < len) {
        const uint64_t a = iova + done;
        const unsigned n = unsigned(std::min<uint64_t>(len - done, 0x1000 - (a & 0xfff)));
        uint64_t phys = 0;
        if (!remapper_->remap_dbg(sid, a, n, gp.is_write(), phys)) break;
        gp.set_address(phys);
        gp.set_data_ptr(data + done);
        gp.set_data_length(n);
        unsigned got = fabric->transport_dbg(gp);
        done += got;
        if (got != n) break;
    }
    gp.set_address(iova);
    gp.set_data_ptr(data);
    gp.set_data_length(len);
    gp.set_response_status(done == len ? tlm::TLM_OK_RESPONSE : tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return done;
}

}  // namespace ioatsim::models
