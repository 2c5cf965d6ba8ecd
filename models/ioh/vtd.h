// The IOH's DMA-remapping unit (VT-d 1.x legacy mode, the non-isochronous
// INCLUDE_PCI_ALL engine of the 5520/7500; shared/reference/dma-mapping-vtd.md
// §5-§6). A 4 KiB register block (target socket `regs`, absolute addresses from
// `base`), an initiator `mem` for page walks, queued-invalidation descriptors,
// wait-descriptor status writes and the fault and invalidation-completion
// interrupt messages, and the translation the root complex asks for each page of
// a function's upstream request. Not modelled: interrupt remapping (IRE/SIRTP
// only report status), the isochronous second unit, ATS/device-IOTLBs (their
// invalidations are accepted and do nothing), advanced fault logging (CAP.AFL =
// 0), protected memory regions (PMEN/PLM/PHM hold values, block nothing),
// non-leaf (PDE) caching, super pages (CAP.SPS = 0).
#pragma once
#include "models/ioh/vtd_regs.h"
#include "models/pcie/root_complex.h"

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

namespace ioatsim::models {

struct vtd_config {
    uint64_t base = 0;         // the register block's address (DRHD register base)
    unsigned node = 0;         // NUMA node of the IOH: its walks' distance to memory
    uint64_t cap = vtd::CAP_TYLERSBURG, ecap = vtd::ECAP_TYLERSBURG;
    // IOTLB and context-cache entries, fully associative, least recently used
    // out: sizes unpublished for the 5520/7500 (reference §5.7) [estimate];
    // 0: nothing cached, every request walks.
    unsigned iotlb_entries = 32;
    unsigned context_entries = 16;
    // Added to each page-walk read beyond what the memory path charges (DRAM
    // latency, QPI hops; an IOTLB miss is "4 x DRAM read latency", §8.2).
    sc_core::sc_time walk_read = sc_core::SC_ZERO_TIME;
    // GCMD -> GSTS, CCMD.ICC and IOTLB.IVT clearing: unpublished, "small
    // (<= 1 us)" (§9.1) [estimate].
    sc_core::sc_time cmd_latency{100, sc_core::SC_NS};
    // Processing one queued descriptor once fetched [estimate]; its fetch and
    // any status write go through the memory path.
    sc_core::sc_time qi_descriptor{50, sc_core::SC_NS};
};

class vtd_unit : public sc_core::sc_module, public dma_remapper {
public:
    tlm_utils::simple_target_socket<vtd_unit> regs;   // the register block
    tlm_utils::simple_initiator_socket<vtd_unit> mem; // walks, descriptors, status writes, messages

    // Told of every memory write the unit makes (wait-descriptor status), so
    // the platform can let the CPUs' caches see it, as for a function's DMA.
    std::function<void(uint64_t, uint64_t)> on_mem_write;

    vtd_unit(sc_core::sc_module_name name, const vtd_config& cfg);

    struct result {
        bool ok = true;
        uint64_t phys = 0;    // when ok
        uint8_t reason = 0;   // fault reason (vtd::fault_reason) when not
    };
    // One request of requester `sid` within the 4 KiB page of `iova`: identity
    // while translation is off; otherwise through the context cache, IOTLB and
    // page walk. A fault is recorded (§5.5) unless the context has FPD set, and
    // the request is blocked. `delay` grows by every walk read.
    result translate(uint16_t sid, uint64_t iova, uint64_t len, bool is_write, sc_core::sc_time& delay);

    // dma_remapper (the root complex's view).
    bool translating() const override { return present_ && (reg32(vtd::GSTS) & vtd::GSTS_TES); }
    bool remap(uint16_t sid, uint64_t iova, uint64_t len, bool write, uint64_t& phys,
               sc_core::sc_time& delay) override;
    bool remap_dbg(uint16_t sid, uint64_t iova, uint64_t len, bool write, uint64_t& phys) override;

    // The IOH's link: while gone, reads of the block are all-ones, writes are
    // dropped and queued work stops (reference §7.1).
    void set_present(bool p) { present_ = p; }
    bool present() const { return present_; }
    // Power-on: registers at reset values, caches empty, pending work dropped.
    void reset();

    const vtd_config& cfg() const { return cfg_; }
    uint64_t reg(unsigned off, unsigned width) const;  // backdoor, for tests and traces
    uint32_t reg32(unsigned off) const { return uint32_t(reg(off, 4)); }
    // Activity, for tests and counters.
    struct stats { uint64_t iotlb_hits = 0, iotlb_misses = 0, context_hits = 0, context_misses = 0, walk_reads = 0,
                   faults = 0, blocked = 0; };
    const stats& activity() const { return stats_; }

private:
    struct reg_def;
    using hook = void (vtd_unit::*)(const reg_def&, unsigned base, uint64_t written);
    struct reg_def {
        const char* name;
        unsigned off, width;
        uint64_t wmask, w1c, reset;
        hook after_write;   // with the bits written, in register position
    };
    struct reg_inst { const reg_def* def; unsigned base; };
    static const reg_def regs_map[], frcd_regs[], iotlb_regs[];

    struct context {
        bool valid = false;
        uint16_t sid = 0, did = 0;
        uint64_t asr = 0;   // second-level table (T 0/1)
        unsigned type = 0, aw = 2;  // T, and AW (levels - 2)
        bool fpd = false;
        uint64_t used = 0;  // LRU stamp
    };
    struct tlb_entry {
        bool valid = false;
        uint16_t did = 0;
        uint64_t page = 0, phys = 0;  // IOVA page number, physical page address
        bool r = false, w = false;
        uint64_t used = 0;
    };

    // Registers (vtd.cpp).
    void place(const reg_def* defs, size_t n, unsigned base);
    void set_reg(unsigned off, unsigned width, uint64_t v);
    void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    unsigned transport_dbg(tlm::tlm_generic_payload& gp);
    bool access(tlm::tlm_generic_payload& gp, bool debug);
    void wr_gcmd(const reg_def&, unsigned, uint64_t);
    void wr_ccmd(const reg_def&, unsigned, uint64_t);
    void wr_iotlb(const reg_def&, unsigned, uint64_t);
    void wr_iqt(const reg_def&, unsigned, uint64_t);
    void wr_fsts(const reg_def&, unsigned, uint64_t);
    void wr_fectl(const reg_def&, unsigned, uint64_t);
    void wr_iectl(const reg_def&, unsigned, uint64_t);
    void wr_ics(const reg_def&, unsigned, uint64_t);
    void wr_pmen(const reg_def&, unsigned, uint64_t);
    void wr_frcd(const reg_def&, unsigned, uint64_t);

    // Commands and queued invalidation, in simulated time (vtd.cpp).
    void engine();
    bool step();
    void do_gcmd(uint32_t cmd);
    void qi_descriptor(uint64_t lo, uint64_t hi, sc_core::sc_time& delay);
    bool qi_valid(uint64_t lo, uint64_t hi) const;
    void queue_error();
    bool mem_access(bool write, uint64_t addr, void* buf, unsigned len, sc_core::sc_time& delay, bool debug = false);

    // Faults and events (vtd.cpp).
    void record_fault(uint16_t sid, uint64_t iova, uint8_t reason, bool is_write, const sc_core::sc_time& delay);
    void fault_event(uint32_t fsts_before, const sc_core::sc_time& delay);
    void update_ppf();
    void fault_ip_check();
    void send_message(unsigned ctl, const sc_core::sc_time& delay);

    // Translation and caches (vtd_translate.cpp).
    result walk(uint16_t sid, uint64_t iova, uint64_t len, bool is_write, sc_core::sc_time& delay, bool debug,
                bool& fpd);
    context* find_context(uint16_t sid, bool touch);
    tlb_entry* find_tlb(uint16_t did, uint64_t page, bool touch);
    template <class T> T& victim(std::vector<T>& v);
    void invalidate_context(unsigned g, uint16_t did, uint16_t sid, unsigned fm);
    void invalidate_iotlb(unsigned g, uint16_t did, uint64_t addr, unsigned am);

    vtd_config cfg_;
    std::array<uint8_t, vtd::REG_SIZE> bar_{};
    std::array<int16_t, vtd::REG_SIZE> owner_{};
    std::vector<reg_inst> regs_;
    bool present_ = true;
    uint64_t rta_ = 0;          // root-table address latched by SRTP
    unsigned next_fault_ = 0;   // the record the next fault goes to
    std::deque<uint32_t> gcmd_q_;
    bool ccmd_pending_ = false, iotlb_pending_ = false;
    sc_core::sc_event work_ev_;
    std::vector<context> ctx_cache_;
    std::vector<tlb_entry> iotlb_;
    uint64_t tick_ = 0;
    stats stats_;
};

}  // namespace ioatsim::models
