// net/core/user_dma.c of 3.4: the copy-offload threshold that DMA drivers tune and
// the channel lookup TCP uses.
#pragma once
#include "sw/dmaengine/dmaengine.h"

namespace ioatsim::sw {

// Lower limit, in bytes, of socket reads offloaded to a DMA engine; 4096 by
// default, and each ioatdma probe sets its version's value (v3: 262144).
extern int64_t sysctl_tcp_dma_copybreak;
inline void ioat_set_tcp_copy_break(int64_t v) { sysctl_tcp_dma_copybreak = v; }

// dma_find_channel(DMA_MEMCPY), refused when the device's copy_align would reject
// a one-byte copy at offset 1. No reference is taken.
dma_chan* net_dma_find_channel(dmaengine& dma);
// The same with a use of the channel taken (designs other than legacy; under
// client_callbacks from the client's own table). Drop it with dma_put_channel.
dma_chan* net_dma_get_channel(dmaengine& dma, dma_client* cl);

}  // namespace ioatsim::sw
