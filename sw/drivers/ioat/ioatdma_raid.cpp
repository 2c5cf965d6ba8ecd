// ioatdma's fill, XOR, PQ and interrupt descriptors (dma_v3.c of 3.4): the
// operations async_tx asks for. Descriptor layouts: ioat-hardware.md §4 and
// models/ioat/ops.h (XOR: 5 sources in the base frame, 3 more in an extension;
// PQ: 3 and 5).
#include "sw/drivers/ioat/ioatdma.h"

#include "models/ioat/descriptor.h"

namespace ioatsim::sw {
using namespace ioat;

namespace {
ioat_chan& to_ioat(dma_chan* c) { return *static_cast<ioat_chan*>(c); }

uint32_t completion_flags(unsigned flags) {
    uint32_t ctl = DESC_COMPL_WRITE;
    if (flags & DMA_PREP_INTERRUPT) ctl |= DESC_INT_EN;
    if (flags & DMA_PREP_FENCE) ctl |= DESC_FENCE;
    return ctl;
}
}  // namespace

// XOR and PQ end with a null descriptor that carries the completion write and
// the interrupt, as 3.4's __ioat3_prep_xor_lock and __ioat3_prep_pq_lock do; the
// operation's last descriptor carries the fence.
dma_async_tx_descriptor* ioatdma_device::prep_pieces(dma_chan* dc, const char* what, uint64_t len, unsigned frames,
                                                     unsigned flags, bool compl_null, const frame_fn& frame) {
    ioat_chan& c = to_ioat(dc);
    if (!alive(dc, what) || c.ring.empty() || !len) return nullptr;
    uint64_t xfercap = 1ull << xfercap_log_;
    uint64_t pieces = (len + xfercap - 1) / xfercap, slots = pieces * frames + (compl_null ? 1 : 0);
    if (slots >= IOAT_MAX_RING || !check_space_lock(c, uint16_t(slots))) return nullptr;
    const uint32_t last_ctl = compl_null ? (flags & DMA_PREP_FENCE ? DESC_FENCE : 0u) : completion_flags(flags);
    auto reset = [](ioat_ring_ent& x, bool ext) {
        x.txd.cookie = 0;
        x.txd.callback = nullptr;
        x.len = 0;
        x.ext = ext;
        x.op = ioat_ring_ent::op_kind::none;
    };
    ioat_ring_ent* last = nullptr;
    for (uint64_t p = 0; p < pieces; ++p) {
        ioat_ring_ent& e = c.ent(uint16_t(c.head + p * frames));
        ioat_ring_ent* ext = frames == 2 ? &c.ent(uint16_t(c.head + p * frames + 1)) : nullptr;
        uint64_t off = p * xfercap, n = std::min(xfercap, len - off);
        frame(e.hw, ext ? ext->hw : 0, off, n, p + 1 == pieces ? last_ctl : 0);
        reset(e, false);
        if (ext) reset(*ext, true);
        last = &e;
        k_.cost(prep_desc_ * frames);
    }
    if (compl_null) {
        last = &c.ent(uint16_t(c.head + pieces * frames));
        uint32_t ctl = DESC_NULL | DESC_COMPL_WRITE | (flags & DMA_PREP_INTERRUPT ? DESC_INT_EN : 0u);
        write_desc(last->hw, NULL_DESC_BUFFER_SIZE, ctl, 0, 0);
        reset(*last, false);
        k_.cost(prep_desc_);
    }
    last->txd.flags = flags;
    last->len = len;
    return &last->txd;
}

dma_async_tx_descriptor* ioatdma_device::prep_dma_memset(dma_chan* c, uint64_t dst, uint8_t value, uint64_t len,
                                                         unsigned flags) {
    uint64_t pattern = 0x0101010101010101ull * value;
    dma_async_tx_descriptor* tx =
        prep_pieces(c, "prep_dma_memset", len, 1, flags, false, [&](uint64_t hw, uint64_t, uint64_t off, uint64_t n,
                                                                  uint32_t ctl) {
            write_desc(hw, uint32_t(n), ctl | uint32_t(OP_FILL) << DESC_OP_SHIFT, pattern, dst + off);
        });
    if (tx) {  // the fill's last descriptor carries the flags (ioat3_prep_memset_lock)
        ioat_chan& ch = to_ioat(c);
        ioat_ring_ent& e = ch.ent(uint16_t(ch.head + ch.produce - 1));
        e.op = ioat_ring_ent::op_kind::fill;
        e.dst = dst;
    }
    return tx;
}

dma_async_tx_descriptor* ioatdma_device::prep_dma_xor(dma_chan* c, uint64_t dst, const std::vector<uint64_t>& src,
                                                      uint64_t len, unsigned flags) {
    if (src.size() < 2 || src.size() > max_xor) return nullptr;
    unsigned frames = src.size() > 5 ? 2 : 1;
    return prep_pieces(c, "prep_dma_xor", len, frames, flags, true, [&](uint64_t hw, uint64_t ext, uint64_t off,
                                                                  uint64_t n, uint32_t ctl) {
        ctl |= uint32_t(OP_XOR) << DESC_OP_SHIFT | uint32_t(src.size() - 2) << 5;
        write_desc(hw, uint32_t(n), ctl, src[0] + off, dst + off);
        for (size_t i = 1; i < src.size() && i < 5; ++i) k_.store<uint64_t>(hw + 0x20 + 8 * (i - 1), src[i] + off);
        for (size_t i = 5; i < src.size(); ++i) k_.store<uint64_t>(ext + 8 * (i - 5), src[i] + off);
    });
}

// A single source (the raid6 recovery's multiply) runs as two with coefficient 0
// on the copy, as the driver does: the hardware takes 2 to 8.
dma_async_tx_descriptor* ioatdma_device::prep_dma_pq(dma_chan* c, const uint64_t dst[2],
                                                     const std::vector<uint64_t>& src_in,
                                                     const std::vector<uint8_t>& coef_in, uint64_t len,
                                                     unsigned flags) {
    std::vector<uint64_t> src;
    std::vector<uint8_t> coef;
    // DMA_PREP_CONTINUE on an engine that cannot continue (3.4's CB3): P and Q
    // come back as three implied sources. P with coefficient 0 adds P to P only;
    // Q with 1 adds Q to Q and to P, and Q again with 0 takes it back out of P.
    if (flags & DMA_PREP_CONTINUE) {
        src = {dst[0], dst[1], dst[1]};
        coef = {0, 1, 0};
    }
    src.insert(src.end(), src_in.begin(), src_in.end());
    coef.insert(coef.end(), coef_in.begin(), coef_in.end());
    if (src.size() == 1) {
        src.push_back(src[0]);
        coef.push_back(0);
    }
    if (src.size() < 2 || src.size() > max_pq || coef.size() != src.size()) return nullptr;
    uint64_t p = flags & DMA_PREP_PQ_DISABLE_P ? dst[1] : dst[0];  // a valid address for a disabled result
    uint64_t q = flags & DMA_PREP_PQ_DISABLE_Q ? dst[0] : dst[1];
    unsigned frames = src.size() > 3 ? 2 : 1;
    return prep_pieces(c, "prep_dma_pq", len, frames, flags, true, [&](uint64_t hw, uint64_t ext, uint64_t off,
                                                                 uint64_t n, uint32_t ctl) {
        ctl |= uint32_t(OP_PQ) << DESC_OP_SHIFT | uint32_t(src.size() - 2) << 5;
        if (flags & DMA_PREP_PQ_DISABLE_P) ctl |= 1u << 11;
        if (flags & DMA_PREP_PQ_DISABLE_Q) ctl |= 1u << 12;
        write_desc(hw, uint32_t(n), ctl, src[0] + off, p + off);
        uint64_t coefs = 0;
        for (size_t i = 0; i < coef.size(); ++i) coefs |= uint64_t(coef[i]) << (8 * i);
        for (size_t i = 1; i < src.size() && i < 3; ++i) k_.store<uint64_t>(hw + 0x20 + 8 * (i - 1), src[i] + off);
        k_.store<uint64_t>(hw + 0x30, coefs);
        k_.store<uint64_t>(hw + 0x38, q + off);
        static const unsigned ext_slot[] = {0x00, 0x08, 0x10, 0x20, 0x28};  // sources 4-8
        for (size_t i = 3; i < src.size(); ++i) k_.store<uint64_t>(ext + ext_slot[i - 3], src[i] + off);
    });
}

dma_async_tx_descriptor* ioatdma_device::prep_dma_interrupt(dma_chan* c, unsigned flags) {
    return prep_pieces(c, "prep_dma_interrupt", 1, 1, flags | DMA_PREP_INTERRUPT, false,
                       [&](uint64_t hw, uint64_t, uint64_t, uint64_t, uint32_t ctl) {
                           write_desc(hw, 1, ctl | DESC_NULL, 0, 0);
                       });
}

}  // namespace ioatsim::sw
