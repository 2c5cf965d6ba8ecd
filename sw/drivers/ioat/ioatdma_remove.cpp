// How ioatdma lets go of a device: the 2012 remove order (ioat-hardware.md
// §10.1), which every design but percpu_ref runs, and the in-use unbind of
// 2019 (§10.3: shut down first, free on the last reference); plus
// DMA_TERMINATE_ALL, which fails back whatever a channel has not finished.
#include "sw/drivers/ioat/ioatdma.h"

#include "models/ioat/regs.h"

namespace ioatsim::sw {
using namespace ioat;

namespace {
constexpr ktime_t SUSPEND_TIMEOUT = 100 * MSEC;
ioat_chan& to_ioat(dma_chan* c) { return *static_cast<ioat_chan*>(c); }
}  // namespace

void ioatdma_device::remove() {
    log("Removing dma and dca services");
    if (dma_.design() == dma_design::percpu_ref) remove_2019();
    else remove_2012();
}

// Interrupts off, unregister, destroy the pools, empty the channel list; then the
// device-managed memory goes. With legacy nothing waits for the clients still
// holding channels; the 2012 and 2006 designs' unregister returns only when no
// one does, so the pools are empty by then.
void ioatdma_device::remove_2012() {
    k_.writeb(0, reg_base_ + INTRCTRL);
    dma_.dma_async_device_unregister(this);
    desc_pool_->destroy();
    completion_pool_->destroy();
    channels.clear();
    pci_.disable_msix(pdev_);
    for (auto& c : chans_) c->kfree(k_);
    kfree(k_);
    dma_.dma_device_freed(this);
}

// ioat_shutdown first: every channel stops and fails back its work, so clients
// leave promptly and new preps fail. Unregister does not wait; device_release
// frees the memory once the last reference is gone.
void ioatdma_device::remove_2019() {
    for (dma_chan* c : channels) terminate_all(c);
    k_.writeb(0, reg_base_ + INTRCTRL);
    dma_.dma_async_device_unregister(this);
    pci_.disable_msix(pdev_);
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

void ioatdma_device::error_detected() {
    log("ioat_pcie_error_detected: channel offline, shutting down");
    for (dma_chan* c : channels) terminate_all(c);
}

bool ioatdma_device::present(ioat_chan& c) { return k_.readl(c.reg + CHANSTS) != 0xffffffffu; }

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
    if (present(c)) {
        k_.writeb(CHANCMD_SUSPEND, c.reg + CHANCMD);
        ktime_t end = k_.now() + SUSPEND_TIMEOUT;
        for (uint64_t sts = chansts(c); (sts & CHANSTS_STATUS) == ACTIVE && k_.now() < end; sts = chansts(c))
            k_.udelay(1);
    }
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
