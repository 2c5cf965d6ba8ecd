#include "models/fabric/router.h"

#include "models/core/request.h"

namespace ioatsim::models {

router::router(sc_core::sc_module_name name, sc_core::sc_time hop_latency)
    : sc_module(name), tsock("tsock"), isock("isock"), hop_(hop_latency) {
    tsock.register_b_transport(this, &router::b_transport);
    tsock.register_transport_dbg(this, &router::transport_dbg);
    tsock.register_get_direct_mem_ptr(this, &router::get_direct_mem_ptr);
    isock.register_invalidate_direct_mem_ptr(this, &router::invalidate);
}

void router::map(uint64_t base, uint64_t size, unsigned port, const std::string& what, int node) {
    for (auto& w : map_)
        if (base < w.base + w.size && w.base < base + size)
            SC_REPORT_FATAL("ioatsim/router", ("window " + what + " overlaps " + w.what).c_str());
    map_.push_back({base, size, port, what, node});
}

const router::window* router::decode(uint64_t addr, uint64_t len) const {
    for (auto& w : map_)
        if (addr >= w.base && addr - w.base < w.size && len <= w.size - (addr - w.base)) return &w;
    return nullptr;
}

void router::b_transport(int, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
    if (auto* w = decode(gp.get_address(), gp.get_data_length())) {
        if (auto* r = requester_of(gp)) delay += hop_ * double(hops(r->node, w->node));
        isock[w->port]->b_transport(gp, delay);
        return;
    }
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
}

unsigned router::transport_dbg(int, tlm::tlm_generic_payload& gp) {
    if (auto* w = decode(gp.get_address(), gp.get_data_length()))
        return isock[w->port]->transport_dbg(gp);
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return 0;
}

bool router::get_direct_mem_ptr(int, tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi) {
    auto* w = decode(gp.get_address(), 1);
    if (!w || !isock[w->port]->get_direct_mem_ptr(gp, dmi)) return false;
    // Never grant past the window: the target may not know the map.
    if (dmi.get_start_address() < w->base) {
        dmi.set_dmi_ptr(dmi.get_dmi_ptr() + (w->base - dmi.get_start_address()));
        dmi.set_start_address(w->base);
    }
    if (dmi.get_end_address() > w->base + w->size - 1) dmi.set_end_address(w->base + w->size - 1);
    return true;
}

void router::invalidate(int, sc_dt::uint64 start, sc_dt::uint64 end) {
    for (unsigned i = 0; i < tsock.size(); ++i) tsock[i]->invalidate_direct_mem_ptr(start, end);
}

}  // namespace ioatsim::models
