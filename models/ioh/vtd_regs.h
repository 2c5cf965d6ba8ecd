// VT-d (DMA remapping, VT-d 1.x legacy mode) register offsets, bits and table
// formats of the 5520/7500 IOH's remapping unit, as
// shared/reference/dma-mapping-vtd.md §5.1-§5.6 and §6.2 give them (Linux 3.4's
// intel-iommu.h and QEMU agree on them). Names follow the specification/driver.
#pragma once
#include <cstdint>

namespace ioatsim::vtd {

// One 4 KiB register page per unit (§5.1).
constexpr unsigned REG_SIZE = 0x1000;

constexpr unsigned VER = 0x00, CAP = 0x08, ECAP = 0x10, GCMD = 0x18, GSTS = 0x1C, RTADDR = 0x20,
                   CCMD = 0x28, FSTS = 0x34, FECTL = 0x38, FEDATA = 0x3C, FEADDR = 0x40, FEUADDR = 0x44,
                   PMEN = 0x64, PLMBASE = 0x68, PLMLIMIT = 0x6C, PHMBASE = 0x70, PHMLIMIT = 0x78,
                   IQH = 0x80, IQT = 0x88, IQA = 0x90, ICS = 0x9C, IECTL = 0xA0, IEDATA = 0xA4,
                   IEADDR = 0xA8, IEUADDR = 0xAC, IRTA = 0xB8;

// What the X58/5520/5500 units report (LOG in the reference): VER 1:0,
// CAP 0x00c90780106f0462, ECAP 0xf020fe.
constexpr uint32_t VER_TYLERSBURG = 0x10;
constexpr uint64_t CAP_TYLERSBURG = 0x00c90780106f0462ull, ECAP_TYLERSBURG = 0xf020feull;

// CAP_REG fields (§5.2).
constexpr unsigned cap_sagaw(uint64_t c) { return unsigned(c >> 8) & 0x1f; }
constexpr unsigned cap_mgaw(uint64_t c) { return unsigned(c >> 16 & 0x3f) + 1; }
constexpr bool cap_zlr(uint64_t c) { return c >> 22 & 1; }
constexpr unsigned cap_fro(uint64_t c) { return unsigned(c >> 24 & 0x3ff) * 16; }
constexpr bool cap_psi(uint64_t c) { return c >> 39 & 1; }
constexpr unsigned cap_nfr(uint64_t c) { return unsigned(c >> 40 & 0xff) + 1; }
constexpr unsigned cap_mamv(uint64_t c) { return unsigned(c >> 48 & 0x3f); }
// ECAP_REG fields (§5.3).
constexpr bool ecap_qi(uint64_t e) { return e >> 1 & 1; }
constexpr bool ecap_dt(uint64_t e) { return e >> 2 & 1; }
constexpr bool ecap_ir(uint64_t e) { return e >> 3 & 1; }
constexpr bool ecap_pt(uint64_t e) { return e >> 6 & 1; }
constexpr unsigned ecap_iro(uint64_t e) { return unsigned(e >> 8 & 0x3ff) * 16; }

// GCMD_REG commands and their GSTS_REG status bits share positions (§5.1).
constexpr uint32_t GCMD_TE = 1u << 31, GCMD_SRTP = 1u << 30, GCMD_SFL = 1u << 29, GCMD_EAFL = 1u << 28,
                   GCMD_WBF = 1u << 27, GCMD_QIE = 1u << 26, GCMD_IRE = 1u << 25, GCMD_SIRTP = 1u << 24,
                   GCMD_CFI = 1u << 23;
constexpr uint32_t GSTS_TES = GCMD_TE, GSTS_RTPS = GCMD_SRTP, GSTS_QIES = GCMD_QIE, GSTS_IRES = GCMD_IRE,
                   GSTS_IRTPS = GCMD_SIRTP, GSTS_CFIS = GCMD_CFI;

// CCMD_REG.
constexpr uint64_t CCMD_ICC = 1ull << 63;
constexpr unsigned CCMD_CIRG_SHIFT = 61, CCMD_CAIG_SHIFT = 59;
constexpr uint64_t CCMD_CAIG = 3ull << CCMD_CAIG_SHIFT;
enum granularity : unsigned { G_RESERVED = 0, G_GLOBAL = 1, G_DOMAIN = 2, G_DEVICE = 3, G_PAGE = 3 };

// FSTS_REG: RW1C bits, and PPF / FRI, which hardware derives.
constexpr uint32_t FSTS_PFO = 1u << 0, FSTS_PPF = 1u << 1, FSTS_AFO = 1u << 2, FSTS_APF = 1u << 3,
                   FSTS_IQE = 1u << 4, FSTS_ICE = 1u << 5, FSTS_ITE = 1u << 6, FSTS_FRI = 0xffu << 8;
constexpr uint32_t FSTS_RW1C = FSTS_PFO | FSTS_AFO | FSTS_APF | FSTS_IQE | FSTS_ICE | FSTS_ITE;
// FECTL_REG / IECTL_REG: interrupt mask and pending.
constexpr uint32_t CTL_IM = 1u << 31, CTL_IP = 1u << 30;
constexpr uint32_t PMEN_EPM = 1u << 31, PMEN_PRS = 1u << 0;
constexpr uint32_t ICS_IWC = 1u << 0;
// IQH/IQT: [18:4] a descriptor index times 16; IQA: base [63:12], QS [2:0].
constexpr uint64_t IQ_INDEX = 0x7fff0ull, IQA_BASE = ~0xfffull, IQA_QS = 0x7;

// Fault recording register (128 bits at FRO + 16 i, §5.5) as two 64-bit halves.
constexpr uint64_t FRCD_FI = ~0xfffull;                      // low: page of the faulting request
constexpr uint64_t FRCD_F = 1ull << 63, FRCD_T_READ = 1ull << 62;  // high: fault, type (1 = read)
constexpr unsigned FRCD_FR_SHIFT = 32;                       // high [39:32]: reason; [15:0] SID

// IVA_REG and IOTLB_REG at IRO (§5.1).
constexpr uint64_t IVA_ADDR = ~0xfffull, IVA_IH = 1ull << 6, IVA_AM = 0x3f;
constexpr uint64_t IOTLB_IVT = 1ull << 63, IOTLB_DR = 1ull << 49, IOTLB_DW = 1ull << 48;
constexpr unsigned IOTLB_IIRG_SHIFT = 60, IOTLB_IAIG_SHIFT = 57, IOTLB_DID_SHIFT = 32;
constexpr uint64_t IOTLB_IAIG = 3ull << IOTLB_IAIG_SHIFT;

// Queued-invalidation descriptors (§5.6), 128 bits: type in low [3:0].
enum qi_type : unsigned { QI_CONTEXT = 1, QI_IOTLB = 2, QI_DEV_IOTLB = 3, QI_IEC = 4, QI_WAIT = 5 };
constexpr uint64_t QI_WAIT_IF = 1ull << 4, QI_WAIT_SW = 1ull << 5, QI_WAIT_FN = 1ull << 6;

// Root entry, context entry, second-level PTE (§5.4).
constexpr uint64_t ENTRY_P = 1, ENTRY_ADDR = 0x000ffffffffff000ull;
constexpr uint64_t ROOT_LO_RSVD = 0xffe;                      // lo [11:1]; hi is all reserved
constexpr uint64_t CTX_LO_FPD = 1ull << 1, CTX_LO_RSVD = 0xff0;  // QEMU's checks (§5.4)
constexpr uint64_t CTX_HI_RSVD = 0xffffffffff000080ull;
constexpr unsigned CTX_T_SHIFT = 2, CTX_DID_SHIFT = 8;
enum ctx_type : unsigned { T_UNTRANSLATED = 0, T_ALL = 1, T_PASSTHROUGH = 2, T_RESERVED = 3 };
constexpr uint64_t PTE_R = 1ull << 0, PTE_W = 1ull << 1;
// [6:2] reserved; 7 SP reserved too, since CAP.SPS = 0 allows no super pages.
constexpr uint64_t PTE_RSVD = 0xfcull;

// Fault reasons, numbered as Linux 3.4's dma_remap_fault_reasons[] (§6.2).
enum fault_reason : uint8_t {
    FR_ROOT_NOT_PRESENT = 0x01,   // "Present bit in root entry is clear"
    FR_CTX_NOT_PRESENT = 0x02,    // "Present bit in context entry is clear"
    FR_CTX_INVALID = 0x03,        // "Invalid context entry"
    FR_BEYOND_MGAW = 0x04,        // "Access beyond MGAW"
    FR_NO_WRITE = 0x05,           // "PTE Write access is not set"
    FR_NO_READ = 0x06,            // "PTE Read access is not set"
    FR_PTE_READ_ERROR = 0x07,     // "Next page table ptr is invalid"
    FR_ROOT_READ_ERROR = 0x08,    // "Root table address invalid"
    FR_CTX_READ_ERROR = 0x09,     // "Context table ptr is invalid"
    FR_ROOT_RSVD = 0x0A,          // "non-zero reserved fields in RTP"
    FR_CTX_RSVD = 0x0B,           // "non-zero reserved fields in CTP"
    FR_PTE_RSVD = 0x0C,           // "non-zero reserved fields in PTE"
};

constexpr unsigned PAGE_SHIFT = 12;  // VT-d pages are always 4 KiB (§5.4)
constexpr uint64_t PAGE_SIZE = 1ull << PAGE_SHIFT;

}  // namespace ioatsim::vtd
