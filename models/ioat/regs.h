// CB3 (QuickData v3.0) register offsets and bits, from registers.h as described in
// shared/reference/ioat-hardware.md §2-§5 and §7. Names follow the datasheet/driver.
#pragma once
#include <cstdint>

namespace ioatsim::ioat {

// Global registers, BAR0.
constexpr unsigned CHANCNT = 0x00, XFERCAP = 0x01, GENCTRL = 0x02, INTRCTRL = 0x03,
                   ATTNSTATUS = 0x04, CBVER = 0x08, PERPORTOFFSET = 0x0A, INTRDELAY = 0x0C,
                   DEVICE_STATUS = 0x0E, DMACAPABILITY = 0x10, DCAOFFSET = 0x14;

constexpr uint8_t INTRCTRL_MASTER_INT_EN = 0x01, INTRCTRL_INT_STATUS = 0x02, INTRCTRL_INT = 0x04,
                  INTRCTRL_MSIX_VECTOR_CONTROL = 0x08;

constexpr uint32_t DMACAP_PAGEBREAK = 1u << 0, DMACAP_DCA = 1u << 4, DMACAP_FILL = 1u << 6,
                   DMACAP_XOR = 1u << 8, DMACAP_PQ = 1u << 9;

// Channel n registers live at BAR0 + 0x80 * (n + 1).
constexpr unsigned CHAN_STRIDE = 0x80;
constexpr unsigned chan_base(unsigned n) { return CHAN_STRIDE * (n + 1); }
constexpr unsigned CHANCTRL = 0x00, DMA_COMP = 0x02, CHANCMD = 0x04, DMACOUNT = 0x06,
                   CHANSTS = 0x08, CHAINADDR = 0x10, CHANCMP = 0x18, CDAR = 0x20, CHANERR = 0x28,
                   CHANERR_MASK = 0x2C, DCACTRL = 0x30;

constexpr uint16_t CHANCTRL_INT_REARM = 0x0001, CHANCTRL_ERR_COMPLETION_EN = 0x0004,
                   CHANCTRL_ANY_ERR_ABORT_EN = 0x0008, CHANCTRL_ERR_INT_EN = 0x0010,
                   CHANCTRL_DESC_ADDR_SNOOP = 0x0020, CHANCTRL_IN_USE = 0x0100,
                   CHANCTRL_COMPL_DCA_EN = 0x0200, CHANCTRL_RUN = 0x001D;

constexpr uint8_t CHANCMD_START = 0x01, CHANCMD_APPEND = 0x02, CHANCMD_SUSPEND = 0x04,
                  CHANCMD_ABORT = 0x08, CHANCMD_RESUME = 0x10, CHANCMD_RESET = 0x20;

// CHANSTS[2:0]
enum chan_state : uint8_t { ACTIVE = 0, DONE = 1, SUSPENDED = 2, HALTED = 3 };
constexpr uint64_t CHANSTS_STATUS = 0x7, CHANSTS_UNAFFILIATED_ERR = 0x8, CHANSTS_SOFT_ERR = 0x10,
                   CHANSTS_ADDR_MASK = ~0x3full;

// CHANERR bits (§7).
constexpr uint32_t CHANERR_SRC_ADDR = 1u << 0, CHANERR_DEST_ADDR = 1u << 1,
                   CHANERR_NEXT_ADDR = 1u << 2, CHANERR_NEXT_DESC_ALIGN = 1u << 3,
                   CHANERR_CHAIN_ADDR = 1u << 4, CHANERR_CHANCMD = 1u << 5,
                   CHANERR_READ_DATA = 1u << 8, CHANERR_WRITE_DATA = 1u << 9,
                   CHANERR_DESC_CTRL = 1u << 10, CHANERR_LEN = 1u << 11,
                   CHANERR_COMPL_ADDR = 1u << 12, CHANERR_INT_CONFIG = 1u << 13,
                   CHANERR_XOR_P = 1u << 16, CHANERR_XOR_Q = 1u << 17, CHANERR_DESC_COUNT = 1u << 18;

// DCA (ioat-hardware.md §9; the v3 layout of Linux 3.4's registers.h): a block at
// BAR0 + DCAOFFSET and the requester (GREQID) table at BAR0 + the offset the
// block holds at +0x02. Where the 5520/7500 put them in BAR0 is unpublished
// [estimate]: clear of the channel blocks and of MSI-X.
constexpr unsigned DCA_BLOCK = 0x2000, DCA_GREQID_TABLE = 0x2040;
constexpr unsigned DCA3_GREQID_OFFSET = 0x02, DCA3_CSI_CAPABILITY = 0x08, DCA3_PCI_CAPABILITY = 0x0A,
                   DCA3_CSI_CONTROL = 0x0C, DCA3_PCI_CONTROL = 0x0E, DCA3_APICID_TAG_MAP = 0x10;
constexpr uint16_t DCA3_CSI_PREFETCH = 0x1, DCA3_PCI_MEMWR = 0x1;
// A GREQID entry: requester BDF, ignore-function, valid; LASTID marks the table's end.
constexpr uint32_t GREQID_RID = 0xFFFF, GREQID_IGNOREFUN = 1u << 28, GREQID_VALID = 1u << 29,
                   GREQID_LASTID = 1u << 31;
// APICID_TAG_MAP before firmware programs it: 0x80 x5 then 0x00 x3, as the comment
// of Linux's dca3_tag_map_invalid (v3.9 on) gives it.
constexpr uint64_t APICID_TAG_MAP_RESET = 0x0000008080808080ull;
constexpr uint8_t TAG_MAP_SEL = 0x40, TAG_MAP_INV = 0x80, TAG_MAP_LITERAL = 0x01;

// MSI-X table and PBA in BAR0 (offsets as the driver's CB3.3 erratum code
// saves them; the 5520's own are unpublished, so this is an inference).
constexpr unsigned MSIX_TABLE = 0x1000, MSIX_PBA = 0x1800;
constexpr unsigned BAR0_SIZE = 16 * 1024;

}  // namespace ioatsim::ioat
