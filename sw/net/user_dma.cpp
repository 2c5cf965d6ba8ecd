#include "sw/net/user_dma.h"

namespace ioatsim::sw {

int64_t sysctl_tcp_dma_copybreak = 4096;

dma_chan* net_dma_find_channel(dmaengine& dma) {
    dma_chan* c = dma.dma_find_channel(DMA_MEMCPY);
    if (c && c->device->copy_align) return nullptr;  // is_dma_copy_aligned(dev, 1, 1, 1) fails
    return c;
}

}  // namespace ioatsim::sw
