// dma_cookie_t and the completion test that must stay right across wraparound
// (dmaengine-semantics.md §1.8).
#pragma once
#include <cstdint>

namespace ioatsim::sw {

using dma_cookie_t = int32_t;
constexpr dma_cookie_t DMA_MIN_COOKIE = 1;
constexpr dma_cookie_t DMA_MAX_COOKIE = INT32_MAX;

enum dma_status { DMA_SUCCESS, DMA_IN_PROGRESS, DMA_PAUSED, DMA_ERROR };

inline bool dma_submit_error(dma_cookie_t c) { return c < 0; }

// The next cookie after `last`, skipping the values below DMA_MIN_COOKIE on wrap.
inline dma_cookie_t dma_cookie_next(dma_cookie_t last) {
    int64_t next = int64_t(last) + 1;
    return next > DMA_MAX_COOKIE || next < DMA_MIN_COOKIE ? DMA_MIN_COOKIE : dma_cookie_t(next);
}

// Is `cookie` complete given the channel's last completed and last used cookies?
inline dma_status dma_async_is_complete(dma_cookie_t cookie, dma_cookie_t last_complete,
                                        dma_cookie_t last_used) {
    if (last_complete <= last_used) {
        if (cookie <= last_complete || cookie > last_used) return DMA_SUCCESS;
    } else {
        if (cookie <= last_complete && cookie > last_used) return DMA_SUCCESS;
    }
    return DMA_IN_PROGRESS;
}

}  // namespace ioatsim::sw
