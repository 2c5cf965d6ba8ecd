// The 2006 client API (client_callbacks): channels offered to and taken back
// from registered clients, each client keeping its own per-CPU choice.
#include "sw/dmaengine/client.h"

#include <algorithm>

namespace ioatsim::sw {

void dmaengine::dma_async_client_register(dma_client* cl) {
    k_.mutex_lock(dma_list_mutex_);
    clients_.push_back(cl);
    cl->table.assign(k_.nr_cpus(), nullptr);
    unlock();
}

void dmaengine::dma_async_client_unregister(dma_client* cl) {
    k_.mutex_lock(dma_list_mutex_);
    for (dma_chan* c : std::vector<dma_chan*>(cl->chans)) client_drop(cl, c);
    clients_.erase(std::remove(clients_.begin(), clients_.end(), cl), clients_.end());
    unlock();
}

void dmaengine::dma_async_client_chan_request(dma_client* cl) {
    k_.mutex_lock(dma_list_mutex_);
    for (dma_device* d : dma_device_list_)
        for (dma_chan* c : d->channels) client_offer(cl, c);
    unlock();
}

// DMA_RESOURCE_AVAILABLE: a client that acks takes a hold (one bigref reference,
// one module pin); the first hold allocates the channel's resources.
void dmaengine::client_offer(dma_client* cl, dma_chan* c) {
    dma_device* d = c->device;
    if ((d->cap_mask & cl->cap_mask) != cl->cap_mask || d->cap_mask.test(DMA_PRIVATE)) return;
    if (std::find(c->holders.begin(), c->holders.end(), cl) != c->holders.end()) return;  // DMA_DUP
    if (cl->accept && !cl->accept(c)) return;                                               // DMA_NAK
    if (c->client_count == 0) {
        if (d->owner && !d->owner->try_get()) return;
        if (d->alloc_chan_resources(c) < 0) {
            if (d->owner) d->owner->put();
            return;
        }
    } else if (d->owner) {
        d->owner->try_get();
    }
    ++c->client_count;
    c->ref.get();
    c->holders.push_back(cl);
    cl->chans.push_back(c);
    client_rebalance(cl);
    if (cl->notify) cl->notify(c, DMA_RESOURCE_AVAILABLE);
}

// DMA_RESOURCE_REMOVED (or the client unregistering): the client forgets the
// channel and rebalances; its hold goes. On a device being removed the resources
// stay until the last reference (the remove path frees them); otherwise the last
// hold frees them.
void dmaengine::client_drop(dma_client* cl, dma_chan* c) {
    cl->chans.erase(std::remove(cl->chans.begin(), cl->chans.end(), c), cl->chans.end());
    client_rebalance(cl);
    if (cl->notify) cl->notify(c, DMA_RESOURCE_REMOVED);
    c->holders.erase(std::remove(c->holders.begin(), c->holders.end(), cl), c->holders.end());
    --c->client_count;
    if (c->device->owner) c->device->owner->put();
    c->ref.put();
    if (!c->client_count && registered(c->device)) c->device->free_chan_resources(c);
}

// Round robin over the client's channels by online CPU, or, with NUMA affinity,
// the least used channel of the CPU's node (any node when it has none).
void dmaengine::client_rebalance(dma_client* cl) {
    std::fill(cl->table.begin(), cl->table.end(), nullptr);
    std::vector<int> used(cl->chans.size(), 0);
    size_t n = 0;
    for (unsigned cpu = 0; cpu < k_.nr_cpus() && !cl->chans.empty(); ++cpu) {
        if (!k_.cpu_online(cpu)) continue;
        size_t pick = n++ % cl->chans.size();
        if (cfg_.numa_affinity) {
            int best = -1;
            for (int local = 1; local >= 0 && best < 0; --local)
                for (size_t i = 0; i < cl->chans.size(); ++i) {
                    bool here = cl->chans[i]->device->node == int(k_.cpu_node(cpu));
                    if ((local && !here) || (best >= 0 && used[i] >= used[size_t(best)])) continue;
                    best = int(i);
                }
            pick = size_t(best);
        }
        ++used[pick];
        cl->table[cpu] = cl->chans[pick];
    }
}

}  // namespace ioatsim::sw
