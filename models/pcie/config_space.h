// A type-0 PCI configuration space: header, 64-bit memory BARs with sizing, and a
// capability list, with per-byte write masks so software sees what hardware allows.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <optional>

namespace ioatsim::models {

namespace pci_reg {
constexpr unsigned VENDOR_ID = 0x00, DEVICE_ID = 0x02, COMMAND = 0x04, STATUS = 0x06,
                   REVISION = 0x08, CLASS = 0x09, HEADER_TYPE = 0x0E, BAR0 = 0x10,
                   CAP_PTR = 0x34, INT_LINE = 0x3C, INT_PIN = 0x3D;
// Type-1 (bridge) header.
constexpr unsigned PRIMARY_BUS = 0x18, SECONDARY_BUS = 0x19, SUBORDINATE_BUS = 0x1A,
                   MEMORY_BASE = 0x20, MEMORY_LIMIT = 0x22, BRIDGE_CONTROL = 0x3E;
// PCI Express capability, offsets from the capability.
constexpr unsigned EXP_FLAGS = 0x02, EXP_LNKSTA = 0x12, EXP_SLTCAP = 0x14, EXP_SLTCTL = 0x18,
                   EXP_SLTSTA = 0x1A;
constexpr uint16_t LNKSTA_DLLLA = 1u << 13;
constexpr uint32_t SLTCAP_ABP = 1u << 0, SLTCAP_HPS = 1u << 5, SLTCAP_HPC = 1u << 6;
constexpr uint16_t SLTCTL_ABPE = 1u << 0, SLTCTL_PDCE = 1u << 3, SLTCTL_HPIE = 1u << 5,
                   SLTCTL_DLLSCE = 1u << 12;
constexpr uint16_t SLTSTA_ABP = 1u << 0, SLTSTA_PDC = 1u << 3, SLTSTA_PDS = 1u << 6,
                   SLTSTA_DLLSC = 1u << 8;
constexpr uint16_t CMD_MEM = 0x0002, CMD_MASTER = 0x0004, CMD_INTX_DISABLE = 0x0400;
constexpr uint16_t STATUS_CAP_LIST = 0x0010;
constexpr uint8_t CAP_PM = 0x01, CAP_MSI = 0x05, CAP_EXP = 0x10, CAP_MSIX = 0x11;
}  // namespace pci_reg

struct bar_hit { int bar; uint64_t offset; };

class config_space {
public:
    static constexpr unsigned size = 4096;

    // header_type 0: endpoint; 1: PCI-to-PCI bridge (a root port).
    config_space(uint16_t vendor, uint16_t device, uint32_t class_code, uint8_t revision,
                 uint8_t header_type = 0);

    // Defines a field: its power-on value, which bits software may write, and which
    // are write-one-to-clear. Also used for capability bodies.
    void define(unsigned off, unsigned len, uint32_t value, uint32_t writable, uint32_t w1c = 0);
    // Appends an empty capability of `length` bytes (header included); returns its offset.
    unsigned add_cap(uint8_t id, unsigned length);
    // Hardware-side state changes, bypassing the write masks (status bits, presence).
    void set_bits(unsigned off, unsigned len, uint32_t bits);
    void clear_bits(unsigned off, unsigned len, uint32_t bits);

    // A 64-bit non-prefetchable memory BAR occupying slots index and index+1.
    void add_bar64(int index, uint64_t bytes);
    // Appends a capability; returns its offset. `wmask` marks writable bits of the
    // body (same length as body, may be empty for read-only).
    unsigned add_cap(uint8_t id, std::initializer_list<uint8_t> body,
                     std::initializer_list<uint8_t> wmask = {});

    uint32_t read(unsigned off, unsigned len) const;   // len 1, 2 or 4
    void write(unsigned off, unsigned len, uint32_t value);

    uint8_t byte(unsigned off) const { return data_[off]; }
    uint16_t word(unsigned off) const { return uint16_t(read(off, 2)); }
    uint16_t command() const { return word(pci_reg::COMMAND); }
    bool mem_enabled() const { return command() & pci_reg::CMD_MEM; }
    bool bus_master() const { return command() & pci_reg::CMD_MASTER; }
    uint64_t bar_address(int index) const;
    std::optional<bar_hit> decode(uint64_t addr, uint64_t len) const;  // only when decode is on
    unsigned find_cap(uint8_t id) const;  // 0 when absent

    void reset();  // back to power-on values

private:
    std::array<uint8_t, size> data_{}, wmask_{}, w1c_{}, reset_{};
    uint64_t bar_size_[6] = {};
    unsigned next_cap_ = 0x80;
    unsigned last_cap_ = 0;
};

}  // namespace ioatsim::models
