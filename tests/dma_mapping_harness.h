// Shared by the DMA-mapping tests: a machine to run in, a register-level
// stand-in of a VT-d unit, and a walk of the tables it is given.
#pragma once
#include "platform/params.h"
#include "platform/platform.h"
#include "platform/scenario.h"
#include "sw/dma-mapping/dma_debug.h"
#include "sw/dma-mapping/intel_iommu.h"
#include "sw/dma-mapping/swiotlb.h"
#include "sw/kernel/kernel.h"
#include "models/ioh/ioh.h"
#include "models/ioh/vtd.h"

#include <doctest/doctest.h>
#include <systemc>

#include <functional>
#include <map>
#include <vector>

using namespace ioatsim;
using namespace ioatsim::sw;

namespace dma_mapping_test {

// A machine of `preset` without drivers; `body` runs as a kernel task on CPU 0.
inline void with_machine(const std::function<void(platform&, kernel&)>& body, const std::string& preset = "minimal") {
    scenario sc = parse_scenario("name: t\nplatform: {preset: " + preset + "}\n", "t.yaml", {});
    params p = params::resolve(sc);
    platform plat(sc, p);
    plat.kernel()->kthread_run("test", 0, [&] { body(plat, *plat.kernel()); });
    sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_SEC));
}

int64_t counter(const std::string& c) { return sim_report().get(c); }
int64_t violations(const char* kind) { return sim_report().get(std::string("violations.") + kind); }
// A log line's text after its dmesg stamp, exactly.
inline bool logged(const std::string& text) {
    for (auto& l : sim_report().log_lines())
        if (l.size() > 15 && l.substr(15) == text) return true;
    return false;
}
inline bool logged_part(const std::string& part) {
    for (auto& l : sim_report().log_lines())
        if (l.find(part) != std::string::npos) return true;
    return false;
}

inline void make_dev(pci_dev& d, uint8_t bus, uint8_t dev, uint8_t fn) {
    d.bus = bus;
    d.devfn = uint8_t(dev << 3 | fn);
    d.name = strfmt("0000:%02x:%02x.%u", bus, dev, fn);
}

// A register-level stand-in for a VT-d unit (Tylersburg CAP/ECAP): GSTS
// follows GCMD, CCMD.ICC and IOTLB.IVT clear at once, queued descriptors run
// when IQT moves (wait descriptors write their status), fault records are
// injected. Every invalidation it sees is kept.
constexpr uint64_t FAKE_BASE = 0xFED90000;
struct fake_unit {
    struct inv { char via; unsigned type, gran; uint16_t did; uint64_t addr; unsigned am; };
    kernel& k;
    std::map<uint32_t, uint32_t> r;
    std::vector<inv> seen;
    fake_unit(kernel& kk, uint64_t ecap = 0xf020fe) : k(kk) {
        r[0x00] = 0x10;
        set64(0x08, 0x00c90780106f0462ull);
        set64(0x10, ecap);
        r[0x38] = 1u << 31;
    }
    uint64_t get64(uint32_t o) { return uint64_t(r[o + 4]) << 32 | r[o]; }
    void set64(uint32_t o, uint64_t v) { r[o] = uint32_t(v), r[o + 4] = uint32_t(v >> 32); }
    void ppf() {
        bool any = false;
        for (unsigned i = 0; i < 8; ++i) any = any || (r[0x10c + 16 * i] >> 31);
        r[0x34] = any ? r[0x34] | 2 : r[0x34] & ~0xff02u;
    }
    void write(uint32_t o, uint32_t v) {
        if (o == 0x18) {
            r[0x1c] = (v & (1u << 31 | 1u << 26)) | (r[0x1c] & 1u << 30) | (v & 1u << 30);
        } else if (o == 0x2c && v >> 31) {  // CCMD high half with ICC
            seen.push_back({'r', 1, (v >> 29) & 3, uint16_t(r[0x28]), 0, 0});
            r[o] = (v & ~(1u << 31)) | ((v >> 29) & 3) << 27;
        } else if (o == 0x20c && v >> 31) {  // IOTLB_REG high half with IVT
            seen.push_back({'r', 2, (v >> 28) & 3, uint16_t(v), get64(0x200) & ~0xfffull, r[0x200] & 0x3f});
            r[o] = (v & ~(1u << 31)) | ((v >> 28) & 3) << 25;
        } else if (o == 0x88) {
            const uint64_t base = get64(0x90) & ~0xfffull;
            unsigned i = r[0x80] >> 4;
            for (; i != v >> 4; i = (i + 1) % 256) {
                const uint64_t lo = k.load<uint64_t>(base + 16 * i), hi = k.load<uint64_t>(base + 16 * i + 8);
                if ((lo & 0xf) == 5 && (lo >> 5 & 1)) k.store<uint32_t>(hi, uint32_t(lo >> 32));
                else seen.push_back({'q', unsigned(lo & 0xf), unsigned(lo >> 4 & 3), uint16_t(lo >> 16), hi & ~0xfffull,
                                     unsigned(hi & 0x3f)});
            }
            r[0x80] = i << 4;
            r[o] = v;
        } else if (o == 0x34) {
            r[o] &= ~(v & 0x7d);
            ppf();
        } else if (o >= 0x100 && o < 0x180 && (o & 15) == 12) {
            if (v >> 31) r[o] &= ~(1u << 31);
            ppf();
        } else {
            r[o] = v;
        }
    }
    dmar_reg_access access() {
        return {[this](uint64_t a) { return r[uint32_t(a - FAKE_BASE)]; },
                [this](uint64_t a, uint32_t v) { write(uint32_t(a - FAKE_BASE), v); }};
    }
    void inject(unsigned i, uint64_t addr, uint16_t sid, uint8_t reason, bool read) {
        set64(0x100 + 16 * i, addr);
        r[0x108 + 16 * i] = sid;
        r[0x10c + 16 * i] = 1u << 31 | uint32_t(read) << 30 | reason;
        if (!(r[0x34] & 2)) r[0x34] = (r[0x34] & ~0xff00u) | i << 8;
        ppf();
    }
    size_t iotlb(unsigned gran) const {
        size_t n = 0;
        for (auto& x : seen) n += x.type == 2 && x.gran == gran;
        return n;
    }
};

inline dma_mapping_config with_unit(iommu_mode m, fake_unit& f) {
    dma_mapping_config c;
    c.iommu = m;
    c.drhd = {{FAKE_BASE, true, {}, {}}};
    c.reg_access = [&f](uint64_t) { return f.access(); };
    return c;
}

// The entries a walk meets for `iova` of a device (root, context, 4 levels).
struct walk_result { uint64_t root, ctx_lo, ctx_hi; std::vector<uint64_t> ptes; };
inline walk_result walk(kernel& k, intel_iommu& u, uint8_t bus, uint8_t devfn, uint64_t iova) {
    walk_result w{};
    w.root = k.load<uint64_t>(u.root_entry + 16 * bus);
    const uint64_t ce = (w.root & ~0xfffull) + 16 * devfn;
    w.ctx_lo = k.load<uint64_t>(ce);
    w.ctx_hi = k.load<uint64_t>(ce + 8);
    uint64_t table = w.ctx_lo & ~0xfffull;
    for (int level = 4; level >= 1 && table; --level) {
        const uint64_t v = k.load<uint64_t>(table + 8 * (iova >> (12 + 9 * (level - 1)) & 0x1ff));
        w.ptes.push_back(v);
        table = v & 3 ? v & ~0xfffull : 0;
    }
    return w;
}

}  // namespace dma_mapping_test
using namespace dma_mapping_test;
