// The ioatdma driver, CB3 path (Linux 3.4 dma.c / dma_v2.c / dma_v3.c as described
// in shared/reference/ioat-hardware.md §6, §8, §10): probe, ring, prep_memcpy,
// submit by DMACOUNT, cleanup from the completion word, MSI-X and re-arm.
#pragma once
#include "sw/dmaengine/dmaengine.h"
#include "sw/kernel/percpu_ref.h"
#include "sw/kernel/slab.h"
#include "sw/pci/pci.h"

#include <memory>
#include <vector>

namespace ioatsim::sw {

class ioatdma_device;
class dca_core;
struct dca_provider;

// The module parameter ioat_dca_enabled (pci.c: "control support of dca
// service", default 1); the platform sets it from the boot command line.
extern int ioat_dca_enabled;

// The ring grows on demand to 2^15 entries: its 16-bit indices need a spare slot.
constexpr uint32_t IOAT_MAX_RING = 1u << 15;
// A null descriptor still carries a non-zero size (dma.h NULL_DESC_BUFFER_SIZE).
constexpr uint32_t NULL_DESC_BUFFER_SIZE = 1;

struct ioat_ring_ent {
    uint64_t hw = 0;    // CPU (physical) address of the 64-byte hardware descriptor
    uint64_t phys = 0;  // its bus address (txd.phys), what the engine is given
    uint64_t len = 0;
    bool ext = false;   // the extension frame of the descriptor before it
    // What 3.4's ioat3_dma_unmap reads from the descriptor at completion: its
    // operation and the first byte's source and destination (hw->src_addr and
    // hw->dst_addr less the offset of the last piece); none for a null one.
    enum class op_kind : uint8_t { none, copy, fill } op = op_kind::none;
    uint64_t src = 0, dst = 0;
    dma_async_tx_descriptor txd;
};

struct ioat_chan : dma_chan {
    ioatdma_device* ioat = nullptr;
    uint64_t reg = 0;              // MMIO base of this channel's registers
    uint64_t completion = 0;       // CPU (physical) address of the completion word (completion_pool)
    uint64_t completion_dma = 0;   // its bus address, in CHANCMP
    cacheline completion_line;     // its line: the engine writes it, cleanup reads it
    uint64_t last_completion = 0;
    std::vector<std::unique_ptr<ioat_ring_ent>> ring;  // entries never move: clients hold their txd
    uint16_t head = 0, issued = 0, tail = 0, dmacount = 0;
    uint16_t produce = 0;          // prepped under prep_lock, not yet submitted
    // Layout as ioat2_dma_chan and ioat_chan_common have it: head, issued,
    // tail and dmacount share prep_lock's line; last_completion shares
    // cleanup_lock's.
    spinlock prep_lock, cleanup_lock;
    tasklet cleanup_task;
    timer_list timer;              // the completion watchdog
    bool completion_pending = false, completion_ack = false;
    bool down = false;             // IOAT_CHAN_DOWN: shut down, every prep fails
    percpu_ref submit_ref;         // percpu_ref design: held from prep to submit (idxd's wq_active)
    sw::completion submit_idle;    // its release: no submission in progress after the kill
    dma_cookie_t aborted_lo = 0, aborted_hi = 0;  // cookies in (lo, hi] were failed back

    uint32_t size() const { return uint32_t(ring.size()); }
    uint16_t active() const { return uint16_t(head - tail); }
    uint16_t pending() const { return uint16_t(head - issued); }
    uint32_t space() const { return size() - active(); }
    ioat_ring_ent& ent(uint16_t idx) { return *ring[idx & (size() - 1)]; }
};

class ioatdma_device : public dma_device {
public:
    ioatdma_device(kernel& k, pci_subsys& pci, dmaengine& dma, pci_dev& pdev);
    ~ioatdma_device() override;
    int probe();
    void remove();
    void error_detected();  // the function is gone (a PCI error report)

    int alloc_chan_resources(dma_chan* c) override;
    void free_chan_resources(dma_chan* c) override;
    dma_async_tx_descriptor* prep_dma_memcpy(dma_chan* c, uint64_t dst, uint64_t src, uint64_t len,
                                             unsigned flags) override;
    dma_async_tx_descriptor* prep_dma_memset(dma_chan* c, uint64_t dst, uint8_t value, uint64_t len,
                                             unsigned flags) override;
    dma_async_tx_descriptor* prep_dma_xor(dma_chan* c, uint64_t dst, const std::vector<uint64_t>& src,
                                          uint64_t len, unsigned flags) override;
    dma_async_tx_descriptor* prep_dma_pq(dma_chan* c, const uint64_t dst[2], const std::vector<uint64_t>& src,
                                         const std::vector<uint8_t>& coef, uint64_t len, unsigned flags) override;
    dma_async_tx_descriptor* prep_dma_interrupt(dma_chan* c, unsigned flags) override;
    dma_status tx_status(dma_chan* c, dma_cookie_t cookie, dma_tx_state* st) override;
    void issue_pending(dma_chan* c) override;
    void terminate_all(dma_chan* c) override;
    void device_release() override;
    bool chan_resources_allocated(dma_chan* c) const override {
        return !static_cast<const ioat_chan*>(c)->ring.empty();
    }

    uint8_t version() const { return version_; }
    // DCA (ioatdma_dca.cpp): the kernel's DCA service, and device->dca, the
    // provider ioat3_dca_init registered (null when it did not).
    dca_core* dca_service = nullptr;
    dca_provider* dca = nullptr;
    bool alive(dma_chan* c, const char* what);  // the channel and device not yet freed

private:
    void log(const std::string& text) { k_.dev_printk("ioatdma", pdev_.name, text); }
    uint64_t chansts(ioat_chan& c);
    int reset_hw(ioat_chan& c);
    bool check_space_lock(ioat_chan& c, uint16_t num);
    bool grow_ring(ioat_chan& c);  // doubles the ring in place (reshape_ring)
    std::unique_ptr<ioat_ring_ent> new_ent(ioat_chan& c);
    void issue_pending_locked(ioat_chan& c);
    void write_desc(uint64_t hw, uint32_t size, uint32_t ctl, uint64_t src, uint64_t dst);
    // Fills ring slots from head for one operation split by XFERCAP: `frame`
    // writes piece i (offset `off`, length `n`) into one or two slots.
    using frame_fn = std::function<void(uint64_t hw, uint64_t ext_hw, uint64_t off, uint64_t n, uint32_t ctl_flags)>;
    dma_async_tx_descriptor* prep_pieces(dma_chan* dc, const char* what, uint64_t len, unsigned frames,
                                         unsigned flags, bool compl_null, const frame_fn& frame);
    void start_null_desc(ioat_chan& c);
    void cleanup(ioat_chan& c);
    void complete_desc(ioat_ring_ent& e, dmaengine_tx_result result);
    void dma_unmap(const ioat_ring_ent& e);  // ioat3_dma_unmap: what the flags leave to the driver
    // ioat3_dma_probe's DCA parts and ioat_remove's (ioatdma_dca.cpp).
    uint32_t dca_mask_raid(uint32_t cap);  // "dca is incompatible with raid operations"
    void dca_any_cpu();                    // DCACTRL = IOAT_DMA_DCA_ANY_CPU on every channel
    void ioat3_dca_init();
    void dca_remove();                     // unregister_dca_provider, free_dca_provider
    void remove_2012();
    void remove_2019();
    void remove_keep();
    void shutdown();
    void free_memory();
    void timer_event(ioat_chan& c);
    void restart_channel(ioat_chan& c);
    dma_cookie_t tx_submit_unlock(dma_async_tx_descriptor* tx);

    kernel& k_;
    pci_subsys& pci_;
    dmaengine& dma_;
    pci_dev& pdev_;
    const ktime_t prep_desc_, submit_, cleanup_desc_, cpu_relax_;  // costs.h
    uint64_t reg_base_ = 0;
    uint8_t version_ = 0;
    unsigned xfercap_log_ = 0;
    uint32_t dmacap_ = 0;
    bool raid_ = false;  // is_raid_device: v3 cleanup and watchdog, else v2's
    std::vector<std::unique_ptr<ioat_chan>> chans_;
    std::unique_ptr<dma_pool> desc_pool_, completion_pool_;
};

// Registers the "ioatdma" PCI driver (module init) and binds it; returns the
// module whose reference count the dmaengine core pins.
module& ioat_init_module(kernel& k, pci_subsys& pci, dmaengine& dma, dca_core* dca = nullptr);

}  // namespace ioatsim::sw
