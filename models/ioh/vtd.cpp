// The remapping unit's registers, commands, queued invalidation and fault
// recording. Translation and the caches: vtd_translate.cpp.
#include "models/ioh/vtd.h"

#include "models/core/report.h"
#include "models/core/request.h"

#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace ioatsim::models {
using namespace vtd;
using R = vtd_unit;
using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;

// The register map (reference §5.1). CAP and ECAP take the configured values at
// reset; GCMD is write-only (reads 0) and acts through its hook.
const R::reg_def R::regs_map[] = {
    {"VER", VER, 4, 0, 0, VER_TYLERSBURG, nullptr},
    {"CAP", CAP, 8, 0, 0, 0, nullptr},
    {"ECAP", ECAP, 8, 0, 0, 0, nullptr},
    {"GCMD", GCMD, 4, 0, 0, 0, &R::wr_gcmd},
    {"GSTS", GSTS, 4, 0, 0, 0, nullptr},
    {"RTADDR", RTADDR, 8, ~0xfffull, 0, 0, nullptr},
    // ICC, CIRG [62:61], FM [33:32], SID, DID; CAIG [60:59] is the hardware's answer.
    {"CCMD", CCMD, 8, CCMD_ICC | 3ull << CCMD_CIRG_SHIFT | 3ull << 32 | 0xffffffffull, 0, 0, &R::wr_ccmd},
    {"FSTS", FSTS, 4, 0, FSTS_RW1C, 0, &R::wr_fsts},
    {"FECTL", FECTL, 4, CTL_IM, 0, CTL_IM, &R::wr_fectl},  // IM set at reset (DS-E5)
    {"FEDATA", FEDATA, 4, 0xffffffff, 0, 0, nullptr},
    {"FEADDR", FEADDR, 4, 0xfffffffc, 0, 0, nullptr},
    {"FEUADDR", FEUADDR, 4, 0xffffffff, 0, 0, nullptr},
    {"PMEN", PMEN, 4, PMEN_EPM, 0, 0, &R::wr_pmen},
    {"PLMBASE", PLMBASE, 4, 0xffffffff, 0, 0, nullptr},
    {"PLMLIMIT", PLMLIMIT, 4, 0xffffffff, 0, 0, nullptr},
    {"PHMBASE", PHMBASE, 8, ~0ull, 0, 0, nullptr},
    {"PHMLIMIT", PHMLIMIT, 8, ~0ull, 0, 0, nullptr},
    {"IQH", IQH, 8, 0, 0, 0, nullptr},
    {"IQT", IQT, 8, IQ_INDEX, 0, 0, &R::wr_iqt},
    {"IQA", IQA, 8, IQA_BASE | IQA_QS, 0, 0, nullptr},
    {"ICS", ICS, 4, 0, ICS_IWC, 0, &R::wr_ics},
    {"IECTL", IECTL, 4, CTL_IM, 0, CTL_IM, &R::wr_iectl},
    {"IEDATA", IEDATA, 4, 0xffffffff, 0, 0, nullptr},
    {"IEADDR", IEADDR, 4, 0xfffffffc, 0, 0, nullptr},
    {"IEUADDR", IEUADDR, 4, 0xffffffff, 0, 0, nullptr},
    {"IRTA", IRTA, 8, 0xfffffffffffff80full, 0, 0, nullptr},  // held only: IR is not modelled
};
// One fault-recording register, 128 bits as two halves: FI, and SID/FR/T/F.
const R::reg_def R::frcd_regs[] = {
    {"FRCD_LO", 0, 8, 0, 0, 0, nullptr},
    {"FRCD_HI", 8, 8, 0, FRCD_F, 0, &R::wr_frcd},
};
const R::reg_def R::iotlb_regs[] = {
    {"IVA", 0, 8, IVA_ADDR | IVA_IH | IVA_AM, 0, 0, nullptr},
    {"IOTLB", 8, 8, IOTLB_IVT | 3ull << IOTLB_IIRG_SHIFT | IOTLB_DR | IOTLB_DW | 0xffffull << IOTLB_DID_SHIFT, 0, 0,
     &R::wr_iotlb},
};

vtd_unit::vtd_unit(sc_core::sc_module_name name, const vtd_config& cfg)
    : sc_module(name), regs("regs"), mem("mem"), cfg_(cfg) {
    regs.register_b_transport(this, &vtd_unit::b_transport);
    regs.register_transport_dbg(this, &vtd_unit::transport_dbg);
    owner_.fill(-1);
    place(regs_map, std::size(regs_map), 0);
    const unsigned fro = cap_fro(cfg_.cap), nfr = cap_nfr(cfg_.cap), iro = ecap_iro(cfg_.ecap);
    if (fro < 0x100 || fro + 16 * nfr > REG_SIZE || iro < 0x100 || iro + 16 > REG_SIZE)
        throw std::invalid_argument("vtd: CAP.FRO/NFR or ECAP.IRO put registers outside the 4 KiB block");
    for (unsigned i = 0; i < nfr; ++i) place(frcd_regs, std::size(frcd_regs), fro + 16 * i);
    place(iotlb_regs, std::size(iotlb_regs), iro);
    ctx_cache_.resize(cfg_.context_entries);
    iotlb_.resize(cfg_.iotlb_entries);
    reset();
    SC_HAS_PROCESS(vtd_unit);
    SC_THREAD(engine);  // starts at the first command: an idle unit costs the run nothing
    sensitive << work_ev_;
    dont_initialize();
}

void vtd_unit::place(const reg_def* defs, size_t n, unsigned base) {
    for (size_t i = 0; i < n; ++i) {
        unsigned at = base + defs[i].off;
        for (unsigned b = 0; b < defs[i].width; ++b) {
            if (owner_[at + b] >= 0) throw std::invalid_argument(std::string("vtd: register overlap at ") + defs[i].name);
            owner_[at + b] = int16_t(regs_.size());
        }
        regs_.push_back({&defs[i], at});
    }
}

void vtd_unit::reset() {
    for (auto& r : regs_) set_reg(r.base, r.def->width, r.def->reset);
    set_reg(CAP, 8, cfg_.cap);
    set_reg(ECAP, 8, cfg_.ecap);
    rta_ = 0;
    next_fault_ = 0;
    gcmd_q_.clear();
    ccmd_pending_ = iotlb_pending_ = false;
    for (auto& c : ctx_cache_) c.valid = false;
    for (auto& t : iotlb_) t.valid = false;
}

uint64_t vtd_unit::reg(unsigned off, unsigned width) const {
    uint64_t v = 0;
    std::memcpy(&v, &bar_[off], width);
    return v;
}

void vtd_unit::set_reg(unsigned off, unsigned width, uint64_t v) { std::memcpy(&bar_[off], &v, width); }

// ---------------------------------------------------------------- register access

void vtd_unit::b_transport(tlm::tlm_generic_payload& gp, sc_time&) { access(gp, false); }

unsigned vtd_unit::transport_dbg(tlm::tlm_generic_payload& gp) {
    return access(gp, true) ? gp.get_data_length() : 0;
}

// Naturally aligned 1/2/4/8-byte accesses, decoded per byte, so a 64-bit
// register works as two 32-bit halves (Linux writes the low half first; the
// command bits ICC and IVT are in the high half, so the command goes with the
// second write). Undefined bytes read 0 and ignore writes; a bad size or
// alignment completes (all-ones on a read) and changes nothing.
bool vtd_unit::access(tlm::tlm_generic_payload& gp, bool debug) {
    const uint64_t off = gp.get_address() - cfg_.base;
    const unsigned len = gp.get_data_length();
    uint8_t* data = gp.get_data_ptr();
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
    const bool ok_size = len == 1 || len == 2 || len == 4 || len == 8;
    if (!ok_size || (off & (len - 1)) || off >= REG_SIZE || gp.get_byte_enable_ptr()) {
        if (!debug)
            sim_report().trace(uint64_t(sc_core::sc_time_stamp().value()), name(), "mmio.bad_access",
                               json_obj().set("offset", hex(off)).set("len", len));
        if (gp.is_read()) std::memset(data, 0xff, len);
        return false;
    }
    if (!present_) {  // the IOH is gone: Unsupported Request, all-ones
        if (gp.is_read()) std::memset(data, 0xff, len);
        return false;
    }
    if (gp.is_read()) {
        for (unsigned b = 0; b < len; ++b) data[b] = owner_[off + b] >= 0 ? bar_[off + b] : 0;
        return true;
    }
    if (!gp.is_write()) return true;
    int last = -1;
    for (unsigned b = 0; b < len; ++b) {
        const int o = owner_[off + b];
        if (o < 0 || o == last) continue;
        last = o;
        const reg_inst& r = regs_[size_t(o)];
        const reg_def& d = *r.def;
        uint64_t written = 0, mask = 0;  // the bytes of this register the access covers
        for (unsigned k = 0; k < d.width; ++k) {
            const uint64_t at = r.base + k;
            if (at < off || at >= off + len) continue;
            written |= uint64_t(data[at - off]) << (8 * k);
            mask |= 0xffull << (8 * k);
        }
        uint64_t v = reg(r.base, d.width);
        v = (v & ~(d.wmask & mask)) | (written & d.wmask & mask);
        v &= ~(written & d.w1c & mask);
        set_reg(r.base, d.width, v);
        if (d.after_write && !debug) (this->*d.after_write)(d, r.base, written & mask);
    }
    return true;
}

// GCMD: every write is a command; status follows it after cmd_latency.
// SRTP/SIRTP clear their status bit at once, so software's wait for it sees
// this command's completion, not an earlier one's [inference: VT-d spec].
void vtd_unit::wr_gcmd(const reg_def&, unsigned, uint64_t written) {
    const uint32_t cmd = uint32_t(written);
    uint32_t sts = reg32(GSTS);
    if (cmd & GCMD_SRTP) sts &= ~GSTS_RTPS;
    if (cmd & GCMD_SIRTP) sts &= ~GSTS_IRTPS;
    set_reg(GSTS, 4, sts);
    gcmd_q_.push_back(cmd);
    work_ev_.notify(SC_ZERO_TIME);
}

void vtd_unit::wr_ccmd(const reg_def&, unsigned, uint64_t) {
    if (reg(CCMD, 8) & CCMD_ICC) {
        ccmd_pending_ = true;
        work_ev_.notify(SC_ZERO_TIME);
    }
}

void vtd_unit::wr_iotlb(const reg_def&, unsigned base, uint64_t) {
    if (reg(base, 8) & IOTLB_IVT) {
        iotlb_pending_ = true;
        work_ev_.notify(SC_ZERO_TIME);
    }
}

void vtd_unit::wr_iqt(const reg_def&, unsigned, uint64_t) { work_ev_.notify(SC_ZERO_TIME); }

// Clearing IQE lets the queue go on from IQH (Linux rewrites the bad slot first).
void vtd_unit::wr_fsts(const reg_def&, unsigned, uint64_t written) {
    if (written & FSTS_IQE) work_ev_.notify(SC_ZERO_TIME);
    fault_ip_check();
}

void vtd_unit::wr_frcd(const reg_def&, unsigned, uint64_t) {
    update_ppf();
    fault_ip_check();
}

// Unmasking with an event pending sends it (§5.5).
void vtd_unit::wr_fectl(const reg_def&, unsigned, uint64_t) {
    uint32_t ctl = reg32(FECTL);
    if ((ctl & CTL_IP) && !(ctl & CTL_IM)) {
        set_reg(FECTL, 4, ctl & ~CTL_IP);  // first: a message aimed at this block must not send it again
        send_message(FECTL, SC_ZERO_TIME);
    }
}

void vtd_unit::wr_iectl(const reg_def&, unsigned, uint64_t) {
    uint32_t ctl = reg32(IECTL);
    if ((ctl & CTL_IP) && !(ctl & CTL_IM)) {
        set_reg(IECTL, 4, ctl & ~CTL_IP);
        send_message(IECTL, SC_ZERO_TIME);
    }
}

// Clearing IWC withdraws a completion event still pending behind the mask.
void vtd_unit::wr_ics(const reg_def&, unsigned, uint64_t) {
    if (!(reg32(ICS) & ICS_IWC)) set_reg(IECTL, 4, reg32(IECTL) & ~CTL_IP);
}

// PRS follows EPM; the regions themselves are not enforced (reference §5.10
// leaves their semantics under translation unverified).
void vtd_unit::wr_pmen(const reg_def&, unsigned, uint64_t) {
    uint32_t v = reg32(PMEN);
    set_reg(PMEN, 4, (v & PMEN_EPM) ? v | PMEN_PRS : v & ~PMEN_PRS);
}

// ---------------------------------------------------------------- commands, in time

void vtd_unit::engine() {
    for (;;) {
        while (step()) {}
        wait(work_ev_);
    }
}

// One piece of pending work, after its latency; false when there is none.
bool vtd_unit::step() {
    if (!present_) {  // a gone IOH does nothing more (reference §7.1)
        gcmd_q_.clear();
        ccmd_pending_ = iotlb_pending_ = false;
        return false;
    }
    const uint64_t iqa = reg(IQA, 8);
    const uint64_t qbytes = uint64_t(256) << (iqa & IQA_QS) << 4;
    const uint64_t head = reg(IQH, 8) & IQ_INDEX, tail = reg(IQT, 8) & IQ_INDEX;
    const bool queued = (reg32(GSTS) & GSTS_QIES) && !(reg32(FSTS) & FSTS_IQE) && head != tail;
    // Turning QI off waits for the queue to drain [inference: Linux waits for IQH == IQT first anyway].
    const bool qi_first = queued && !gcmd_q_.empty() && !(gcmd_q_.front() & GCMD_QIE);
    if (!gcmd_q_.empty() && !qi_first) {
        wait(cfg_.cmd_latency);
        if (!present_ || gcmd_q_.empty()) return true;
        uint32_t cmd = gcmd_q_.front();
        gcmd_q_.pop_front();
        do_gcmd(cmd);
        return true;
    }
    if (ccmd_pending_) {
        wait(cfg_.cmd_latency);
        if (!present_ || !ccmd_pending_) return true;
        ccmd_pending_ = false;
        uint64_t v = reg(CCMD, 8);
        unsigned g = unsigned(v >> CCMD_CIRG_SHIFT) & 3, actual = 0;
        // With QI on the register interface is not in use (§5.6): the command
        // completes having done nothing, CAIG 0 [inference].
        if (g != G_RESERVED && !(reg32(GSTS) & GSTS_QIES)) {
            invalidate_context(g, uint16_t(v), uint16_t(v >> 16), unsigned(v >> 32) & 3);
            actual = g;
        }
        set_reg(CCMD, 8, (v & ~(CCMD_ICC | CCMD_CAIG)) | uint64_t(actual) << CCMD_CAIG_SHIFT);
        return true;
    }
    if (iotlb_pending_) {
        wait(cfg_.cmd_latency);
        if (!present_ || !iotlb_pending_) return true;
        iotlb_pending_ = false;
        const unsigned iro = ecap_iro(cfg_.ecap);
        uint64_t v = reg(iro + 8, 8), iva = reg(iro, 8);
        unsigned g = unsigned(v >> IOTLB_IIRG_SHIFT) & 3, actual = 0;
        if (g != G_RESERVED && !(reg32(GSTS) & GSTS_QIES)) {
            unsigned am = unsigned(iva & IVA_AM);
            // A page request the unit cannot do as asked is done for the whole
            // domain and IAIG says so [inference: what "actual granularity" is for].
            if (g == G_PAGE && (!cap_psi(cfg_.cap) || am > cap_mamv(cfg_.cap))) g = G_DOMAIN;
            invalidate_iotlb(g, uint16_t(v >> IOTLB_DID_SHIFT), iva & IVA_ADDR, am);
            actual = g;
        }
        set_reg(iro + 8, 8, (v & ~(IOTLB_IVT | IOTLB_IAIG)) | uint64_t(actual) << IOTLB_IAIG_SHIFT);
        return true;
    }
    if (!queued) return false;
    if (tail >= qbytes) {  // a tail beyond the queue [inference: an invalid request]
        queue_error();
        return true;
    }
    uint64_t desc[2] = {};
    sc_time d = SC_ZERO_TIME;
    bool fetched = mem_access(false, (iqa & IQA_BASE) + head, desc, 16, d);
    wait(d + cfg_.qi_descriptor);
    if (!present_ || !(reg32(GSTS) & GSTS_QIES)) return true;
    if (!fetched || !qi_valid(desc[0], desc[1])) {
        queue_error();  // IQH stays at the bad descriptor
        return true;
    }
    d = SC_ZERO_TIME;
    qi_descriptor(desc[0], desc[1], d);
    set_reg(IQH, 8, (head + 16) % qbytes);
    return true;
}

void vtd_unit::do_gcmd(uint32_t cmd) {
    const uint32_t before = reg32(GSTS);
    uint32_t sts = before;
    auto follow = [&](uint32_t bit) { sts = (cmd & bit) ? sts | bit : sts & ~bit; };
    follow(GCMD_TE);
    if (cmd & GCMD_SRTP) {
        rta_ = reg(RTADDR, 8) & ENTRY_ADDR;
        sts |= GSTS_RTPS;
    }
    if (ecap_qi(cfg_.ecap)) {
        if ((cmd & GCMD_QIE) && !(sts & GSTS_QIES)) set_reg(IQH, 8, 0);  // the queue starts at its base
        follow(GCMD_QIE);
    }
    if (ecap_ir(cfg_.ecap)) {  // status only: interrupt remapping is not modelled
        follow(GCMD_IRE);
        follow(GCMD_CFI);
        if (cmd & GCMD_SIRTP) sts |= GSTS_IRTPS;
    }
    // SFL/EAFL (CAP.AFL = 0) and WBF (CAP.RWBF = 0) have nothing to do.
    set_reg(GSTS, 4, sts);
    if (sts & GSTS_TES)  // from the first translation on, its counters are in the summary
        for (const char* c : {"vtd.iotlb_misses", "vtd.faults_recorded", "vtd.requests_blocked"})
            sim_report().declare(c);
    if (sts != before)
        sim_report().trace(uint64_t(sc_core::sc_time_stamp().value()), name(), "vtd.status",
                           json_obj().set("gsts", hex(sts)).set("translating", bool(sts & GSTS_TES)));
    if ((sts & GSTS_QIES) && !(before & GSTS_QIES)) work_ev_.notify(SC_ZERO_TIME);
}

// Types the unit implements and granularities it knows; other reserved fields
// are not checked [inference: the reference lists fields, not reserved-bit rules].
bool vtd_unit::qi_valid(uint64_t lo, uint64_t hi) const {
    const unsigned g = unsigned(lo >> 4) & 3;
    switch (unsigned(lo & 0xf)) {
    case QI_CONTEXT: return g != G_RESERVED;
    case QI_IOTLB: return g != G_RESERVED && !(g == G_PAGE && (!cap_psi(cfg_.cap) || (hi & IVA_AM) > cap_mamv(cfg_.cap)));
    case QI_DEV_IOTLB: return ecap_dt(cfg_.ecap);
    case QI_IEC: return ecap_ir(cfg_.ecap);
    case QI_WAIT: return true;
    default: return false;
    }
}

void vtd_unit::qi_descriptor(uint64_t lo, uint64_t hi, sc_time& delay) {
    const unsigned g = unsigned(lo >> 4) & 3;
    switch (unsigned(lo & 0xf)) {
    case QI_CONTEXT:
        invalidate_context(g, uint16_t(lo >> 16), uint16_t(lo >> 32), unsigned(lo >> 48) & 3);
        break;
    case QI_IOTLB:
        invalidate_iotlb(g, uint16_t(lo >> 16), hi & IVA_ADDR, unsigned(hi & IVA_AM));
        break;
    case QI_WAIT: {
        if (lo & QI_WAIT_SW) {
            uint32_t status = uint32_t(lo >> 32);
            uint64_t at = hi & ~3ull;
            if (mem_access(true, at, &status, 4, delay) && on_mem_write) on_mem_write(at, 4);
        }
        if (lo & QI_WAIT_IF) {
            const uint32_t ics = reg32(ICS);
            set_reg(ICS, 4, ics | ICS_IWC);
            if (!(ics & ICS_IWC)) {  // a new completion condition raises the event
                const uint32_t ctl = reg32(IECTL);
                set_reg(IECTL, 4, (ctl & CTL_IM) ? ctl | CTL_IP : ctl & ~CTL_IP);
                if (!(ctl & CTL_IM)) send_message(IECTL, delay);
            }
        }
        break;
    }
    default: break;  // device-IOTLB and interrupt-entry caches: none modelled
    }
}

void vtd_unit::queue_error() {
    const uint32_t before = reg32(FSTS);
    set_reg(FSTS, 4, before | FSTS_IQE);
    sim_report().trace(uint64_t(sc_core::sc_time_stamp().value()), name(), "vtd.queue_error",
                       json_obj().set("iqh", hex(reg(IQH, 8))));
    fault_event(before, SC_ZERO_TIME);
}

bool vtd_unit::mem_access(bool write, uint64_t addr, void* buf, unsigned len, sc_time& delay, bool debug) {
    tlm::tlm_generic_payload gp;
    prepare_payload(gp, write, addr, buf, len);
    request_ext who;
    who.kind = request_ext::dma;
    who.node = cfg_.node;
    request_scope scope(gp, who);
    if (debug) return mem->transport_dbg(gp) == len && gp.is_response_ok();
    mem->b_transport(gp, delay);
    return gp.is_response_ok();
}

// ---------------------------------------------------------------- faults (§5.5)

void vtd_unit::record_fault(uint16_t sid, uint64_t iova, uint8_t reason, bool is_write, const sc_time& delay) {
    enum { recorded, dropped, compressed, overflow } outcome = recorded;
    static const char* const outcome_name[] = {"recorded", "dropped", "compressed", "overflow"};
    const uint32_t fsts = reg32(FSTS);
    const unsigned fro = cap_fro(cfg_.cap), nfr = cap_nfr(cfg_.cap);
    if (fsts & FSTS_PFO) outcome = dropped;  // overflowed: nothing is recorded until PFO is cleared
    for (unsigned i = 0; outcome == recorded && i < nfr; ++i) {
        const uint64_t hi = reg(fro + 16 * i + 8, 8);
        if ((hi & FRCD_F) && uint16_t(hi) == sid) outcome = compressed;  // one pending record per requester
    }
    const unsigned at = fro + 16 * next_fault_;
    if (outcome == recorded && (reg(at + 8, 8) & FRCD_F)) {
        outcome = overflow;  // the next record is still pending
        set_reg(FSTS, 4, fsts | FSTS_PFO);
        fault_event(fsts, delay);
    } else if (outcome == recorded) {
        set_reg(at, 8, iova & FRCD_FI);
        set_reg(at + 8, 8, uint64_t(sid) | uint64_t(reason) << FRCD_FR_SHIFT | (is_write ? 0 : FRCD_T_READ) | FRCD_F);
        if (!(fsts & FSTS_PPF)) set_reg(FSTS, 4, (fsts & ~FSTS_FRI) | next_fault_ << 8);
        next_fault_ = (next_fault_ + 1) % nfr;
        update_ppf();
        ++stats_.faults;
        ++sim_report().counter("vtd.faults_recorded");
        fault_event(fsts, delay);
    }
    char who[16];
    std::snprintf(who, sizeof who, "%02x:%02x.%u", sid >> 8, (sid >> 3) & 0x1f, sid & 7);
    sim_report().trace(uint64_t((sc_core::sc_time_stamp() + delay).value()), name(), "vtd.fault",
                       json_obj().set("requester", who).set("addr", hex(iova & FRCD_FI)).set("reason", unsigned(reason))
                                 .set("write", is_write).set("outcome", outcome_name[outcome]));
}

// A new fault condition interrupts only when none was pending (PPF, PFO, IQE),
// and only unmasked; masked, IP stays set until IM is cleared (§5.5).
void vtd_unit::fault_event(uint32_t fsts_before, const sc_time& delay) {
    if (fsts_before & (FSTS_PPF | FSTS_PFO | FSTS_IQE)) return;
    const uint32_t ctl = reg32(FECTL);
    set_reg(FECTL, 4, (ctl & CTL_IM) ? ctl | CTL_IP : ctl & ~CTL_IP);  // state before the message goes
    if (!(ctl & CTL_IM)) send_message(FECTL, delay);
}

void vtd_unit::update_ppf() {
    const unsigned fro = cap_fro(cfg_.cap), nfr = cap_nfr(cfg_.cap);
    bool any = false;
    for (unsigned i = 0; i < nfr; ++i) any = any || (reg(fro + 16 * i + 8, 8) & FRCD_F);
    uint32_t fsts = reg32(FSTS);
    set_reg(FSTS, 4, any ? fsts | FSTS_PPF : fsts & ~FSTS_PPF);
}

// IP clears once software has cleared every condition that can raise it.
void vtd_unit::fault_ip_check() {
    if (!(reg32(FSTS) & (FSTS_PFO | FSTS_PPF | FSTS_IQE))) set_reg(FECTL, 4, reg32(FECTL) & ~CTL_IP);
}

// The event's message: DATA to UADDR:ADDR (the registers after the control one),
// posted into the interrupt window like any MSI.
void vtd_unit::send_message(unsigned ctl, const sc_time& delay) {
    const uint32_t data = reg32(ctl + 4);
    const uint64_t addr = uint64_t(reg32(ctl + 12)) << 32 | reg32(ctl + 8);
    tlm::tlm_generic_payload gp;
    uint32_t buf = data;
    prepare_payload(gp, true, addr, &buf, 4);
    request_ext who;
    who.kind = request_ext::msi;
    who.node = cfg_.node;
    request_scope scope(gp, who);
    sc_time d = delay;
    mem->b_transport(gp, d);
    sim_report().trace(uint64_t((sc_core::sc_time_stamp() + delay).value()), name(),
                       ctl == FECTL ? "vtd.fault_event" : "vtd.completion_event",
                       json_obj().set("addr", hex(addr)).set("data", hex(data)).set("ok", gp.is_response_ok()));
}

}  // namespace ioatsim::models
