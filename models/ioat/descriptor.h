// The 64-byte hardware descriptor (ioat-hardware.md §4), little endian in memory.
#pragma once
#include <cstdint>
#include <cstring>

namespace ioatsim::ioat {

constexpr uint32_t DESC_INT_EN = 1u << 0, DESC_SRC_SNOOP_DIS = 1u << 1,
                   DESC_DEST_SNOOP_DIS = 1u << 2, DESC_COMPL_WRITE = 1u << 3,
                   DESC_FENCE = 1u << 4, DESC_NULL = 1u << 5, DESC_SRC_BRK = 1u << 6,
                   DESC_DEST_BRK = 1u << 7, DESC_BUNDLE = 1u << 8, DESC_DEST_DCA = 1u << 9,
                   DESC_HINT = 1u << 10;
constexpr unsigned DESC_OP_SHIFT = 24;
enum desc_op : uint8_t { OP_COPY = 0x00, OP_FILL = 0x01, OP_XOR = 0x87, OP_XOR_VAL = 0x88,
                         OP_PQ = 0x89, OP_PQ_VAL = 0x8A, OP_PQ_UPDATE = 0x8B };

struct descriptor {
    uint32_t size;
    uint32_t ctl;
    uint64_t src_addr;
    uint64_t dst_addr;
    uint64_t next;
    uint64_t rsv1, rsv2;
    uint64_t user1, user2;

    uint8_t op() const { return uint8_t(ctl >> DESC_OP_SHIFT); }
    bool has(uint32_t bit) const { return ctl & bit; }
};
static_assert(sizeof(descriptor) == 64, "descriptor is one 64-byte frame");

inline descriptor decode_descriptor(const uint8_t* raw) {
    descriptor d;
    std::memcpy(&d, raw, sizeof d);  // x86 host: little endian like the hardware
    return d;
}

}  // namespace ioatsim::ioat
