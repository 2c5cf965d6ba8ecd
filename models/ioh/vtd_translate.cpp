// Translation of one request (reference §6.1): context cache or root and
// context entries, pass-through, the width check, IOTLB or the 4-level
// second-level walk, permissions; and the caches' invalidation (§5.6).
#include "models/ioh/vtd.h"

#include "models/core/report.h"

#include <algorithm>

namespace ioatsim::models {
using namespace vtd;
using sc_core::sc_time;

vtd_unit::result vtd_unit::translate(uint16_t sid, uint64_t iova, uint64_t len, bool is_write, sc_time& delay) {
    result r;
    r.phys = iova;
    if (!translating()) return r;  // TE = 0: untranslated, nothing cached, nothing charged
    bool fpd = false;
    r = walk(sid, iova, len, is_write, delay, false, fpd);
    if (r.ok) return r;
    ++stats_.blocked;
    ++sim_report().counter("vtd.requests_blocked");
    if (!fpd) record_fault(sid, iova, r.reason, is_write, delay);  // FPD: blocked, not recorded (§5.5)
    return r;
}

bool vtd_unit::remap(uint16_t sid, uint64_t iova, uint64_t len, bool write, uint64_t& phys, sc_time& delay) {
    result r = translate(sid, iova, len, write, delay);
    phys = r.phys;
    return r.ok;
}

bool vtd_unit::remap_dbg(uint16_t sid, uint64_t iova, uint64_t len, bool write, uint64_t& phys) {
    phys = iova;
    if (!translating()) return true;
    bool fpd = false;
    sc_time unused = sc_core::SC_ZERO_TIME;
    result r = walk(sid, iova, len, write, unused, true, fpd);
    phys = r.phys;
    return r.ok;
}

// `debug`: look, never fill or reorder the caches, never count.
vtd_unit::result vtd_unit::walk(uint16_t sid, uint64_t iova, uint64_t len, bool is_write, sc_time& delay, bool debug,
                                bool& fpd) {
    auto fail = [](uint8_t reason) {
        result r;
        r.ok = false;
        r.reason = reason;
        return r;
    };
    auto read = [&](uint64_t addr, void* buf, unsigned n) {
        if (!debug) {
            ++stats_.walk_reads;
            delay += cfg_.walk_read;
        }
        return mem_access(false, addr, buf, n, delay, debug);
    };
    context ctx;
    unsigned aw = 0;
    if (context* hit = find_context(sid, !debug)) {
        ctx = *hit;
    } else {
        if (!debug) ++stats_.context_misses;
        uint64_t root[2] = {}, ce[2] = {};
        if (!read(rta_ + uint64_t(sid >> 8) * 16, root, 16)) return fail(FR_ROOT_READ_ERROR);
        if (!(root[0] & ENTRY_P)) return fail(FR_ROOT_NOT_PRESENT);
        if ((root[0] & ROOT_LO_RSVD) || root[1]) return fail(FR_ROOT_RSVD);
        if (!read((root[0] & ENTRY_ADDR) + uint64_t(sid & 0xff) * 16, ce, 16)) return fail(FR_CTX_READ_ERROR);
        if (!(ce[0] & ENTRY_P)) return fail(FR_CTX_NOT_PRESENT);
        if ((ce[0] & CTX_LO_RSVD) || (ce[1] & CTX_HI_RSVD)) return fail(FR_CTX_RSVD);
        const unsigned t = unsigned(ce[0] >> CTX_T_SHIFT) & 3;
        aw = unsigned(ce[1] & 7);
        const bool t_ok = t == T_UNTRANSLATED || (t == T_ALL && ecap_dt(cfg_.ecap)) ||
                          (t == T_PASSTHROUGH && ecap_pt(cfg_.ecap));
        // AW must name a supported width for every type [inference: Linux sets
        // the widest supported one even for pass-through].
        if (!t_ok || !(cap_sagaw(cfg_.cap) >> aw & 1)) return fail(FR_CTX_INVALID);
        ctx.valid = true;
        ctx.sid = sid;
        ctx.did = uint16_t(ce[1] >> CTX_DID_SHIFT);
        ctx.asr = ce[0] & ENTRY_ADDR;
        ctx.aw = aw;
        ctx.type = t;
        ctx.fpd = ce[0] & CTX_LO_FPD;
        if (!debug && !ctx_cache_.empty()) {
            context& slot = victim(ctx_cache_);
            slot = ctx;
            slot.used = ++tick_;
        }
    }
    fpd = ctx.fpd;
    aw = ctx.aw;
    if (ctx.type == T_PASSTHROUGH) {
        result r;
        r.phys = iova;
        return r;
    }
    // Beyond the narrower of MGAW and the context's width: fault 4 (§6.1 step 7).
    const unsigned width = std::min(cap_mgaw(cfg_.cap), 30 + 9 * aw);
    const uint64_t last = iova + (len ? len - 1 : 0);
    if ((iova >> width) || (last >> width)) return fail(FR_BEYOND_MGAW);

    const uint64_t page = iova >> PAGE_SHIFT;
    bool r_ok = true, w_ok = true;
    uint64_t phys_page = 0;
    if (tlb_entry* e = find_tlb(ctx.did, page, !debug)) {
        r_ok = e->r;
        w_ok = e->w;
        phys_page = e->phys;
    } else {
        if (!debug) {
            ++stats_.iotlb_misses;
            ++sim_report().counter("vtd.iotlb_misses");
        }
        // levels = AW + 2, 9 index bits each above the 4 KiB offset; the
        // permission is the AND over every level (§5.4).
        uint64_t table = ctx.asr;
        for (unsigned level = aw + 2; level >= 1; --level) {
            const uint64_t index = (iova >> (PAGE_SHIFT + 9 * (level - 1))) & 0x1ff;
            uint64_t pte = 0;
            if (!read(table + index * 8, &pte, 8)) return fail(FR_PTE_READ_ERROR);
            if (!(pte & (PTE_R | PTE_W))) return fail(is_write ? FR_NO_WRITE : FR_NO_READ);  // not present
            if (pte & PTE_RSVD) return fail(FR_PTE_RSVD);
            r_ok = r_ok && (pte & PTE_R);
            w_ok = w_ok && (pte & PTE_W);
            table = pte & ENTRY_ADDR;
        }
        phys_page = table;
        if (!debug && !iotlb_.empty()) {  // a present leaf is cached; faults are not (CAP.CM = 0)
            tlb_entry& slot = victim(iotlb_);
            slot = {true, ctx.did, page, phys_page, r_ok, w_ok, ++tick_};
        }
    }
    // Zero-length reads of write-only pages pass with CAP.ZLR (§6.1 step 9).
    const bool zlr = !is_write && len == 0 && w_ok && cap_zlr(cfg_.cap);
    if (is_write ? !w_ok : !(r_ok || zlr)) return fail(is_write ? FR_NO_WRITE : FR_NO_READ);
    result r;
    r.phys = phys_page | (iova & (PAGE_SIZE - 1));
    return r;
}

vtd_unit::context* vtd_unit::find_context(uint16_t sid, bool touch) {
    for (auto& c : ctx_cache_)
        if (c.valid && c.sid == sid) {
            if (touch) {
                c.used = ++tick_;
                ++stats_.context_hits;
            }
            return &c;
        }
    return nullptr;
}

vtd_unit::tlb_entry* vtd_unit::find_tlb(uint16_t did, uint64_t page, bool touch) {
    for (auto& e : iotlb_)
        if (e.valid && e.did == did && e.page == page) {
            if (touch) {
                e.used = ++tick_;
                ++stats_.iotlb_hits;
            }
            return &e;
        }
    return nullptr;
}

// An empty slot, else the least recently used (first of equals): deterministic.
template <class T>
T& vtd_unit::victim(std::vector<T>& v) {
    T* best = &v.front();
    for (auto& e : v) {
        if (!e.valid) return e;
        if (e.used < best->used) best = &e;
    }
    return *best;
}

// Global, domain, or device (SID under the function mask FM; the DID is not
// compared, since invalidating more than asked is always safe [inference]).
void vtd_unit::invalidate_context(unsigned g, uint16_t did, uint16_t sid, unsigned fm) {
    const uint16_t masked = fm ? uint16_t((0x7u << (3 - fm)) & 0x7) : 0;  // FM 1: bit 2; 2: bits 2:1; 3: 2:0
    for (auto& c : ctx_cache_) {
        if (!c.valid) continue;
        if (g == G_GLOBAL || (g == G_DOMAIN && c.did == did) ||
            (g == G_DEVICE && (c.sid | masked) == (sid | masked)))
            c.valid = false;
    }
}

// Global, domain, or the 2^AM pages of the domain around `addr` (§5.6).
void vtd_unit::invalidate_iotlb(unsigned g, uint16_t did, uint64_t addr, unsigned am) {
    const uint64_t first = (addr >> PAGE_SHIFT) >> am;
    for (auto& e : iotlb_) {
        if (!e.valid) continue;
        if (g == G_GLOBAL || (g == G_DOMAIN && e.did == did) || (g == G_PAGE && e.did == did && (e.page >> am) == first))
            e.valid = false;
    }
}

}  // namespace ioatsim::models
