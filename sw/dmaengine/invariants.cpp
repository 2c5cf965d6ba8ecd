// The checker's view of the dmaengine core: the invariants of
// dmaengine-semantics.md §1.12, asserted whenever dma_list_mutex is released.
#include "sw/dmaengine/client.h"

#include <algorithm>
#include <map>

namespace ioatsim::sw {

bool dmaengine::registered(const dma_device* d) const {
    return !d->unregistered && std::find(dma_device_list_.begin(), dma_device_list_.end(), d) != dma_device_list_.end();
}

void dmaengine::unlock() {
    k_.mutex_unlock(dma_list_mutex_);
    check_invariants();
}

void dmaengine::check_invariants() {
    report& rep = k_.rep();
    auto bad = [&](const char* kind, const std::string& what) { rep.violation(k_.now(), kind, what); };
    std::map<const module*, int> pins;
    const bool callbacks = cfg_.design == dma_design::client_callbacks;
    for (dma_device* d : dma_device_list_) {
        bool priv = d->cap_mask.test(DMA_PRIVATE);
        if (d->privatecnt > 0 && !priv) bad("private", d->dev_name + ": privatecnt without DMA_PRIVATE");
        int held = 0;
        for (dma_chan* c : d->channels) {
            bool allocated = d->chan_resources_allocated(c);
            held += c->client_count > 0;
            if ((c->client_count > 0) != allocated)
                bad("client_count", c->name + ": client_count " + std::to_string(c->client_count) +
                                        (allocated ? " with" : " without") + " resources allocated");
            if (callbacks && c->client_count != int(c->holders.size()))
                bad("client_count", c->name + ": client_count " + std::to_string(c->client_count) + " for " +
                                        std::to_string(c->holders.size()) + " client holds");
            if (!callbacks && !priv && allocated && c->client_count != dmaengine_ref_count_)
                bad("client_count", c->name + ": client_count " + std::to_string(c->client_count) +
                                        " != dmaengine_ref_count " + std::to_string(dmaengine_ref_count_));
            if (c->private_ && c->client_count != 1)
                bad("private", c->name + ": a private channel with client_count " + std::to_string(c->client_count));
            if (!priv && d->channels.size() > 1 && c->private_)
                bad("private", d->dev_name + ": a public multi-channel device with a private grant");
            pins[d->owner] += c->client_count;
        }
        // v5.6: the device kref is the initial one and one per channel in use (an
        // unregistered device's channels have left its list).
        if (traits(cfg_.design).memory_held && !d->unregistered && d->ref.value != 1 + held)
            bad("client_count", d->dev_name + ": device kref " + std::to_string(d->ref.value) + " for " +
                                    std::to_string(held) + " channels in use");
    }
    for (auto& [m, expected] : pins)
        if (m && m->refcnt < expected)
            bad("pins", m->name + ": " + std::to_string(m->refcnt) + " module references for " +
                            std::to_string(expected) + " channel references");
    if (callbacks) check_client_tables();
    // With no public client the table may hold stale pointers: put does not
    // rebalance, and nobody may look a channel up without a reference.
    if (!dmaengine_ref_count_) return;
    std::map<const dma_chan*, int> slots;
    for (int cap = 0; cap < DMA_TX_TYPE_END; ++cap)
        for (dma_chan* c : channel_table_[cap]) {
            if (!c) continue;
            ++slots[c];
            if (!registered(c->device) || c->device->cap_mask.test(DMA_PRIVATE) || !c->device->cap_mask.test(cap) ||
                c->client_count <= 0)
                bad("table", c->name + ": in channel_table but not a referenced public channel of a registered "
                                       "device with that capability");
        }
    for (auto& [c, n] : slots)
        if (registered(c->device) && c->table_count != n)
            bad("table", c->name + ": table_count " + std::to_string(c->table_count) + " for " + std::to_string(n) +
                             " table slots");
}

}  // namespace ioatsim::sw

namespace ioatsim::sw {

// Each client's slots point at channels it holds, of registered devices.
void dmaengine::check_client_tables() {
    for (dma_client* cl : clients_)
        for (dma_chan* c : cl->table)
            if (c && (!registered(c->device) ||
                      std::find(c->holders.begin(), c->holders.end(), cl) == c->holders.end()))
                k_.rep().violation(k_.now(), "table", cl->name + ": a slot points at " + c->name +
                                                          ", which it does not hold on a registered device");
}

void dmaengine::check_online_cpus() {
    auto complain = [&](unsigned cpu, const std::string& who) {
        k_.rep().violation(k_.now(), "table", strfmt("cpu%u is online with no channel in %s while channels are usable",
                                                     cpu, who.c_str()));
    };
    if (cfg_.design == dma_design::client_callbacks) {
        for (dma_client* cl : clients_)
            for (unsigned cpu = 0; cpu < k_.nr_cpus(); ++cpu)
                if (!cl->chans.empty() && k_.cpu_online(cpu) && !cl->table[cpu]) complain(cpu, cl->name + "'s table");
        return;
    }
    if (!dmaengine_ref_count_) return;
    bool usable = false;
    for (dma_device* d : dma_device_list_)
        for (dma_chan* c : d->channels) usable = usable || (!d->cap_mask.test(DMA_PRIVATE) && c->client_count > 0);
    for (unsigned cpu = 0; cpu < k_.nr_cpus() && usable; ++cpu)
        if (k_.cpu_online(cpu) && !channel_table_[DMA_MEMCPY][cpu]) complain(cpu, "channel_table");
}

}  // namespace ioatsim::sw
