// The dmaengine core as in Linux 3.4 (dmaengine-semantics.md §1): devices and
// channels, capabilities, module-level reference counting, the per-CPU
// channel_table, private channels, cookies, issue/complete; plus the per-use
// references and removal protocols of the designs in design.h.
#pragma once
#include "sw/dmaengine/cookie.h"
#include "sw/dmaengine/design.h"
#include "sw/kernel/atomic.h"
#include "sw/kernel/kernel.h"
#include "sw/kernel/percpu_ref.h"
#include "sw/kernel/module.h"
#include "sw/kernel/slab.h"

#include <bitset>
#include <functional>
#include <string>
#include <vector>

namespace ioatsim::sw {

enum dma_transaction_type {
    DMA_MEMCPY, DMA_XOR, DMA_PQ, DMA_XOR_VAL, DMA_PQ_VAL, DMA_MEMSET, DMA_INTERRUPT, DMA_SG,
    DMA_PRIVATE, DMA_ASYNC_TX, DMA_SLAVE, DMA_CYCLIC, DMA_INTERLEAVE, DMA_TX_TYPE_END
};
using dma_cap_mask_t = std::bitset<DMA_TX_TYPE_END>;

enum dma_ctrl_flags : unsigned {
    DMA_PREP_INTERRUPT = 1u << 0, DMA_CTRL_ACK = 1u << 1, DMA_COMPL_SKIP_SRC_UNMAP = 1u << 2,
    DMA_COMPL_SKIP_DEST_UNMAP = 1u << 3, DMA_COMPL_SRC_UNMAP_SINGLE = 1u << 4,
    DMA_COMPL_DEST_UNMAP_SINGLE = 1u << 5, DMA_PREP_PQ_DISABLE_P = 1u << 6,
    DMA_PREP_PQ_DISABLE_Q = 1u << 7, DMA_PREP_CONTINUE = 1u << 8, DMA_PREP_FENCE = 1u << 9
};

struct dma_chan;
struct dma_device;
struct dma_client;
struct pci_dev;

// What a completion callback learns (later mainline's dmaengine_result).
enum dmaengine_tx_result { DMA_TRANS_NOERROR, DMA_TRANS_READ_FAILED, DMA_TRANS_WRITE_FAILED, DMA_TRANS_ABORTED };
struct dmaengine_result {
    dmaengine_tx_result result = DMA_TRANS_NOERROR;
    uint32_t residue = 0;
};

struct dma_async_tx_descriptor {
    dma_cookie_t cookie = 0;
    unsigned flags = 0;
    dma_chan* chan = nullptr;
    std::function<dma_cookie_t(dma_async_tx_descriptor*)> tx_submit;
    std::function<void()> callback;
    std::function<void(const dmaengine_result&)> callback_result;  // preferred when set
};

struct dma_tx_state { dma_cookie_t last = 0, used = 0; };

// Per-CPU channel statistics (chan->local); freed at unregister.
struct dma_chan_percpu : tracked {
    dma_chan_percpu() : tracked("per-CPU dma_chan_percpu") {}
    uint64_t memcpy_count = 0, bytes_transferred = 0;
};

struct dma_chan : tracked {
    dma_chan() : tracked("dma_chan") {}
    dma_device* device = nullptr;
    dma_cookie_t cookie = DMA_MIN_COOKIE;            // last handed out
    dma_cookie_t completed_cookie = DMA_MIN_COOKIE;
    int chan_id = 0;
    std::string name;                                // dma<dev_id>chan<chan_id>
    int client_count = 0;
    int table_count = 0;
    bool private_ = false;
    std::unique_ptr<dma_chan_percpu> local;
    // 3.4's struct dma_chan on x86-64: device, cookie, completed_cookie,
    // chan_id, dev, device_node, local, client_count and table_count fill its
    // first line, so every submit's cookie store and every issue_pending_all's
    // client_count load meet there.
    cacheline line;

    // Per-use references (designs.cpp); each design uses its own.
    bool dying = false;             // atomic, percpu: no new use once set (read under RCU)
    bool drained = false;           // the remove path saw no user left
    atomic_long uses;               // atomic
    percpu_long uses_pcpu;          // percpu
    percpu_ref ref;                 // percpu_ref; client_callbacks' bigref
    wait_queue released;            // woken when the last use goes
    int uses_shadow = 0;            // for the checker: uses currently held (no cost)
    std::vector<dma_client*> holders;  // client_callbacks: the clients that acked it
};

// A DMA driver's device: the operations a driver provides (3.4's function pointers).
struct dma_device : tracked {
    dma_device() : tracked("dma_device") {}
    module* owner = nullptr;  // the driver module the core pins per client reference
    // Whether the struct device still has its driver: 3.4 reaches the module
    // through it (dma_chan_to_owner: dev->driver->owner). Unset: always.
    std::function<bool()> dev_driver;
    std::string dev_name;  // the struct device name, e.g. "0000:00:16.0"
    // dma_device->dev: the device clients map their buffers on (3.4's
    // dmatest, dmaengine's memcpy helpers, async_tx); null for a test's fake.
    pci_dev* dev = nullptr;
    int dev_id = -1;
    dma_cap_mask_t cap_mask;
    std::vector<dma_chan*> channels;
    int privatecnt = 0;
    unsigned copy_align = 0;
    unsigned max_xor = 0, max_pq = 0;
    int node = -1;                  // NUMA node of the device, -1: any
    atomic_long ref;                // the device kref of the designs that keep memory (v5.6)
    bool unregistered = false;      // dma_async_device_unregister has begun
    bool unregister_done = false;   // ... and returned: what it waits for is over

    virtual int alloc_chan_resources(dma_chan* c) = 0;
    virtual void free_chan_resources(dma_chan* c) = 0;
    virtual dma_async_tx_descriptor* prep_dma_memcpy(dma_chan* c, uint64_t dst, uint64_t src,
                                                     uint64_t len, unsigned flags) = 0;
    // The RAID and fill operations, for devices advertising them.
    virtual dma_async_tx_descriptor* prep_dma_memset(dma_chan*, uint64_t dst, uint8_t value, uint64_t len,
                                                     unsigned flags) { return nullptr; }
    virtual dma_async_tx_descriptor* prep_dma_xor(dma_chan*, uint64_t dst, const std::vector<uint64_t>& src,
                                                  uint64_t len, unsigned flags) { return nullptr; }
    // dst[0] = P, dst[1] = Q; coef[i] multiplies src[i] into Q.
    virtual dma_async_tx_descriptor* prep_dma_pq(dma_chan*, const uint64_t dst[2], const std::vector<uint64_t>& src,
                                                 const std::vector<uint8_t>& coef, uint64_t len, unsigned flags) {
        return nullptr;
    }
    virtual dma_async_tx_descriptor* prep_dma_interrupt(dma_chan*, unsigned flags) { return nullptr; }
    virtual dma_status tx_status(dma_chan* c, dma_cookie_t cookie, dma_tx_state* st) = 0;
    virtual void issue_pending(dma_chan* c) = 0;
    // device_control(DMA_TERMINATE_ALL): stop the channel and fail back whatever
    // it has not finished (callbacks see DMA_TRANS_ABORTED, status DMA_ERROR).
    virtual void terminate_all(dma_chan*) {}
    // percpu_ref: the last reference is gone; the driver frees what it kept.
    virtual void device_release() {}
    // For the checker: whether the driver holds resources for the channel.
    virtual bool chan_resources_allocated(dma_chan* c) const { return c->client_count > 0; }
};

using dma_filter_fn = std::function<bool(dma_chan*)>;

class dmaengine {
public:
    explicit dmaengine(kernel& k, dmaengine_config cfg = {});
    const dmaengine_config& config() const { return cfg_; }
    dma_design design() const { return cfg_.design; }

    int dma_async_device_register(dma_device* d);
    void dma_async_device_unregister(dma_device* d);

    void dmaengine_get();
    void dmaengine_put();
    dma_chan* dma_find_channel(dma_transaction_type tx_type);
    dma_chan* dma_request_channel(const dma_cap_mask_t& mask, const dma_filter_fn& fn);
    void dma_release_channel(dma_chan* c);
    void dma_issue_pending_all();
    dma_status dma_sync_wait(dma_chan* c, dma_cookie_t cookie);

    // Per-use references (designs.cpp). dma_get_channel looks a channel up (in
    // the client's own table under client_callbacks) and takes a use of it; null
    // means "use the CPU". dma_chan_tryget takes a use of a channel the caller
    // already knows (a private channel, a dependency's). legacy takes none.
    dma_chan* dma_get_channel(dma_transaction_type cap, dma_client* cl = nullptr);
    bool dma_chan_tryget(dma_chan* c);
    void dma_put_channel(dma_chan* c);
    // Whether clients take a reference per use (design_traits::per_use), and
    // whether the driver and clients fail back unfinished work (the option).
    bool per_use() const { return traits(cfg_.design).per_use; }
    bool fails_back() const { return cfg_.fails_back(); }
    // A client is about to use `c` (prep, submit, status): checks the use is legal.
    void client_touch(dma_chan* c, const char* what);

    // The 2006 client API (client_callbacks): register, then ask for channels;
    // the client hears DMA_RESOURCE_AVAILABLE and DMA_RESOURCE_REMOVED per channel.
    void dma_async_client_register(dma_client* cl);
    void dma_async_client_unregister(dma_client* cl);
    void dma_async_client_chan_request(dma_client* cl);
    // A driver has freed everything it kept for `d`: for removal latency.
    void dma_device_freed(dma_device* d);
    ktime_t last_release() const { return last_release_; }
    bool removal_pending() const { return !removing_.empty(); }
    shared_memory& mem() { return mem_; }
    uint64_t ref_ops() const { return ref_ops_; }

    // Cookie helpers used by drivers (drivers/dma/dmaengine.h in 3.4).
    static dma_cookie_t dma_cookie_assign(dma_async_tx_descriptor* tx);
    void dma_cookie_complete(dma_async_tx_descriptor* tx);
    static dma_status dma_cookie_status(dma_chan* c, dma_cookie_t cookie, dma_tx_state* st);

    // dma_async_memcpy_buf_to_buf and friends: prep, submit, count in chan->local.
    dma_cookie_t dma_async_memcpy(dma_chan* c, uint64_t dst, uint64_t src, uint64_t len);

    // Client helpers (include/linux/dmaengine.h).
    static dma_cookie_t dmaengine_submit(dma_async_tx_descriptor* tx) { return tx->tx_submit(tx); }
    static void dma_async_issue_pending(dma_chan* c) { c->device->issue_pending(c); }
    static dma_status dma_async_is_tx_complete(dma_chan* c, dma_cookie_t cookie) {
        return c->device->tx_status(c, cookie, nullptr);
    }

    int ref_count() const { return dmaengine_ref_count_; }
    // Pins a module should hold: the client counts of its registered devices'
    // channels, and of devices whose removal is still under way.
    int pins_expected(const module* m) const;
    bool registered(const dma_device* d) const;
    // Unregistered, the unregister returned: what its channels still owe a
    // client is, for the checker at the end of a run, lost to the removal. A
    // removal still waiting for its users leaves their copies in flight.
    bool gone(const dma_device* d) const { return d->unregister_done; }
    void check_invariants();  // reports each broken invariant to the checker
    const std::vector<dma_device*>& device_list() const { return dma_device_list_; }
    dma_chan* table(dma_transaction_type cap, unsigned cpu) const { return channel_table_[cap][cpu]; }
    // The checker's view of the table after CPU hotplug: an online CPU with no
    // channel while usable ones exist.
    void check_online_cpus();

private:
    int dma_chan_get(dma_chan* c);
    void dma_chan_put(dma_chan* c);
    module* dma_chan_to_owner(dma_chan* c);
    void balance_ref_count(dma_chan* c);
    template <class F> void for_each_table_candidate(dma_transaction_type cap, F fn);
    dma_chan* nth_chan(dma_transaction_type cap, int n);
    dma_chan* min_chan(dma_transaction_type cap, unsigned cpu);
    void dma_channel_rebalance();
    void cpu_event(unsigned cpu, bool online);
    // The designs' removal protocols.
    void unregister_legacy(dma_device* d);
    void unregister_wait(dma_device* d);
    void list_del(dma_device* d);
    void unregister_keep(dma_device* d);
    void unregister_mainline(dma_device* d);
    void unregister_callbacks(dma_device* d);
    void wait_for_uses(dma_chan* c);
    void chan_use_released(dma_chan* c);
    void device_put(dma_device* d);
    void removal_done(dma_device* d);
    void client_offer(dma_client* cl, dma_chan* c);
    void client_drop(dma_client* cl, dma_chan* c);
    void client_rebalance(dma_client* cl);
    void check_client_tables();
    dma_chan* private_candidate(const dma_cap_mask_t& mask, dma_device* d, const dma_filter_fn& fn);
    static bool table_cap(int cap);
    void unlock();  // releases dma_list_mutex and checks the invariants

    kernel& k_;
    dmaengine_config cfg_;
    shared_memory mem_;
    const ktime_t find_channel_cost_, list_walk_cost_, cpu_relax_, percpu_poll_;  // costs.h
    uint64_t ref_ops_ = 0;
    ktime_t last_release_ = 0;
    std::vector<dma_client*> clients_;    // client_callbacks
    std::vector<dma_device*> removing_;   // off the list, their holds not yet dropped
    mutex dma_list_mutex_;
    std::vector<dma_device*> dma_device_list_;
    int dmaengine_ref_count_ = 0;
    int next_dev_id_ = 0;
    bool warned_unregister_ = false;
    std::vector<std::vector<dma_chan*>> channel_table_;  // [cap][cpu]
    std::vector<std::vector<cacheline>> table_lines_;    // each entry in its CPU's per-CPU area
};

}  // namespace ioatsim::sw
