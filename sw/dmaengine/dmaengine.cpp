#include "sw/dmaengine/client.h"
#include "sw/dma-mapping/dma_api.h"

#include <algorithm>

namespace ioatsim::sw {

dmaengine::dmaengine(kernel& k, dmaengine_config cfg)
    : k_(k), cfg_(cfg), mem_(k), find_channel_cost_(k.timing("cost.dma_find_channel")),
      list_walk_cost_(k.timing("cost.dma_list_walk")), cpu_relax_(k.timing("cost.cpu_relax")),
      percpu_poll_(k.timing("dmaengine.percpu_poll")), channel_table_(DMA_TX_TYPE_END) {
    for (auto& t : channel_table_) t.assign(k.nr_cpus(), nullptr);
    table_lines_.resize(DMA_TX_TYPE_END);
    for (auto& t : table_lines_) t.resize(k.nr_cpus());
    dma_list_mutex_.name = "dma_list_mutex";
    k.register_cpu_notifier([this](unsigned cpu, bool online) { cpu_event(cpu, online); });
}

// 3.4 and v5.6 have no CPU notifier: a CPU offline at the last rebalance keeps
// an empty slot. The 2012 series (patch 2) and the 2006 clients rebalance; the
// checker looks either way.
void dmaengine::cpu_event(unsigned cpu, bool online) {
    if (traits(cfg_.design).cpu_notifier) {
        k_.mutex_lock(dma_list_mutex_);
        dma_channel_rebalance();
        for (dma_client* cl : clients_) client_rebalance(cl);
        unlock();
    }
    if (online) check_online_cpus();
}

// INTERRUPT, PRIVATE and SLAVE are properties, not operations: no table for them.
bool dmaengine::table_cap(int cap) {
    return cap != DMA_INTERRUPT && cap != DMA_PRIVATE && cap != DMA_SLAVE;
}

dma_cookie_t dmaengine::dma_cookie_assign(dma_async_tx_descriptor* tx) {
    dma_chan* c = tx->chan;
    dma_cookie_t cookie = dma_cookie_next(c->cookie);
    tx->cookie = c->cookie = cookie;
    return cookie;
}

void dmaengine::dma_cookie_complete(dma_async_tx_descriptor* tx) {
    dma_chan* c = tx->chan;
    if (tx->cookie >= DMA_MIN_COOKIE &&
        dma_async_is_complete(tx->cookie, c->completed_cookie, c->cookie) == DMA_SUCCESS)
        k_.rep().violation(k_.now(), "cookie_order", c->name + ": cookie " + std::to_string(tx->cookie) +
                                                         " completes after a later one");
    if (tx->cookie < DMA_MIN_COOKIE) {
        k_.printk("BUG: dma_cookie_complete on a descriptor that was not submitted");
        k_.rep().violation(k_.now(), "cookie_order", "completion of an unsubmitted descriptor");
        return;
    }
    tx->chan->completed_cookie = tx->cookie;
    tx->cookie = 0;
}

dma_status dmaengine::dma_cookie_status(dma_chan* c, dma_cookie_t cookie, dma_tx_state* st) {
    dma_cookie_t used = c->cookie, complete = c->completed_cookie;
    if (st) *st = {complete, used};
    return dma_async_is_complete(cookie, complete, used);
}

// v5.6 keeps the module in the dma_device; 3.4 follows dev->driver, which unbind
// has set to NULL: the dereference oopses ("the current code can kill the kernel
// when the driver is unbound", dmaengine-semantics.md §5.2).
module* dmaengine::dma_chan_to_owner(dma_chan* c) {
    dma_device* d = c->device;
    if (!traits(cfg_.design).owner_in_device && d->dev_driver && !d->dev_driver())
        k_.oops("unable to handle kernel NULL pointer dereference in dma_chan_to_owner (" + c->name + ": " +
                d->dev_name + " has no driver)");
    return d->owner;
}

// A channel reference pins the driver's module; the first allocates resources.
int dmaengine::dma_chan_get(dma_chan* c) {
    module* owner = dma_chan_to_owner(c);
    k_.touch(c->line, coh_op::store);  // client_count
    if (c->client_count) {
        if (owner) owner->try_get();  // __module_get: already pinned, cannot fail
        ++c->client_count;
        return 0;
    }
    if (owner && !owner->try_get()) return -19;  // -ENODEV: the module is going away
    ++c->client_count;
    int rc = c->device->alloc_chan_resources(c);
    if (rc < 0) {
        c->client_count = 0;
        if (owner) owner->put();
        return rc;
    }
    if (traits(cfg_.design).memory_held) mem_.atomic_add_return(c->device->ref, 1);  // kref_get on 0 -> 1
    if (!c->device->cap_mask.test(DMA_PRIVATE)) balance_ref_count(c);
    return 0;
}

void dmaengine::balance_ref_count(dma_chan* c) {
    while (c->client_count < dmaengine_ref_count_) {
        if (module* owner = dma_chan_to_owner(c)) owner->try_get();
        ++c->client_count;
    }
}

void dmaengine::dma_chan_put(dma_chan* c) {
    if (!c->client_count) return;  // this channel failed alloc_chan_resources
    module* owner = dma_chan_to_owner(c);
    k_.touch(c->line, coh_op::store);
    --c->client_count;
    if (owner) owner->put();
    if (c->client_count) return;
    if (c->uses_shadow > 0)
        k_.rep().violation(k_.now(), "client_count", c->name + ": resources freed while " +
                                                         std::to_string(c->uses_shadow) + " uses are held");
    c->device->free_chan_resources(c);
    if (traits(cfg_.design).memory_held) device_put(c->device);  // kref_put on 1 -> 0
}

int dmaengine::pins_expected(const module* m) const {
    int n = 0;
    for (const auto* list : {&dma_device_list_, &removing_})
        for (dma_device* d : *list)
            if (d->owner == m)
                for (dma_chan* c : d->channels) n += c->client_count;
    return n;
}

// As 3.4's dma_async_memcpy_buf_to_pg, which net_dma's dma_memcpy_to_iovec
// calls for the skb's data and a pinned user page: the kernel buffer mapped
// single TO_DEVICE, the page FROM_DEVICE, both on the channel's device and not
// checked with dma_mapping_error; the driver unmaps both at completion
// (DMA_COMPL_SRC_UNMAP_SINGLE, the destination as a page); a failed prep
// unmaps them here. [simplification, as before: the model's copy is one per
// segment, not cut at the user buffer's page boundaries as the iovec walk is]
dma_cookie_t dmaengine::dma_async_memcpy(dma_chan* c, uint64_t dst, uint64_t src, uint64_t len) {
    client_touch(c, "dma_async_memcpy");
    pci_dev* dev = c->device->dev;
    const dma_addr_t dma_src = dma_map_single(dev, src, len, DMA_TO_DEVICE);
    const dma_addr_t dma_dest = dma_map_page(dev, phys_page(dst), phys_offset(dst), len, DMA_FROM_DEVICE);
    dma_async_tx_descriptor* tx =
        c->device->prep_dma_memcpy(c, dma_dest, dma_src, len, DMA_CTRL_ACK | DMA_COMPL_SRC_UNMAP_SINGLE);
    if (!tx) {
        dma_unmap_single(dev, dma_src, len, DMA_TO_DEVICE);
        dma_unmap_page(dev, dma_dest, len, DMA_FROM_DEVICE);
        return -12;  // -ENOMEM
    }
    tx->callback = nullptr;
    dma_cookie_t cookie = dmaengine_submit(tx);
    if (c->local && c->local->touch(k_, "dma_async_memcpy")) {
        c->local->bytes_transferred += len;
        ++c->local->memcpy_count;
    }
    return cookie;
}

// Visits the channels a table may point at (public devices with `cap`, channels
// with clients), charging the walk, until `fn` returns false.
template <class F>
void dmaengine::for_each_table_candidate(dma_transaction_type cap, F fn) {
    for (dma_device* d : dma_device_list_) {
        if (!d->cap_mask.test(cap) || d->cap_mask.test(DMA_PRIVATE)) continue;
        for (dma_chan* c : d->channels) {
            k_.cost(list_walk_cost_);
            if (c->client_count && !fn(c)) return;
        }
    }
}

// The n-th eligible channel in list order, or the least used one when there are
// fewer (n == -1: always the least used).
dma_chan* dmaengine::nth_chan(dma_transaction_type cap, int n) {
    dma_chan *ret = nullptr, *min = nullptr;
    for_each_table_candidate(cap, [&](dma_chan* c) {
        if (!min || c->table_count < min->table_count) min = c;
        if (n-- == 0) ret = c;
        return !ret;
    });
    if (!ret) ret = min;
    if (ret) ++ret->table_count;
    return ret;
}

// The least used eligible channel of a device on the CPU's node, or of any node
// when the node has none (min_chan).
dma_chan* dmaengine::min_chan(dma_transaction_type cap, unsigned cpu) {
    dma_chan *local = nullptr, *any = nullptr;
    for_each_table_candidate(cap, [&](dma_chan* c) {
        if (!any || c->table_count < any->table_count) any = c;
        if (c->device->node == int(k_.cpu_node(cpu)) && (!local || c->table_count < local->table_count)) local = c;
        return true;
    });
    dma_chan* ret = local ? local : any;
    if (ret) ++ret->table_count;
    return ret;
}

// Every online CPU's slot, round robin (3.4) or by node; offline CPUs stay empty.
void dmaengine::dma_channel_rebalance() {
    for (int cap = 0; cap < DMA_TX_TYPE_END; ++cap)
        std::fill(channel_table_[cap].begin(), channel_table_[cap].end(), nullptr);
    for (dma_device* d : dma_device_list_) {
        if (d->cap_mask.test(DMA_PRIVATE)) continue;
        for (dma_chan* c : d->channels) c->table_count = 0;
    }
    if (!dmaengine_ref_count_) return;
    int n = 0;
    for (int cap = 0; cap < DMA_TX_TYPE_END; ++cap) {
        if (!table_cap(cap)) continue;
        for (unsigned cpu = 0; cpu < k_.nr_cpus(); ++cpu) {
            if (!k_.cpu_online(cpu)) continue;
            k_.touch(table_lines_[cap][cpu], coh_op::store);  // another CPU's per-CPU entry
            channel_table_[cap][cpu] = cfg_.numa_affinity ? min_chan(dma_transaction_type(cap), cpu)
                                                          : nth_chan(dma_transaction_type(cap), k_.nr_cpus() > 1 ? n++ : -1);
        }
    }
}

dma_chan* dmaengine::dma_find_channel(dma_transaction_type tx_type) {
    k_.cost(find_channel_cost_);
    k_.touch(table_lines_[tx_type][k_.smp_processor_id()], coh_op::load);  // this_cpu_read
    return channel_table_[tx_type][k_.smp_processor_id()];
}

// An RCU walk of the list (3.4): it may change under the walk (issue_pending
// can wait for a lock), so the walk goes by position and may miss a device that
// leaves meanwhile, as an RCU reader may.
void dmaengine::dma_issue_pending_all() {
    k_.rcu_read_lock();
    for (size_t i = 0; i < dma_device_list_.size(); ++i) {
        dma_device* d = dma_device_list_[i];
        if (d->cap_mask.test(DMA_PRIVATE)) continue;
        for (size_t j = 0; j < d->channels.size(); ++j) {
            k_.touch(d->channels[j]->line, coh_op::load);  // client_count
            if (d->channels[j]->client_count) d->issue_pending(d->channels[j]);
        }
    }
    k_.rcu_read_unlock();
}

void dmaengine::dmaengine_get() {
    k_.mutex_lock(dma_list_mutex_);
    ++dmaengine_ref_count_;
    for (dma_device* d : dma_device_list_) {
        if (d->cap_mask.test(DMA_PRIVATE)) continue;
        for (dma_chan* c : d->channels) {
            int rc = dma_chan_get(c);
            if (rc < 0)
                k_.printk(strfmt("dmaengine: failed to get %s: (%d)", c->name.c_str(), rc));
        }
    }
    if (dmaengine_ref_count_ == 1) dma_channel_rebalance();
    unlock();
}

void dmaengine::dmaengine_put() {
    k_.mutex_lock(dma_list_mutex_);
    if (--dmaengine_ref_count_ < 0) {
        k_.printk("BUG: dmaengine_put without a matching dmaengine_get");
        k_.rep().violation(k_.now(), "client_count", "dmaengine_ref_count below zero");
        dmaengine_ref_count_ = 0;
    }
    for (dma_device* d : std::vector<dma_device*>(dma_device_list_)) {
        if (d->cap_mask.test(DMA_PRIVATE)) continue;
        for (dma_chan* c : d->channels) dma_chan_put(c);
    }
    // prep_null keeps a removed device reachable, so its last client frees it.
    if (cfg_.design == dma_design::prep_null)
        for (dma_device* d : std::vector<dma_device*>(removing_))
            for (dma_chan* c : d->channels) dma_chan_put(c);
    unlock();
}

dma_chan* dmaengine::private_candidate(const dma_cap_mask_t& mask, dma_device* d,
                                       const dma_filter_fn& fn) {
    if ((d->cap_mask & mask) != mask) return nullptr;
    // A public multi-channel device with any public reference is not split.
    if (!d->cap_mask.test(DMA_PRIVATE) && d->channels.size() > 1)
        for (dma_chan* c : d->channels)
            if (c->client_count) return nullptr;
    for (dma_chan* c : d->channels) {
        if (c->client_count) continue;
        if (fn && !fn(c)) continue;
        return c;
    }
    return nullptr;
}

dma_chan* dmaengine::dma_request_channel(const dma_cap_mask_t& mask, const dma_filter_fn& fn) {
    dma_chan* found = nullptr;
    k_.mutex_lock(dma_list_mutex_);
    for (dma_device* d : dma_device_list_) {
        dma_chan* c = private_candidate(mask, d, fn);
        if (!c) continue;
        d->cap_mask.set(DMA_PRIVATE);  // before the get, so balance_ref_count is skipped
        ++d->privatecnt;
        if (dma_chan_get(c) == 0) {
            c->private_ = true;
            found = c;
            break;
        }
        if (--d->privatecnt == 0) d->cap_mask.reset(DMA_PRIVATE);
    }
    unlock();
    return found;
}

void dmaengine::dma_release_channel(dma_chan* c) {
    k_.mutex_lock(dma_list_mutex_);
    if (c->client_count != 1)
        k_.printk(strfmt("WARNING: dma_release_channel: chan reference count %d != 1",
                         c->client_count));
    // Bookkeeping first: under percpu_ref the put may free the device and channel.
    c->private_ = false;
    if (--c->device->privatecnt == 0) c->device->cap_mask.reset(DMA_PRIVATE);
    c->released.wake_up_all();  // a remove path may wait for the grant
    dma_chan_put(c);
    unlock();
}

dma_status dmaengine::dma_sync_wait(dma_chan* c, dma_cookie_t cookie) {
    ktime_t deadline = k_.now() + 5000 * MSEC;
    dma_async_issue_pending(c);
    dma_status st = DMA_IN_PROGRESS;
    kernel::waiting w(k_, strfmt("dma_sync_wait(%s, cookie %d)", c->name.c_str(), cookie));
    k_.poll([&] {
        if ((st = dma_async_is_tx_complete(c, cookie)) != DMA_IN_PROGRESS) return true;
        if (k_.now() > deadline) return true;
        k_.cost(cpu_relax_);  // 3.4 has no cond_resched here
        return false;
    }, deadline);
    if (st == DMA_IN_PROGRESS) {
        k_.printk("dma_sync_wait: timeout!");
        return DMA_ERROR;
    }
    return st;
}

int dmaengine::dma_async_device_register(dma_device* d) {
    // DMA_ASYNC_TX: every operation async_tx may ask for (its VAL checks are
    // disabled for IOAT by Kconfig).
    bool async = true;
    for (int cap : {DMA_INTERRUPT, DMA_MEMCPY, DMA_MEMSET, DMA_XOR, DMA_PQ}) async = async && d->cap_mask.test(cap);
    if (async) d->cap_mask.set(DMA_ASYNC_TX);
    d->dev_id = next_dev_id_++;
    int id = 0;
    for (dma_chan* c : d->channels) {
        c->device = d;
        c->chan_id = id++;
        c->name = strfmt("dma%dchan%d", d->dev_id, c->chan_id);
        c->set_name(c->name);
        c->client_count = 0;
        c->local = std::make_unique<dma_chan_percpu>();
        c->local->set_name(c->name + "->local");
        c->ref.init(mem_, [this, c] { chan_use_released(c); });
        c->uses_pcpu.v.assign(k_.nr_cpus(), 0);
    }
    d->ref.value = 1;  // the initial kref, dropped by unregister (designs that keep memory)
    k_.mutex_lock(dma_list_mutex_);
    if (dmaengine_ref_count_ && !d->cap_mask.test(DMA_PRIVATE))
        for (dma_chan* c : d->channels)
            if (dma_chan_get(c) < 0) k_.printk("dmaengine: failed to get " + c->name);
    dma_device_list_.push_back(d);
    if (d->cap_mask.test(DMA_PRIVATE)) ++d->privatecnt;
    dma_channel_rebalance();
    for (dma_client* cl : clients_)
        for (dma_chan* c : d->channels) client_offer(cl, c);
    unlock();
    return 0;
}


}  // namespace ioatsim::sw
