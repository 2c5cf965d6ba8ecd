// How ioatdma lets go of a device, as each design's era did: the 2012 remove
// order (ioat-hardware.md §10.1); v5.6's in-use unbind (§10.3: ioat_shutdown
// first, free on the last reference), with idxd's submission gate under
// percpu_ref; prep_null's driver that fails every prep after removal and keeps
// its memory until the last client lets go [inference]. Plus the fail-back
// option: DMA_TERMINATE_ALL, which completes what a channel has not finished
// with DMA_TRANS_ABORTED.
#include "sw/drivers/ioat/ioatdma.h"

#include "models/ioat/regs.h"

namespace ioatsim::sw {
using namespace ioat;

namespace {
constexpr ktime_t SUSPEND_TIMEOUT = 100 * MSEC;
ioat_chan& to_ioat(dma_chan* c) { return *static_cast<ioat_chan*>(c); }
}  // namespace

void ioatdma_device::remove() {
    kernel::in_function in(k_, "ioat_remove");
    log("Removing dma and dca services");
    const design_traits t = traits(dma_.design());
    if (!t.shutdown_first) dca_remove();  // 3.4: right after the farewell
    if (t.shutdown_first) remove_2019();
    else if (t.memory_held) remove_keep();
    else remove_2012();
}

// Interrupts off, unregister, destroy the pools, empty the channel list; then the
// device-managed resources go (the IRQ, the BAR mapping, Bus Master: pci.cpp). With legacy nothing waits for the clients still
// holding channels; the 2012 and 2006 designs' unregister returns only when no
// one does, so the pools are empty by then. With fail-back and no per-use
// references the driver fails its channels back first (the core does it for the
// designs that wait).
void ioatdma_device::remove_2012() {
    if (dma_.fails_back() && !dma_.per_use())
        for (dma_chan* c : channels) terminate_all(c);
    k_.writeb(0, reg_base_ + INTRCTRL);
    dma_.dma_async_device_unregister(this);
    desc_pool_->destroy();
    completion_pool_->destroy();
    channels.clear();
    for (auto& c : chans_) c->kfree(k_);
    kfree(k_);
    dma_.dma_device_freed(this);
}

// prep_null: every channel down (prep returns NULL from now on), interrupts
// off, unregister; the memory goes with the last reference [inference].
void ioatdma_device::remove_keep() {
    for (dma_chan* dc : channels) {
        ioat_chan& c = to_ioat(dc);
        if (dma_.fails_back()) terminate_all(dc);
        k_.spin_lock(c.prep_lock);
        c.down = true;
        k_.spin_unlock(c.prep_lock);
    }
    k_.writeb(0, reg_base_ + INTRCTRL);
    dma_.dma_async_device_unregister(this);
}

// v5.6: ioat_shutdown first, so new preps fail; unregister does not wait;
// device_release frees the memory once the last reference is gone.
void ioatdma_device::remove_2019() {
    shutdown();
    dca_remove();  // v5.6: after ioat_shutdown
    dma_.dma_async_device_unregister(this);
}

// ioat_shutdown (v5.6): each channel DOWN under its prep lock, its watchdog
// stopped, then quiesced and reset: what it had not finished is dropped with no
// callback (tx_status says in progress for ever). Under percpu_ref the
// submission gate is killed first and in-progress submissions are waited for
// (idxd's quiesce). With fail-back the unfinished work is failed back instead.
void ioatdma_device::shutdown() {
    for (dma_chan* dc : channels) {
        ioat_chan& c = to_ioat(dc);
        if (!alive(dc, "ioat_shutdown")) continue;
        if (traits(dma_.design()).submit_gate && !c.submit_ref.dead()) {
            c.submit_ref.kill();
            kernel::waiting w(k_, "ioat_shutdown: the submissions in progress on " + dc->name);
            k_.wait_for_completion(c.submit_idle);
        }
        if (dma_.fails_back()) {
            terminate_all(dc);
            continue;
        }
        k_.spin_lock(c.prep_lock);
        c.down = true;
        k_.spin_unlock(c.prep_lock);
        k_.del_timer_sync(c.timer);
        if (!c.ring.empty()) reset_hw(c);
    }
    k_.writeb(0, reg_base_ + INTRCTRL);
}

void ioatdma_device::device_release() {
    log("release_ioatdma: last reference dropped, freeing channels and pools");
    free_memory();
}

void ioatdma_device::free_memory() {
    desc_pool_->destroy();
    completion_pool_->destroy();
    channels.clear();
    for (auto& c : chans_) c->kfree(k_);
    kfree(k_);
    dma_.dma_device_freed(this);
}

// The PCI error handler: ioat_pcie_error_detected (2016 on) shuts the device
// down; in an era without one, only the fail-back option fails it back.
void ioatdma_device::error_detected() {
    log("ioat_pcie_error_detected: channel offline, shutting down");
    if (traits(dma_.design()).aer_handler) {
        shutdown();
        return;
    }
    for (dma_chan* c : channels) terminate_all(c);
}

// Down from now on; the engine suspended at a descriptor boundary (a function
// that is gone is not waited for); what it finished is reaped, the rest failed
// back in order with DMA_TRANS_ABORTED.
void ioatdma_device::terminate_all(dma_chan* dc) {
    ioat_chan& c = to_ioat(dc);
    if (!alive(dc, "terminate_all") || c.down) return;
    k_.spin_lock(c.prep_lock);
    c.down = true;  // even with no ring yet: a later prep must fail too
    k_.spin_unlock(c.prep_lock);
    if (c.ring.empty()) return;
    k_.del_timer_sync(c.timer);
    // On a function that is gone the status reads 7, no state: the loop ends at once.
    k_.writeb(CHANCMD_SUSPEND, c.reg + CHANCMD);
    ktime_t end = k_.now() + SUSPEND_TIMEOUT;
    for (uint64_t sts = chansts(c); (sts & CHANSTS_STATUS) == ACTIVE && k_.now() < end; sts = chansts(c))
        k_.udelay(1);
    cleanup(c);
    k_.spin_lock(c.cleanup_lock);
    // The window is in place before the first cookie completes: a poller that
    // sees one complete must already see it failed.
    if (c.cookie != c.completed_cookie) {
        c.aborted_lo = c.completed_cookie;
        c.aborted_hi = c.cookie;
    }
    unsigned failed = 0;
    for (uint16_t i = 0, n = c.active(); i < n; ++i) {
        ioat_ring_ent& e = c.ent(uint16_t(c.tail + i));
        if (!e.txd.cookie) continue;
        ++failed;
        complete_desc(e, DMA_TRANS_ABORTED);
    }
    c.tail = c.issued = c.head;
    c.completion_pending = false;
    k_.spin_unlock(c.cleanup_lock);
    k_.trace("ioatdma " + pdev_.name, "terminate_all", json_obj().set("failed_back", failed));
    if (failed) log(strfmt("%s: %u descriptors failed back", dc->name.c_str(), failed));
}

}  // namespace ioatsim::sw
