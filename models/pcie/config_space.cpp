#include "models/pcie/config_space.h"

#include <stdexcept>

namespace ioatsim::models {
using namespace pci_reg;

config_space::config_space(uint16_t vendor, uint16_t device, uint32_t class_code, uint8_t revision) {
    set(VENDOR_ID, 2, vendor, 0);
    set(DEVICE_ID, 2, device, 0);
    set(COMMAND, 2, 0, CMD_MEM | CMD_MASTER | CMD_INTX_DISABLE);
    set(REVISION, 1, revision, 0);
    set(CLASS, 3, class_code, 0);
    set(INT_LINE, 1, 0, 0xff);
    set(INT_PIN, 1, 1, 0);  // INTA
    reset_ = data_;
}

void config_space::set(unsigned off, unsigned len, uint32_t v, uint32_t writable) {
    for (unsigned i = 0; i < len; ++i) {
        data_[off + i] = uint8_t(v >> (8 * i));
        wmask_[off + i] = uint8_t(writable >> (8 * i));
    }
}

void config_space::add_bar64(int index, uint64_t bytes) {
    if (index < 0 || index > 4 || (bytes & (bytes - 1)) || bytes < 16)
        throw std::invalid_argument("bad 64-bit BAR");
    bar_size_[index] = bytes;
    uint64_t mask = ~(bytes - 1);
    set(BAR0 + 4 * index, 4, 0x4 /* 64-bit memory */, uint32_t(mask) & ~0xfu);
    set(BAR0 + 4 * index + 4, 4, 0, uint32_t(mask >> 32));
    reset_ = data_;
}

unsigned config_space::add_cap(uint8_t id, std::initializer_list<uint8_t> body,
                               std::initializer_list<uint8_t> wmask) {
    unsigned off = next_cap_;
    if (off + 2 + body.size() > 0x100) throw std::length_error("capability list full");
    data_[off] = id;
    data_[off + 1] = 0;
    unsigned i = off + 2;
    for (uint8_t b : body) data_[i++] = b;
    i = off + 2;
    for (uint8_t m : wmask) wmask_[i++] = m;
    if (last_cap_) data_[last_cap_ + 1] = uint8_t(off);
    else data_[CAP_PTR] = uint8_t(off);
    data_[STATUS] |= STATUS_CAP_LIST;
    last_cap_ = off;
    next_cap_ = (off + 2 + unsigned(body.size()) + 3) & ~3u;
    reset_ = data_;
    return off;
}

uint32_t config_space::read(unsigned off, unsigned len) const {
    uint32_t v = 0;
    for (unsigned i = 0; i < len && off + i < size; ++i) v |= uint32_t(data_[off + i]) << (8 * i);
    return v;
}

void config_space::write(unsigned off, unsigned len, uint32_t value) {
    for (unsigned i = 0; i < len && off + i < size; ++i) {
        uint8_t m = wmask_[off + i];
        data_[off + i] = uint8_t((data_[off + i] & ~m) | (uint8_t(value >> (8 * i)) & m));
    }
}

uint64_t config_space::bar_address(int index) const {
    uint64_t lo = read(BAR0 + 4 * index, 4) & ~0xfull;
    uint64_t hi = read(BAR0 + 4 * index + 4, 4);
    return lo | hi << 32;
}

std::optional<bar_hit> config_space::decode(uint64_t addr, uint64_t len) const {
    if (!mem_enabled()) return std::nullopt;
    for (int b = 0; b < 6; ++b) {
        if (!bar_size_[b]) continue;
        uint64_t base = bar_address(b);
        if (addr >= base && addr - base < bar_size_[b] && len <= bar_size_[b] - (addr - base))
            return bar_hit{b, addr - base};
    }
    return std::nullopt;
}

unsigned config_space::find_cap(uint8_t id) const {
    unsigned p = data_[CAP_PTR];
    for (int guard = 0; p && guard < 48; ++guard, p = data_[p + 1])
        if (data_[p] == id) return p;
    return 0;
}

void config_space::reset() { data_ = reset_; }

}  // namespace ioatsim::models
