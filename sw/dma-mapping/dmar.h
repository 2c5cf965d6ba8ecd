// The DMAR driver's view of one VT-d remapping unit (3.4 struct intel_iommu,
// drivers/iommu/dmar.c and the register half of intel-iommu.c): its registers
// as the driver reads the map (dma-mapping-vtd.md §5, independent of the
// hardware model's reading), the root table, global commands, context-cache
// and IOTLB invalidation (register-based, or queued when ECAP.QI, as 3.4
// chooses), and the fault interrupt handler with 3.4's log format.
#pragma once
#include "sw/dma-mapping/dma_mapping.h"

#include <memory>
#include <string>
#include <vector>

namespace ioatsim::sw {

namespace dmar {
// Register offsets (§5.1).
constexpr uint32_t VER_REG = 0x00, CAP_REG = 0x08, ECAP_REG = 0x10, GCMD_REG = 0x18, GSTS_REG = 0x1C,
                   RTADDR_REG = 0x20, CCMD_REG = 0x28, FSTS_REG = 0x34, FECTL_REG = 0x38, FEDATA_REG = 0x3C,
                   FEADDR_REG = 0x40, FEUADDR_REG = 0x44, PMEN_REG = 0x64, IQH_REG = 0x80, IQT_REG = 0x88,
                   IQA_REG = 0x90;
// GCMD / GSTS.
constexpr uint32_t GCMD_TE = 1u << 31, GCMD_SRTP = 1u << 30, GCMD_WBF = 1u << 27, GCMD_QIE = 1u << 26;
constexpr uint32_t GSTS_TES = 1u << 31, GSTS_RTPS = 1u << 30, GSTS_WBFS = 1u << 27, GSTS_QIES = 1u << 26;
// CCMD: ICC, CIRG (the types below), CAIG, FM, SID, DID.
constexpr uint64_t CCMD_ICC = 1ull << 63, CCMD_GLOBAL_INVL = 1ull << 61, CCMD_DOMAIN_INVL = 2ull << 61,
                   CCMD_DEVICE_INVL = 3ull << 61;
// IOTLB_REG at IRO*16 + 8: IVT, IIRG (the types below), IAIG, DR, DW, DID; IVA at IRO*16.
constexpr uint64_t TLB_IVT = 1ull << 63, TLB_GLOBAL_FLUSH = 1ull << 60, TLB_DSI_FLUSH = 2ull << 60,
                   TLB_PSI_FLUSH = 3ull << 60, TLB_READ_DRAIN = 1ull << 49, TLB_WRITE_DRAIN = 1ull << 48;
// FSTS / FECTL / PMEN.
constexpr uint32_t FSTS_PFO = 1 << 0, FSTS_PPF = 1 << 1, FSTS_IQE = 1 << 4, FSTS_ICE = 1 << 5, FSTS_ITE = 1 << 6;
constexpr uint32_t FECTL_IM = 1u << 31, PMEN_EPM = 1u << 31, PMEN_PRS = 1;
constexpr uint32_t FRCD_F = 1u << 31;  // in the record's dword at +12
// Queued-invalidation descriptors (§5.6).
constexpr uint64_t QI_CC_TYPE = 1, QI_IOTLB_TYPE = 2, QI_IWD_TYPE = 5;
constexpr uint64_t QI_IWD_STATUS_WRITE = 1ull << 5, QI_IWD_FENCE = 1ull << 6;
constexpr unsigned QI_LENGTH = 256;
constexpr uint32_t QI_FREE = 0, QI_IN_USE = 1, QI_DONE = 2, QI_ABORT = 3;
// Second-level entries (§5.4).
constexpr uint64_t DMA_PTE_READ = 1, DMA_PTE_WRITE = 2, VTD_PAGE_MASK = ~0xfffull;
constexpr uint64_t CONTEXT_TT_MULTI_LEVEL = 0, CONTEXT_TT_PASS_THROUGH = 2;
// 3.4's IOMMU_WAIT_OP gives up (and panics) after DMAR_OPERATION_TIMEOUT.
constexpr ktime_t DMAR_OPERATION_TIMEOUT = 10'000 * MSEC;
}  // namespace dmar

// CAP and ECAP fields (§5.2-5.3).
struct dmar_caps {
    uint64_t cap = 0, ecap = 0;
    unsigned ndoms() const { return 1u << (4 + 2 * (cap & 7)); }
    bool rwbf() const { return cap >> 4 & 1; }
    bool caching_mode() const { return cap >> 7 & 1; }
    unsigned sagaw() const { return unsigned(cap >> 8 & 0x1f); }
    unsigned mgaw() const { return unsigned(cap >> 16 & 0x3f) + 1; }
    bool zlr() const { return cap >> 22 & 1; }
    unsigned fault_reg_offset() const { return unsigned(cap >> 24 & 0x3ff) * 16; }
    bool pgsel_inv() const { return cap >> 39 & 1; }
    unsigned num_fault_regs() const { return unsigned(cap >> 40 & 0xff) + 1; }
    unsigned max_amask_val() const { return unsigned(cap >> 48 & 0x3f); }
    bool write_drain() const { return cap >> 54 & 1; }
    bool read_drain() const { return cap >> 55 & 1; }
    bool coherent() const { return ecap & 1; }
    bool qis() const { return ecap >> 1 & 1; }
    bool pass_through() const { return ecap >> 6 & 1; }
    unsigned iotlb_offset() const { return unsigned(ecap >> 8 & 0x3ff) * 16; }
};

// The queued-invalidation state (3.4 struct q_inval): the descriptor ring and
// the status words the hardware writes for wait descriptors, both in memory.
struct q_inval {
    uint64_t desc = 0, desc_status = 0;
    unsigned free_head = 0, free_tail = 0, free_cnt = dmar::QI_LENGTH;
    spinlock q_lock;
};

struct intel_iommu {
    intel_iommu(dma_mapping& dm, const dmar_drhd_unit& drhd, int seq_id);
    intel_iommu(const intel_iommu&) = delete;

    // Registers, 64-bit ones as two 32-bit accesses, low half first.
    uint32_t readl(uint32_t off) { return io_.readl(reg + off); }
    void writel(uint32_t off, uint32_t v) { io_.writel(reg + off, v); }
    uint64_t readq(uint32_t off);
    void writeq(uint32_t off, uint64_t v);

    void set_root_entry();            // RTADDR, GCMD.SRTP, wait RTPS
    void enable_translation();        // GCMD.TE, wait TES
    void disable_translation();
    int enable_qi();                  // IQT = 0, IQA, GCMD.QIE, wait QIES
    void disable_qi();
    void flush_write_buffer();        // only when CAP.RWBF
    void disable_protect_mem_regions();
    // Context-cache and IOTLB invalidation, by the interface 3.4 picked.
    void flush_context(uint16_t did, uint16_t sid, uint8_t fm, uint64_t type);
    void flush_iotlb(uint16_t did, uint64_t addr, unsigned size_order, uint64_t type);
    // iommu_flush_iotlb_psi: page-selective, domain-selective past MAMV or without PSI.
    void flush_iotlb_psi(uint16_t did, uint64_t pfn, uint64_t pages);
    // The fault interrupt: its vector on `cpu` (FEDATA/FEADDR/FEUADDR), unmasked.
    void set_interrupt(unsigned cpu);
    // dmar_fault: log and clear every pending record, then the status.
    void dmar_fault();
    // __iommu_flush_cache: clflush what the CPU wrote when walks do not snoop.
    void flush_cache(uint64_t pa, uint64_t len);

    // A domain id from the unit's bitmap, or -1 ("IOMMU: no free domain ids").
    int alloc_domain_id();
    void free_domain_id(int id);

    dma_mapping& dm;
    kernel& k;
    std::string name;  // dmar0, dmar1, ...
    int seq_id;
    dmar_drhd_unit drhd;
    uint64_t reg;      // reg_base_addr
    dmar_caps caps;
    uint32_t gcmd = 0; // the shadow of TE and QIE software keeps
    int agaw = -1, msagaw = -1;
    uint64_t root_entry = 0;
    std::vector<bool> domain_ids;
    std::unique_ptr<q_inval> qi;   // set when queued invalidation is on
    spinlock register_lock;
    int irq_vector = -1;
    unsigned irq_cpu = 0;
    bool broken = false;  // check_zero_address: a zero base, or CAP and ECAP all ones
    bool removed = false; // gone from the driver's lists (later kernels' DMAR hot-removal)

private:
    // IOMMU_WAIT_OP: poll `off` until `done`, 10 s at most, then panic.
    template <class Read, class Done> uint64_t wait_op(uint32_t off, Read read, Done done);
    void flush_context_reg(uint16_t did, uint16_t sid, uint8_t fm, uint64_t type);
    void flush_iotlb_reg(uint16_t did, uint64_t addr, unsigned size_order, uint64_t type);
    int qi_submit_sync(uint64_t lo, uint64_t hi);
    int qi_check_fault(unsigned index, unsigned wait_index);
    void dmar_fault_do_one(int type, uint8_t reason, uint16_t sid, uint64_t addr);

    dmar_reg_access io_;
    const ktime_t relax_, flush_code_, clflush_;
};

// dmar_get_fault_reason: 3.4's dma_remap_fault_reasons[] (and the interrupt-remapping ones).
const char* dmar_get_fault_reason(uint8_t reason, bool* intr_remap);

}  // namespace ioatsim::sw
