// The designs' per-use references and removal protocols (design.h,
// dmaengine-semantics.md §3-5). Every reference operation goes through
// shared_memory, which charges it by where its cache line is.
#include "sw/dmaengine/client.h"

#include <algorithm>

namespace ioatsim::sw {

namespace {
// percpu: how often removal sums the counters again (usleep_range-like) [estimate].
constexpr ktime_t PERCPU_POLL = 20 * USEC;
}  // namespace

dma_chan* dmaengine::dma_get_channel(dma_transaction_type cap, dma_client* cl) {
    k_.rcu_read_lock();
    dma_chan* c = nullptr;
    if (cfg_.design != dma_design::client_callbacks) {
        c = dma_find_channel(cap);
    } else if (cl) {
        k_.cost(FIND_CHANNEL_COST);  // the client's own per-CPU slot
        unsigned cpu = k_.smp_processor_id();
        c = cpu < cl->table.size() ? cl->table[cpu] : nullptr;
    }
    if (c && !dma_chan_tryget(c)) c = nullptr;
    k_.rcu_read_unlock();
    return c;
}

bool dmaengine::dma_chan_tryget(dma_chan* c) {
    bool ok = true;
    k_.rcu_read_lock();
    switch (cfg_.design) {
    case dma_design::legacy:
        k_.rcu_read_unlock();
        return true;  // no reference to take
    case dma_design::atomic:
        if ((ok = !c->dying)) mem_.atomic_add_return(c->uses, 1);
        break;
    case dma_design::percpu:
        if ((ok = !c->dying)) mem_.this_cpu_add(c->uses_pcpu, 1);
        break;
    case dma_design::percpu_ref:
        ok = c->ref.tryget_live();
        break;
    case dma_design::client_callbacks:
        if ((ok = !c->holders.empty())) c->ref.get();  // the bigref: only a held channel
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
    switch (cfg_.design) {
    case dma_design::legacy:
        return;
    case dma_design::atomic:
        if (mem_.atomic_add_return(c->uses, -1) == 0 && c->dying) c->released.wake_up_all();
        break;
    case dma_design::percpu:
        mem_.this_cpu_add(c->uses_pcpu, -1);
        break;
    case dma_design::percpu_ref:
    case dma_design::client_callbacks:
        c->ref.put();
        break;
    }
    ++ref_ops_;
    --c->uses_shadow;
}

// A client may use a channel of a device off the list only while it holds a use.
void dmaengine::client_touch(dma_chan* c, const char* what) {
    if (!registered(c->device) && c->uses_shadow <= 0)
        k_.rep().violation(k_.now(), "use_after_unregister",
                           c->name + " used after its device left the list (" + k_.current_name() + ", " + what + ")");
}

void dmaengine::dma_async_device_unregister(dma_device* d) {
    if (cfg_.design != dma_design::legacy) removing_.push_back(d);
    switch (cfg_.design) {
    case dma_design::legacy: unregister_legacy(d); break;
    case dma_design::atomic:
    case dma_design::percpu: unregister_wait(d); break;
    case dma_design::percpu_ref: unregister_release(d); break;
    case dma_design::client_callbacks: unregister_callbacks(d); break;
    }
}

// 3.4: off the list and rebalanced; a WARN if anyone still holds a channel; the
// per-CPU statistics freed. No wait, no put: holders keep raw pointers.
void dmaengine::unregister_legacy(dma_device* d) {
    k_.mutex_lock(dma_list_mutex_);
    dma_device_list_.erase(std::remove(dma_device_list_.begin(), dma_device_list_.end(), d), dma_device_list_.end());
    dma_channel_rebalance();
    unlock();
    for (dma_chan* c : d->channels) {
        if (c->client_count && !warned_unregister_) {
            warned_unregister_ = true;  // WARN_ONCE
            k_.printk("WARNING: at drivers/dma/dmaengine.c:831 dma_async_device_unregister+0xd5/0xf0()");
            k_.printk(strfmt("dma_async_device_unregister called while %d clients hold a reference",
                             c->client_count));
        }
        if (c->local) c->local->kfree(k_);
    }
}

// Waits until no use is left: the uses drop as holders finish, which the
// terminate_all before the wait makes prompt even when the hardware is gone.
void dmaengine::wait_for_uses(dma_chan* c) {
    kernel::waiting w(k_, "dma_async_device_unregister: the uses of " + c->name);
    if (cfg_.design == dma_design::atomic) {
        while (c->uses.value != 0 || c->private_) k_.wait_event_timeout(c->released, [&] {
            return c->uses.value == 0 && !c->private_;
        }, 1000 * MSEC);
    } else {
        while (mem_.percpu_sum(c->uses_pcpu) != 0 || c->private_) k_.schedule_timeout(PERCPU_POLL);
    }
    c->drained = true;
}

// 2012 series (atomic, percpu): stop lookups, a grace period so every getter
// that saw the old table has its use counted, fail back in-flight work, wait for
// the uses and private grants to go, then drop the public clients' holds (which
// frees the channel resources) and the statistics.
void dmaengine::unregister_wait(dma_device* d) {
    k_.mutex_lock(dma_list_mutex_);
    dma_device_list_.erase(std::remove(dma_device_list_.begin(), dma_device_list_.end(), d), dma_device_list_.end());
    for (dma_chan* c : d->channels) c->dying = true;
    dma_channel_rebalance();
    unlock();
    ktime_t t0 = k_.now();
    k_.synchronize_rcu();
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

// Mainline (percpu_ref): the driver has already shut the channels down. Off the
// list, kill every channel's percpu_ref and drop the device's initial kref; no
// wait. A channel's last use drops the public holds and the device reference its
// percpu_ref held (chan_use_released); the last device reference calls the
// driver's device_release.
void dmaengine::unregister_release(dma_device* d) {
    k_.mutex_lock(dma_list_mutex_);
    dma_device_list_.erase(std::remove(dma_device_list_.begin(), dma_device_list_.end(), d), dma_device_list_.end());
    dma_channel_rebalance();
    unlock();
    for (dma_chan* c : d->channels) c->ref.kill();
    k_.printk("dmaengine: " + d->dev_name + ": unregistered; memory is freed with the last reference");
    device_put(d);
}

void dmaengine::chan_use_released(dma_chan* c) {
    c->drained = true;
    if (cfg_.design == dma_design::client_callbacks) {
        c->released.wake_up_all();
        return;
    }
    k_.queue_work(wq_, [this, c] {
        k_.mutex_lock(dma_list_mutex_);
        while (c->client_count > 0 && !c->private_) dma_chan_put(c);  // private grants go with their holder
        unlock();
        if (c->local) c->local->kfree(k_);
        device_put(c->device);  // the reference the channel's live percpu_ref held
    });
}

void dmaengine::device_put(dma_device* d) {
    if (mem_.atomic_add_return(d->ref, -1) == 0) d->device_release();
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
// DMA_RESOURCE_REMOVED and lets go of its hold, in-flight work fails back, and
// the core waits for each channel's last reference before freeing its resources.
void dmaengine::unregister_callbacks(dma_device* d) {
    k_.mutex_lock(dma_list_mutex_);
    dma_device_list_.erase(std::remove(dma_device_list_.begin(), dma_device_list_.end(), d), dma_device_list_.end());
    for (dma_chan* c : d->channels) {
        c->ref.kill();
        for (dma_client* cl : std::vector<dma_client*>(c->holders)) {
            k_.printk("dmaengine: " + c->name + ": DMA_RESOURCE_REMOVED to " + cl->name);
            client_drop(cl, c);
        }
    }
    unlock();
    k_.synchronize_rcu();
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
