#include "models/pcie/config_space.h"

#include <stdexcept>

namespace ioatsim::models {
using namespace pci_reg;

config_space::config_space(uint16_t vendor, uint16_t device, uint32_t class_code, uint8_t revision,
                           uint8_t header_type) {
    define(VENDOR_ID, 2, vendor, 0);
    define(DEVICE_ID, 2, device, 0);
    define(COMMAND, 2, 0, CMD_MEM | CMD_MASTER | CMD_INTX_DISABLE);
    define(STATUS, 2, 0, 0, 0xf900);  // error bits are write-one-to-clear
    define(REVISION, 1, revision, 0);
    define(CLASS, 3, class_code, 0);
    define(HEADER_TYPE, 1, header_type, 0);
    define(INT_LINE, 1, 0, 0xff);
    define(INT_PIN, 1, 1, 0);  // INTA
    if (header_type == 1) {
        define(PRIMARY_BUS, 3, 0, 0xffffff);
        define(MEMORY_BASE, 4, 0, 0xfff0fff0);
        define(BRIDGE_CONTROL, 2, 0, 0x0fff);
    }
}

void config_space::define(unsigned off, unsigned len, uint32_t value, uint32_t writable, uint32_t w1c) {
    for (unsigned i = 0; i < len; ++i) {
        data_[off + i] = uint8_t(value >> (8 * i));
        wmask_[off + i] = uint8_t(writable >> (8 * i));
        w1c_[off + i] = uint8_t(w1c >> (8 * i));
    }
    reset_ = data_;
}

void config_space::set_bits(unsigned off, unsigned len, uint32_t bits) {
    for (unsigned i = 0; i < len; ++i) data_[off + i] |= uint8_t(bits >> (8 * i));
}

void config_space::clear_bits(unsigned off, unsigned len, uint32_t bits) {
    for (unsigned i = 0; i < len; ++i) data_[off + i] &= uint8_t(~(bits >> (8 * i)));
}

void config_space::add_bar64(int index, uint64_t bytes) {
    if (index < 0 || index > 4 || (bytes & (bytes - 1)) || bytes < 16)
        throw std::invalid_argument("bad 64-bit BAR");
    bar_size_[index] = bytes;
    uint64_t mask = ~(bytes - 1);
    define(BAR0 + 4 * index, 4, 0x4 /* 64-bit memory */, uint32_t(mask) & ~0xfu);
    define(BAR0 + 4 * index + 4, 4, 0, uint32_t(mask >> 32));
}

unsigned config_space::add_cap(uint8_t id, unsigned length) {
    unsigned off = next_cap_;
    if (off + length > 0x100) throw std::length_error("capability list full");
    data_[off] = id;
    data_[off + 1] = 0;
    if (last_cap_) data_[last_cap_ + 1] = uint8_t(off);
    else data_[CAP_PTR] = uint8_t(off);
    data_[STATUS] |= STATUS_CAP_LIST;
    last_cap_ = off;
    next_cap_ = (off + length + 3) & ~3u;
    reset_ = data_;
    return off;
}

unsigned config_space::add_cap(uint8_t id, std::initializer_list<uint8_t> body,
                               std::initializer_list<uint8_t> wmask) {
    unsigned off = add_cap(id, 2 + unsigned(body.size()));
    unsigned i = off + 2;
    for (uint8_t b : body) define(i++, 1, b, 0);
    i = off + 2;
    for (uint8_t m : wmask) wmask_[i++] = m;
    return off;
}

uint32_t config_space::read(unsigned off, unsigned len) const {
    uint32_t v = 0;
    for (unsigned i = 0; i < len && off + i < size; ++i) v |= uint32_t(data_[off + i]) << (8 * i);
    return v;
}

void config_space::write(unsigned off, unsigned len, uint32_t value) {
    for (unsigned i = 0; i < len && off + i < size; ++i) {
        uint8_t m = wmask_[off + i], v = uint8_t(value >> (8 * i));
        data_[off + i] = uint8_t((data_[off + i] & ~m) | (v & m));
        data_[off + i] &= uint8_t(~(v & w1c_[off + i]));
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
