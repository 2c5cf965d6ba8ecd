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
constexpr uint16_t CMD_MEM = 0x0002, CMD_MASTER = 0x0004, CMD_INTX_DISABLE = 0x0400;
constexpr uint16_t STATUS_CAP_LIST = 0x0010;
constexpr uint8_t CAP_PM = 0x01, CAP_MSI = 0x05, CAP_EXP = 0x10, CAP_MSIX = 0x11;
}  // namespace pci_reg

struct bar_hit { int bar; uint64_t offset; };

class config_space {
public:
    static constexpr unsigned size = 4096;

    config_space(uint16_t vendor, uint16_t device, uint32_t class_code, uint8_t revision);

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
    void set(unsigned off, unsigned len, uint32_t v, uint32_t writable);
    std::array<uint8_t, size> data_{}, wmask_{}, reset_{};
    uint64_t bar_size_[6] = {};
    unsigned next_cap_ = 0x80;
    unsigned last_cap_ = 0;
};

}  // namespace ioatsim::models
