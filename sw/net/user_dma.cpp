#include "sw/net/user_dma.h"

namespace ioatsim::sw {

int64_t sysctl_tcp_dma_copybreak = 4096;

dma_chan* net_dma_find_channel(dmaengine& dma) {
    dma_chan* c = dma.dma_find_channel(DMA_MEMCPY);
    if (c && c->device->copy_align) return nullptr;  // is_dma_copy_aligned(dev, 1, 1, 1) fails
    return c;
}

dma_chan* net_dma_get_channel(dmaengine& dma, dma_client* cl) {
    dma_chan* c = dma.dma_get_channel(DMA_MEMCPY, cl);
    if (c && c->device->copy_align) {
        dma.dma_put_channel(c);
        return nullptr;
    }
    return c;
}

}  // namespace ioatsim::sw
