#include "models/ioh/ioh.h"

#include "models/core/report.h"

#include <cstdio>

namespace ioatsim::models {

uint16_t ioat_device_id(unsigned fn, ioat_id_set ids) {
    static const uint16_t tbg[] = {0x3430, 0x3431, 0x3432, 0x3433, 0x3429, 0x342A, 0x342B, 0x342C};
    switch (ids) {
    case ioat_id_set::jsf: return uint16_t(0x3710 + fn % 8);  // JSF0-7 [inference: in function order]
    case ioat_id_set::ivb: return uint16_t(0x0e20 + fn % 8);  // IVB0-7 at 04.0-7, as a Xeon E5 v2's pciconf shows
    case ioat_id_set::tbg: break;
    }
    return tbg[fn % 8];
}

static std::string bdf(uint8_t bus, unsigned dev, unsigned fn) {
    char b[24];
    std::snprintf(b, sizeof b, "0000:%02x:%02x.%u", bus, dev & 0x1f, fn & 7);
    return b;
}

ioh::ioh(sc_core::sc_module_name name, const ioh_config& cfg)
    : sc_module(name), cfg_(cfg),
      rc_("rc", cfg.bus_lo, cfg.bus_hi, cfg.ecam_base, cfg.mmio_base, cfg.mmio_size, cfg.rc) {
    sim_report().declare("dca.prefetch_hints");
    sim_report().declare("dca.unclaimed_tags");
    auto mover = cfg.shared_engine ? std::make_shared<bandwidth>(cfg.ioat.timing.bandwidth_gbps, 100'000) : nullptr;
    for (unsigned f = 0; f < cfg.ioat_functions; ++f) {
        ioat_config ic = cfg.ioat;
        ic.mover = mover;
        ic.device_id = ioat_device_id(f, cfg.ioat_ids);
        ic.node = cfg.node;
        ioat_.push_back(std::make_unique<ioat_function>(("ioat" + std::to_string(f)).c_str(),
                                                        bdf(cfg.bus_lo, cfg.ioat_device, f), ic));
        if (cfg.ioat_functions > 1)  // the IOAT device is multi-function
            ioat_.back()->config().define(pci_reg::HEADER_TYPE, 1, 0x80, 0);
        rc_.attach(cfg.bus_lo, cfg.ioat_device, uint8_t(f), *ioat_.back());
        rc_.bar_out.bind(ioat_.back()->bar0);
        ioat_.back()->dma.bind(rc_.upstream);
    }
    for (unsigned p = 0; p < cfg.root_ports; ++p) {
        unsigned dev = root_port_device(p);
        // Ports 1 and 3 of the 5520/7500 (device IDs 0x3408 and 0x340A) first.
        ports_.push_back(std::make_unique<root_port>(("port" + std::to_string(dev)).c_str(),
                                                     bdf(cfg.bus_lo, dev, 0), uint16_t(0x3407 + dev),
                                                     cfg.index * 16 + dev));
        rc_.attach(cfg.bus_lo, uint8_t(dev), 0, *ports_.back());
        ports_.back()->msi_out.bind(rc_.upstream);
    }
    if (cfg.vtd_enabled) {
        vtd_ = std::make_unique<vtd_unit>("vtd", cfg.vtd);
        rc_.set_remapper(vtd_.get());
    }
}

void ioh::link_down() {
    rc_.set_present(false);
    if (vtd_) vtd_->set_present(false);
}

pci_function_if* ioh::find(const std::string& name) {
    for (auto* f : functions())
        if (f->bdf() == name) return f;
    return nullptr;
}

std::vector<pci_function_if*> ioh::functions() {
    std::vector<pci_function_if*> v;
    for (auto& p : ports_) v.push_back(p.get());
    for (auto& f : ioat_) v.push_back(f.get());
    return v;
}

ioh::dca_hint ioh::dca_write(uint16_t rid, uint8_t tag, uint64_t t_ps) {
    if (!present()) return dca_hint::unreachable;
    report& rep = sim_report();
    for (auto& f : ioat_)
        if (f->dca_claims(rid)) {
            ++rep.counter("dca.prefetch_hints");
            dca_unclaimed_[rid] = false;
            return dca_hint::prefetch;
        }
    ++rep.counter("dca.unclaimed_tags");
    bool& in_run = dca_unclaimed_[rid];
    if (!in_run) {
        char who[16], t[8];
        std::snprintf(who, sizeof who, "%04x:%02x:%02x.%u", 0, rid >> 8, (rid >> 3) & 0x1f, rid & 7);
        std::snprintf(t, sizeof t, "0x%02x", tag);
        rep.trace(t_ps, name(), "dca.unclaimed_tag", json_obj().set("requester", who).set("tag", t));
    }
    in_run = true;
    return dca_hint::unclaimed;
}

void ioh::power_off() {
    rc_.set_present(false);
    if (vtd_) vtd_->set_present(false);
    if (!powered_) return;
    powered_ = false;
    for (auto& f : ioat_) f->power_off();
    sim_report().trace(uint64_t(sc_core::sc_time_stamp().value()), name(), "power.off");
}

void ioh::power_on() {
    if (!powered_) {
        powered_ = true;
        for (auto& f : ioat_) f->power_on();
        for (auto& p : ports_) p->power_on_reset();
        if (vtd_) vtd_->reset();
        sim_report().trace(uint64_t(sc_core::sc_time_stamp().value()), name(), "power.on");
    }
    rc_.set_present(true);
    if (vtd_) vtd_->set_present(true);
    if (on_power_on) on_power_on();
}

}  // namespace ioatsim::models
