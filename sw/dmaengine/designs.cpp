// The designs' per-use references and removal protocols (design.h,
// dmaengine-semantics.md §3-5). Every reference operation goes through
// shared_memory, which charges it by where its cache line is.
#include "sw/dmaengine/client.h"

#include <algorithm>

namespace ioatsim::sw {

// With per-use references a lookup takes a use of the channel it finds (in the
// client's own table under client_callbacks); the other designs hand out the raw
// pointer, as 3.4's dma_find_channel does.
dma_chan* dmaengine::dma_get_channel(dma_transaction_type cap, dma_client* cl) {
    if (!per_use()) return dma_find_channel(cap);
    k_.rcu_read_lock();
    dma_chan* c = nullptr;
    if (cfg_.design != dma_design::client_callbacks) {
        c = dma_find_channel(cap);
    } else if (cl) {
        k_.cost(find_channel_cost_);  // the client's own per-CPU slot
        unsigned cpu = k_.smp_processor_id();
        c = cpu < cl->table.size() ? cl->table[cpu] : nullptr;
    }
    if (c && !dma_chan_tryget(c)) c = nullptr;
    k_.rcu_read_unlock();
    return c;
}

bool dmaengine::dma_chan_tryget(dma_chan* c) {
    if (!per_use()) return true;  // no reference to take
    bool ok = true;
    k_.rcu_read_lock();
    switch (cfg_.design) {
    case dma_design::atomic:
        if ((ok = !c->dying)) mem_.atomic_add_return(c->uses, 1);
        break;
    case dma_design::percpu:
        if ((ok = !c->dying)) mem_.this_cpu_add(c->uses_pcpu, 1);
        break;
    default:  // client_callbacks: the bigref, of a held channel only
        if ((ok = !c->holders.empty())) c->ref.get();
        break;
    }
    k_.rcu_read_unlock();
    if (!ok) return false;
    ++ref_ops_;
    ++c->uses_shadow;
    if (c->drained)
        k_.rep().violation(k_.now(), "use_after_unregister",
                           c->name + ": a use taken after the remove path saw the channel drained (" +
                               k_.current_name() + ")");
    return true;
}

void dmaengine::dma_put_channel(dma_chan* c) {
    if (!per_use()) return;
    // The checker's count drops first: the shared update below may let other
    // tasks run (a line to fetch), and a removal that sums the counters then
    // must not meet a use the counters no longer hold.
    ++ref_ops_;
    --c->uses_shadow;
    switch (cfg_.design) {
    case dma_design::atomic:
        if (mem_.atomic_add_return(c->uses, -1) == 0 && c->dying) c->released.wake_up_all();
        break;
    case dma_design::percpu:
        mem_.this_cpu_add(c->uses_pcpu, -1);
        break;
    default:
        c->ref.put();
        break;
    }
}

// A channel of a device that left the dmaengine may be touched only while its
// memory is still there: with a use held (per-use designs), or under the designs
// that keep the memory until the clients let go.
void dmaengine::client_touch(dma_chan* c, const char* what) {
    if (!registered(c->device) && c->uses_shadow <= 0 && !traits(cfg_.design).memory_held)
        k_.rep().violation(k_.now(), "use_after_unregister",
                           c->name + " used after its device left the list (" + k_.current_name() + ", " + what + ")");
}

void dmaengine::dma_async_device_unregister(dma_device* d) {
    if (cfg_.design != dma_design::legacy) removing_.push_back(d);
    switch (cfg_.design) {
    case dma_design::legacy: unregister_legacy(d); break;
    case dma_design::atomic:
    case dma_design::percpu: unregister_wait(d); break;
    case dma_design::client_callbacks: unregister_callbacks(d); break;
    case dma_design::prep_null: unregister_keep(d); break;
    case dma_design::mainline:
    case dma_design::percpu_ref: unregister_mainline(d); break;
    }
    d->unregister_done = true;
}

// 3.4: off the list and rebalanced; a WARN if anyone still holds a channel; the
// per-CPU statistics freed unless the design keeps memory. No wait, no put:
// holders keep raw pointers.
void dmaengine::unregister_legacy(dma_device* d) {
    k_.mutex_lock(dma_list_mutex_);
    list_del(d);
    dma_channel_rebalance();
    unlock();
    for (dma_chan* c : d->channels) {
        if (c->client_count && !warned_unregister_) {
            warned_unregister_ = true;  // WARN_ONCE
            k_.printk("WARNING: at drivers/dma/dmaengine.c:831 dma_async_device_unregister+0xd5/0xf0()");
            k_.printk(strfmt("dma_async_device_unregister called while %d clients hold a reference",
                             c->client_count));
        }
        if (c->local && !traits(cfg_.design).memory_held) c->local->kfree(k_);
    }
}

// prep_null: 3.4's unregister, but the device and its channels stay until the
// last client lets go: dmaengine_put still reaches the removed device, and its
// last channel put drops the device reference [inference].
void dmaengine::unregister_keep(dma_device* d) {
    unregister_legacy(d);
    k_.printk("dmaengine: " + d->dev_name + ": unregistered; its memory stays until the last client lets go");
    device_put(d);  // the initial reference
}

// Waits until no use is left and no private grant is held.
void dmaengine::wait_for_uses(dma_chan* c) {
    kernel::waiting w(k_, "dma_async_device_unregister: the uses of " + c->name);
    if (cfg_.design == dma_design::atomic) {
        while (c->uses.value != 0 || c->private_) k_.wait_event_timeout(c->released, [&] {
            return c->uses.value == 0 && !c->private_;
        }, 1000 * MSEC);
    } else {
        while (mem_.percpu_sum(c->uses_pcpu) != 0 || c->private_) k_.schedule_timeout(percpu_poll_);
    }
    c->drained = true;
}

// 2012 series (atomic, percpu; patch 5 reconstructed): stop lookups, a grace
// period so every getter that saw the old table has its use counted, wait for
// the uses and private grants to go, then drop the public clients' holds (which
// frees the channel resources) and the statistics. With fail-back the driver
// first fails back whatever the channels have not finished.
void dmaengine::unregister_wait(dma_device* d) {
    k_.mutex_lock(dma_list_mutex_);
    list_del(d);
    for (dma_chan* c : d->channels) c->dying = true;
    dma_channel_rebalance();
    unlock();
    ktime_t t0 = k_.now();
    k_.synchronize_rcu();
    if (cfg_.fails_back())
        for (dma_chan* c : d->channels) d->terminate_all(c);
    for (dma_chan* c : d->channels) wait_for_uses(c);
    k_.mutex_lock(dma_list_mutex_);
    for (dma_chan* c : d->channels) {
        k_.printk(strfmt("dmaengine: %s: no users left after %llu us, dropping %d client references", c->name.c_str(),
                         (unsigned long long)((k_.now() - t0) / USEC), c->client_count));
        while (c->client_count > 0) dma_chan_put(c);
    }
    unlock();
    for (dma_chan* c : d->channels)
        if (c->local) c->local->kfree(k_);
}

// v5.6 (S9 ec7646c77, e81274cd6b52): each channel leaves the device's list, the
// device is marked private, so no lookup, request, get or put reaches it any
// more, and the tables are rebalanced; its initial reference is dropped. No
// wait: the channels' public holds are never dropped, so its memory stays as
// long as they last.
void dmaengine::unregister_mainline(dma_device* d) {
    k_.printk("dmaengine: " + d->dev_name + ": unregistered; memory is freed with the last reference");
    // __dma_async_device_channel_unregister frees each channel's per-CPU
    // statistics (free_percpu(chan->local)) whoever still holds the channel.
    for (dma_chan* c : d->channels)
        if (c->local) c->local->kfree(k_);
    k_.mutex_lock(dma_list_mutex_);
    d->unregistered = true;
    d->channels.clear();
    d->cap_mask.set(DMA_PRIVATE);
    dma_channel_rebalance();
    device_put(d);
    unlock();
}

// client_callbacks: the last bigref of a channel is gone.
void dmaengine::chan_use_released(dma_chan* c) {
    c->drained = true;
    c->released.wake_up_all();
}

// Off the list (under dma_list_mutex): from now on the device is unregistered.
void dmaengine::list_del(dma_device* d) {
    dma_device_list_.erase(std::remove(dma_device_list_.begin(), dma_device_list_.end(), d), dma_device_list_.end());
    d->unregistered = true;
}

// The device kref (prep_null, mainline, percpu_ref): the last put releases it.
void dmaengine::device_put(dma_device* d) {
    if (mem_.atomic_add_return(d->ref, -1) == 0) {
        dma_device_list_.erase(std::remove(dma_device_list_.begin(), dma_device_list_.end(), d),
                               dma_device_list_.end());
        d->device_release();
    }
}

void dmaengine::removal_done(dma_device* d) {
    removing_.erase(std::remove(removing_.begin(), removing_.end(), d), removing_.end());
}

void dmaengine::dma_device_freed(dma_device* d) {
    removal_done(d);
    last_release_ = k_.now();
    k_.rep().mark(last_release_);  // throughput is cut here when it is the last one
    k_.trace("dmaengine", "device.freed", json_obj().set("device", d->dev_name));
}

// 2006: the bigrefs go slow (fold after a grace period), each client hears
// DMA_RESOURCE_REMOVED and lets go of its hold, and the core waits for each
// channel's last reference before freeing its resources. With fail-back the
// driver fails back whatever the channels have not finished, after the grace
// period.
void dmaengine::unregister_callbacks(dma_device* d) {
    k_.mutex_lock(dma_list_mutex_);
    list_del(d);
    for (dma_chan* c : d->channels) {
        c->ref.kill();
        for (dma_client* cl : std::vector<dma_client*>(c->holders)) {
            k_.printk("dmaengine: " + c->name + ": DMA_RESOURCE_REMOVED to " + cl->name);
            client_drop(cl, c);
        }
    }
    unlock();
    k_.synchronize_rcu();
    if (cfg_.fails_back())
        for (dma_chan* c : d->channels) d->terminate_all(c);
    for (dma_chan* c : d->channels) {
        kernel::waiting w(k_, "dma_async_device_unregister: the bigref of " + c->name);
        while (!c->drained) k_.wait_event_timeout(c->released, [&] { return c->drained; }, 1000 * MSEC);
    }
    k_.mutex_lock(dma_list_mutex_);
    for (dma_chan* c : d->channels)
        if (d->chan_resources_allocated(c)) d->free_chan_resources(c);
    unlock();
    for (dma_chan* c : d->channels)
        if (c->local) c->local->kfree(k_);
}

}  // namespace ioatsim::sw
