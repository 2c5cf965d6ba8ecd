#include "models/ioat/ioat_function.h"

#include "models/core/report.h"
#include "models/core/request.h"

#include <algorithm>
#include <cstdio>

#include <cstring>

namespace ioatsim::models {
using namespace ioat;
using F = ioat_function;

// Global registers (BAR0 + off). Values of read-only identity registers are set
// from the configuration in reset_regs.
const F::reg_def F::global_regs[] = {
    {"CHANCNT", CHANCNT, 1, 0, 0, 0, nullptr, nullptr, nullptr},
    {"XFERCAP", XFERCAP, 1, 0, 0, 0, nullptr, nullptr, nullptr},
    {"GENCTRL", GENCTRL, 1, 0x01, 0, 0, nullptr, nullptr, nullptr},
    {"INTRCTRL", INTRCTRL, 1, INTRCTRL_MASTER_INT_EN | INTRCTRL_MSIX_VECTOR_CONTROL, 0, 0,
     &F::rd_intrctrl, nullptr, &F::wr_msix},  // enabling delivers what is pending
    {"ATTNSTATUS", ATTNSTATUS, 4, 0, 0, 0, nullptr, &F::rd_attnstatus_clear, nullptr},
    {"CBVER", CBVER, 1, 0, 0, 0, nullptr, nullptr, nullptr},
    {"PERPORTOFFSET", PERPORTOFFSET, 2, 0, 0, CHAN_STRIDE, nullptr, nullptr, nullptr},
    {"INTRDELAY", INTRDELAY, 2, 0x3fff, 0, 0x8000, nullptr, nullptr, nullptr},
    {"DEVICE_STATUS", DEVICE_STATUS, 2, 0, 0, 0, nullptr, nullptr, nullptr},
    {"DMACAPABILITY", DMACAPABILITY, 4, 0, 0, 0, nullptr, nullptr, nullptr},
    {"DCAOFFSET", DCAOFFSET, 2, 0, 0, 0, nullptr, nullptr, nullptr},
};

// Per channel (BAR0 + 0x80 * (n + 1) + off).
const F::reg_def F::channel_regs[] = {
    {"CHANCTRL", CHANCTRL, 2, 0xf33d, 0, 0, nullptr, &F::rd_chanctrl_in_use, &F::wr_chanctrl},
    {"DMA_COMP", DMA_COMP, 2, 0, 0, 0x0002, nullptr, nullptr, nullptr},
    {"CHANCMD", CHANCMD, 1, 0x3f, 0, 0, nullptr, nullptr, &F::wr_chancmd},
    {"DMACOUNT", DMACOUNT, 2, 0xffff, 0, 0, nullptr, nullptr, &F::wr_dmacount},
    {"CHANSTS", CHANSTS, 8, 0, 0, HALTED, &F::rd_chansts, nullptr, nullptr},
    {"CHAINADDR", CHAINADDR, 8, ~0ull, 0, 0, nullptr, nullptr, &F::wr_chainaddr},
    {"CHANCMP", CHANCMP, 8, ~0ull, 0, 0, nullptr, nullptr, nullptr},
    {"CDAR", CDAR, 8, 0, 0, 0, nullptr, nullptr, nullptr},
    {"CHANERR", CHANERR, 4, 0, 0xffffffff, 0, nullptr, nullptr, nullptr},
    {"CHANERR_MASK", CHANERR_MASK, 4, 0xffffffff, 0, 0, nullptr, nullptr, nullptr},
    {"DCACTRL", DCACTRL, 4, 0xffffffff, 0, 0, nullptr, nullptr, nullptr},
};

// The single MSI-X vector: table entry and pending-bit array.
const F::reg_def F::msix_regs[] = {
    {"MSIX_ADDR", MSIX_TABLE + 0, 8, ~0x3ull, 0, 0, nullptr, nullptr, &F::wr_msix},
    {"MSIX_DATA", MSIX_TABLE + 8, 4, 0xffffffff, 0, 0, nullptr, nullptr, &F::wr_msix},
    {"MSIX_VECTOR_CTRL", MSIX_TABLE + 12, 4, 0x1, 0, 0x1, nullptr, nullptr, &F::wr_msix},
    {"MSIX_PBA", MSIX_PBA, 8, 0, 0, 0, nullptr, nullptr, nullptr},
};

// The DCA block (BAR0 + DCAOFFSET) and one GREQID entry, the last of the table
// with LASTID (read-only, so the driver's count of slots stops there). Firmware
// programs APICID_TAG_MAP; the driver turns the prefetch and MEMWR controls on
// ("some bios might not know to turn these on", ioat3_dca_init).
const F::reg_def F::dca_regs[] = {
    {"DCA_GREQID_OFFSET", DCA3_GREQID_OFFSET, 2, 0, 0, DCA_GREQID_TABLE, nullptr, nullptr, nullptr},
    {"DCA_CSI_CAPABILITY", DCA3_CSI_CAPABILITY, 2, 0, 0, DCA3_CSI_PREFETCH, nullptr, nullptr, nullptr},
    {"DCA_PCI_CAPABILITY", DCA3_PCI_CAPABILITY, 2, 0, 0, DCA3_PCI_MEMWR, nullptr, nullptr, nullptr},
    {"DCA_CSI_CONTROL", DCA3_CSI_CONTROL, 2, DCA3_CSI_PREFETCH, 0, 0, nullptr, nullptr, nullptr},
    {"DCA_PCI_CONTROL", DCA3_PCI_CONTROL, 2, DCA3_PCI_MEMWR, 0, 0, nullptr, nullptr, nullptr},
    {"APICID_TAG_MAP", DCA3_APICID_TAG_MAP, 8, ~0ull, 0, APICID_TAG_MAP_RESET, nullptr, nullptr, nullptr},
};
const F::reg_def F::greqid_regs[] = {
    {"GREQID", 0, 4, GREQID_RID | GREQID_IGNOREFUN | GREQID_VALID, 0, 0, nullptr, nullptr, nullptr},
    {"GREQID_LAST", 0, 4, GREQID_RID | GREQID_IGNOREFUN | GREQID_VALID, 0, GREQID_LASTID, nullptr, nullptr,
     nullptr},
};

ioat_function::ioat_function(sc_core::sc_module_name name, const std::string& bdf, ioat_config cfg)
    : sc_module(name), bar0("bar0"), dma("dma"), bdf_(bdf), cfg_(cfg),
      cfg_space_(0x8086, cfg.device_id, 0x088000, 0x13),
      bar_(BAR0_SIZE, 0), owner_(BAR0_SIZE, -1) {
    unsigned dom = 0, bus = 0, dev = 0, fn = 0;
    std::sscanf(bdf.c_str(), "%x:%x:%x.%x", &dom, &bus, &dev, &fn);
    requester_id_ = uint16_t(bus << 8 | dev << 3 | fn);
    bar0.register_b_transport(this, &ioat_function::b_transport);
    bar0.register_transport_dbg(this, &ioat_function::transport_dbg);
    SC_HAS_PROCESS(ioat_function);
    SC_METHOD(coalesce_expired);
    sensitive << coalesce_ev_;
    dont_initialize();

    cfg_space_.add_bar64(0, BAR0_SIZE);
    // MSI-X: one vector, table and PBA in BAR0; only the enable and function-mask
    // bits of Message Control are writable.
    cfg_space_.add_cap(pci_reg::CAP_MSIX,
                       {0x00, 0x00, MSIX_TABLE & 0xff, MSIX_TABLE >> 8, 0, 0, MSIX_PBA & 0xff,
                        MSIX_PBA >> 8, 0, 0},
                       {0x00, 0xc0});
    // MSI: one message, 64-bit address; enable, address and data writable.
    cfg_space_.add_cap(pci_reg::CAP_MSI, {0x80, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
                       {0x01, 0x00, 0xfc, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0});
    // PCIe capability v2, root complex integrated endpoint, max payload 128 B.
    cfg_space_.add_cap(pci_reg::CAP_EXP, {0x92, 0x00, 0, 0, 0, 0, 0, 0, 0, 0});
    cfg_space_.add_cap(pci_reg::CAP_PM, {0x03, 0x00, 0x00, 0x00, 0x00, 0x00});

    place(global_regs, std::size(global_regs), 0, -1);
    place(msix_regs, std::size(msix_regs), 0, -1);
    cfg_.dca_slots = std::min(cfg_.dca_slots, (BAR0_SIZE - DCA_GREQID_TABLE) / 4);
    if (cfg_.dca_slots) {
        place(dca_regs, std::size(dca_regs), DCA_BLOCK, -1);
        for (unsigned i = 0; i < cfg_.dca_slots; ++i)
            place(&greqid_regs[i + 1 == cfg_.dca_slots], 1, DCA_GREQID_TABLE + 4 * i, -1);
    }
    for (unsigned c = 0; c < cfg_.chancnt; ++c) {
        place(channel_regs, std::size(channel_regs), chan_base(c), int(c));
        chans_.emplace_back(new ioat_channel(("chan" + std::to_string(c)).c_str(), *this, c));
    }
    reset_regs(-1);
    for (unsigned c = 0; c < cfg_.chancnt; ++c) reset_regs(int(c));
}

void ioat_function::place(const reg_def* defs, size_t n, unsigned base, int chan) {
    for (size_t i = 0; i < n; ++i) {
        unsigned at = base + defs[i].off;
        for (unsigned b = 0; b < defs[i].width; ++b) owner_[at + b] = int(regs_.size());
        regs_.push_back({&defs[i], at, chan});
    }
}

void ioat_function::reset_regs(int chan) {
    for (auto& r : regs_)
        if (r.chan == chan) set_reg(r.base, r.def->width, r.def->reset);
    if (chan < 0) {
        set_reg(CHANCNT, 1, cfg_.chancnt);
        set_reg(XFERCAP, 1, cfg_.xfercap & 0x1f);  // [7:5] reserved
        set_reg(CBVER, 1, cfg_.cbver);
        set_reg(DMACAPABILITY, 4, cfg_.dmacapability);
        set_reg(DCAOFFSET, 2, cfg_.dca_slots ? DCA_BLOCK : 0);
    }
}

uint64_t ioat_function::reg(unsigned off, unsigned width) const {
    uint64_t v = 0;
    std::memcpy(&v, &bar_[off], width);
    return v;
}

void ioat_function::set_reg(unsigned off, unsigned width, uint64_t v) {
    std::memcpy(&bar_[off], &v, width);
}

uint64_t ioat_function::stamp(const sc_core::sc_time& extra) {
    return uint64_t((sc_core::sc_time_stamp() + extra).value());
}

void ioat_function::config_written(unsigned off, unsigned len) { deliver_pending(); }

void ioat_function::dma_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
    request_ext who;
    who.kind = request_ext::dma;
    who.requester = requester_id_;
    who.node = cfg_.node;
    request_scope scope(gp, who);
    dma->b_transport(gp, delay);
}

void ioat_function::power_off() {
    for (auto& c : chans_) c->power_loss();
}

void ioat_function::power_on() {
    cfg_space_.reset();
    reset_regs(-1);
    for (unsigned c = 0; c < chans_.size(); ++c) reset_regs(int(c));
    pending_ = 0;
    coalescing_ = intx_level_ = false;
}

void ioat_function::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
    access(gp, false);
    delay += cfg_.timing.reg_access;
}

unsigned ioat_function::transport_dbg(tlm::tlm_generic_payload& gp) {
    return access(gp, true) ? gp.get_data_length() : 0;
}

// Byte-granular decode: any naturally aligned 1/2/4/8-byte access works on the
// bytes it covers, as with byte enables on the bus; hooks run once per register.
bool ioat_function::access(tlm::tlm_generic_payload& gp, bool debug) {
    uint64_t off = gp.get_address();
    unsigned len = gp.get_data_length();
    uint8_t* data = gp.get_data_ptr();
    bool ok_size = len == 1 || len == 2 || len == 4 || len == 8;
    if (!ok_size || (off & (len - 1)) || off + len > BAR0_SIZE) {
        sim_report().trace(stamp(), name(), "mmio.bad_access",
                           json_obj().set("offset", hex(off)).set("len", len));
        if (gp.is_read()) std::memset(data, 0xff, len);
        gp.set_response_status(tlm::TLM_OK_RESPONSE);  // completes as UR data on the bus
        return false;
    }
    std::vector<int> touched;
    for (unsigned b = 0; b < len; ++b) {
        int o = owner_[off + b];
        if (o >= 0 && (touched.empty() || touched.back() != o)) touched.push_back(o);
    }
    if (touched.empty() && !debug)
        sim_report().trace(stamp(), name(), "mmio.undefined",
                           json_obj().set("offset", hex(off)).set("write", gp.is_write()));
    if (gp.is_read()) {
        if (!debug)
            for (int o : touched)
                if (auto h = regs_[o].def->before_read) (this->*h)(*regs_[o].def, regs_[o].chan);
        for (unsigned b = 0; b < len; ++b) data[b] = owner_[off + b] >= 0 ? bar_[off + b] : 0;
        if (!debug)
            for (int o : touched)
                if (auto h = regs_[o].def->after_read) (this->*h)(*regs_[o].def, regs_[o].chan);
    } else {
        for (unsigned b = 0; b < len; ++b) {
            int o = owner_[off + b];
            if (o < 0) continue;
            const reg_def& d = *regs_[o].def;
            unsigned shift = 8 * (off + b - regs_[o].base);
            uint8_t wm = uint8_t(d.wmask >> shift), w1c = uint8_t(d.w1c >> shift);
            uint8_t& cur = bar_[off + b];
            cur = uint8_t((cur & ~wm) | (data[b] & wm));
            cur = uint8_t(cur & ~(data[b] & w1c));
        }
        if (!debug)
            for (int o : touched)
                if (auto h = regs_[o].def->after_write) (this->*h)(*regs_[o].def, regs_[o].chan);
    }
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
    return true;
}

bool ioat_function::dca_claims(uint16_t rid) const {
    if (!cfg_.dca_slots || !(reg(DCA_BLOCK + DCA3_PCI_CONTROL, 2) & DCA3_PCI_MEMWR) ||
        !(reg(DCA_BLOCK + DCA3_CSI_CONTROL, 2) & DCA3_CSI_PREFETCH))
        return false;
    for (unsigned i = 0; i < cfg_.dca_slots; ++i) {
        uint32_t e = uint32_t(reg(DCA_GREQID_TABLE + 4 * i, 4));
        uint32_t mask = e & GREQID_IGNOREFUN ? GREQID_RID & ~7u : GREQID_RID;
        if ((e & GREQID_VALID) && (e & mask) == (rid & mask)) return true;
    }
    return false;
}

void ioat_function::rd_intrctrl(const reg_def& d, unsigned) {
    uint8_t v = uint8_t(reg(INTRCTRL, 1) & (INTRCTRL_MASTER_INT_EN | INTRCTRL_MSIX_VECTOR_CONTROL));
    if (reg(ATTNSTATUS, 4)) v |= INTRCTRL_INT_STATUS;
    if ((v & INTRCTRL_INT_STATUS) && (v & INTRCTRL_MASTER_INT_EN)) v |= INTRCTRL_INT;
    set_reg(INTRCTRL, 1, v);
}


void ioat_function::rd_chansts(const reg_def&, unsigned c) {
    set_reg(chan_base(c) + CHANSTS, 8, chans_[c]->chansts());
}

// CHANNEL_IN_USE: the first read after it is clear returns 0 and sets it.
void ioat_function::rd_chanctrl_in_use(const reg_def&, unsigned c) {
    unsigned at = chan_base(c) + CHANCTRL;
    set_reg(at, 2, reg(at, 2) | CHANCTRL_IN_USE);
}

void ioat_function::wr_chanctrl(const reg_def&, unsigned c) {
    unsigned at = chan_base(c) + CHANCTRL;
    uint64_t v = reg(at, 2);
    if (v & CHANCTRL_INT_REARM) chans_[c]->rearm();
    set_reg(at, 2, v & ~uint64_t(CHANCTRL_INT_REARM));  // a command bit, not state
}

void ioat_function::wr_chancmd(const reg_def&, unsigned c) {
    unsigned at = chan_base(c) + CHANCMD;
    uint8_t cmd = uint8_t(reg(at, 1));
    set_reg(at, 1, cmd & CHANCMD_RESET);  // RESET reads 1 until the reset completes
    chans_[c]->command(cmd);
}

void ioat_function::wr_dmacount(const reg_def&, unsigned c) { chans_[c]->dmacount_written(); }

void ioat_function::wr_chainaddr(const reg_def&, unsigned c) { chans_[c]->chainaddr_written(); }

// Any change to how interrupts are delivered (MSI-X table, INTRCTRL) may release
// one that is pending.
void ioat_function::wr_msix(const reg_def&, unsigned) { deliver_pending(); }

// INTRDELAY[13:0] holds an interrupt back that many microseconds so that later
// completions share it (coalescing); 0 delivers at once.
void ioat_function::raise_interrupt(unsigned chan) {
    set_reg(ATTNSTATUS, 4, reg(ATTNSTATUS, 4) | (1u << chan));
    pending_ |= 1u << chan;
    unsigned delay_us = unsigned(reg(INTRDELAY, 2) & 0x3fff);
    if (!delay_us) {
        deliver_pending();
    } else if (!coalescing_) {
        coalescing_ = true;
        coalesce_ev_.notify(sc_core::sc_time(delay_us, sc_core::SC_US));
    }
}

void ioat_function::coalesce_expired() {
    coalescing_ = false;
    deliver_pending();
}

void ioat_function::send_message(uint64_t addr, uint32_t data, const char* kind) {
    request_ext who;
    who.kind = request_ext::msi;
    who.requester = requester_id_;
    who.node = cfg_.node;
    bool ok = post_message(dma, addr, data, &who);
    sim_report().trace(stamp(), name(), kind, json_obj().set("addr", hex(addr)).set("data", hex(data)).set("ok", ok));
}

// Delivery by the enabled mechanism, MSI-X before MSI before INTx, and only with
// master interrupt enable. A masked MSI-X vector keeps its pending bit (PBA).
void ioat_function::deliver_pending() {
    if (coalescing_) return;
    unsigned msix = cfg_space_.find_cap(pci_reg::CAP_MSIX), msi = cfg_space_.find_cap(pci_reg::CAP_MSI);
    uint16_t mc = cfg_space_.word(msix + 2);
    bool master = reg(INTRCTRL, 1) & INTRCTRL_MASTER_INT_EN;
    bool msix_on = mc & 0x8000, msi_on = cfg_space_.word(msi + 2) & 0x1;
    bool intx_on = !msix_on && !msi_on && !(cfg_space_.command() & pci_reg::CMD_INTX_DISABLE);
    bool level = pending_ && master && intx_on;
    if (level != intx_level_) {
        intx_level_ = level;
        sim_report().trace(stamp(), name(), level ? "intx.assert" : "intx.deassert");
        if (intx_) intx_(level);
    }
    set_reg(MSIX_PBA, 8, msix_on && pending_ ? 1 : 0);
    if (!pending_ || !master) return;
    if (msix_on) {
        if ((mc & 0x4000) || (reg(MSIX_TABLE + 12, 4) & 1)) return;  // function or vector masked
        pending_ = 0;
        set_reg(MSIX_PBA, 8, 0);
        send_message(reg(MSIX_TABLE, 8), uint32_t(reg(MSIX_TABLE + 8, 4)), "msix");
    } else if (msi_on) {
        pending_ = 0;
        uint64_t addr = cfg_space_.read(msi + 4, 4) | uint64_t(cfg_space_.read(msi + 8, 4)) << 32;
        send_message(addr, cfg_space_.read(msi + 12, 2), "msi");
    }
}

// The INTx line follows ATTNSTATUS: reading it clears the status and the line.
void ioat_function::rd_attnstatus_clear(const reg_def&, unsigned) {
    set_reg(ATTNSTATUS, 4, 0);
    if (intx_level_) {
        pending_ = 0;
        deliver_pending();
    }
}

}  // namespace ioatsim::models
