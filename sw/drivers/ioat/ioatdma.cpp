#include "sw/drivers/ioat/ioatdma.h"

#include "models/ioat/descriptor.h"
#include "models/ioat/regs.h"
#include "sw/dca/dca.h"
#include "sw/dma-mapping/dma_api.h"
#include "sw/net/user_dma.h"

namespace ioatsim::sw {
using namespace ioat;

namespace {
constexpr unsigned RING_ORDER = 8;          // ioat_ring_alloc_order default: 256 entries
constexpr unsigned MAX_CHANNELS = 4;       // ARRAY_SIZE(ioatdma_device.idx)
constexpr uint16_t PENDING_LEVEL = 4;       // ioat_pending_level (3.x)
constexpr ktime_t COMPLETION_TIMEOUT = 100 * MSEC;  // 3.x watchdog (ioat-hardware.md §6.3)
constexpr ktime_t IDLE_TIMEOUT = 2000 * MSEC;
constexpr uint16_t INTRDELAY_MASK = 0x3fff;
// Plain driver code around the hardware accesses [estimates].

// The driver's per-ID tests (dma_v3.c's is_jf_ioat, is_ivb_ioat).
bool is_jf_ioat(uint16_t device) { return device >= 0x3710 && device <= 0x3719; }
bool is_ivb_ioat(uint16_t device) {
    return (device >= 0x0e20 && device <= 0x0e27) || device == 0x0e2e || device == 0x0e2f;
}
bool is_active(uint64_t sts) { return (sts & CHANSTS_STATUS) == ACTIVE; }
bool is_idle(uint64_t sts) { return (sts & CHANSTS_STATUS) == DONE; }
ioat_chan& to_ioat(dma_chan* c) { return *static_cast<ioat_chan*>(c); }
}  // namespace

ioatdma_device::ioatdma_device(kernel& k, pci_subsys& pci, dmaengine& dma, pci_dev& pdev)
    : k_(k), pci_(pci), dma_(dma), pdev_(pdev), prep_desc_(k.timing("cost.ioat_prep_desc")),
      submit_(k.timing("cost.ioat_submit")), cleanup_desc_(k.timing("cost.ioat_cleanup_desc")),
      cpu_relax_(k.timing("cost.cpu_relax")) {
    dev_name = pdev.name;
    dev = &pdev;
    node = int(pdev.node);
}

ioatdma_device::~ioatdma_device() = default;

// CHANSTS as two 32-bit reads, low half first (the driver's ioat_chansts).
uint64_t ioatdma_device::chansts(ioat_chan& c) {
    uint64_t lo = k_.readl(c.reg + CHANSTS);
    uint64_t hi = k_.readl(c.reg + CHANSTS + 4);
    return hi << 32 | lo;
}

// Quiesce, clear errors, reset; the limits are the driver's (§6.3). On a function
// that is gone every read is all-ones: the quiesce loop ends at once (status 7
// is no state), and RESET reads set until the 200 ms timeout (ioat2_reset_sync).
int ioatdma_device::reset_hw(ioat_chan& c) {
    uint64_t sts = chansts(c);
    if (is_active(sts) || is_idle(sts)) {
        k_.writeb(CHANCMD_SUSPEND, c.reg + CHANCMD);
        ktime_t end = k_.now() + 100 * MSEC;
        while ((is_active(sts) || is_idle(sts)) && k_.now() < end) {
            k_.udelay(1);
            sts = chansts(c);
        }
    }
    uint32_t chanerr = k_.readl(c.reg + CHANERR);
    k_.writel(chanerr, c.reg + CHANERR);
    k_.writeb(CHANCMD_RESET, c.reg + CHANCMD);
    ktime_t end = k_.now() + 200 * MSEC;
    kernel::waiting w(k_, "ioat_reset_hw: CHANCMD reset of " + c.name);
    bool timed_out = false;
    k_.spin_mmio(c.reg + CHANCMD, 1, CHANCMD_RESET, 0, cpu_relax_, end, timed_out);
    return timed_out ? -110 : 0;  // -ETIMEDOUT
}

int ioatdma_device::probe() {
    kernel::in_function in(k_, "ioat_pci_probe");
    pci_.pcim_enable_device(pdev_);
    reg_base_ = pci_.pcim_iomap(pdev_, 0);
    if (!reg_base_) return -12;
    // 64-bit DMA if the platform allows it (iommu=forcesac, a DAC-less bridge
    // do not), else 32-bit: ioat_pci_probe, before mastering is enabled.
    int err = pci_set_dma_mask(&pdev_, DMA_BIT_MASK(64));
    if (err) err = pci_set_dma_mask(&pdev_, DMA_BIT_MASK(32));
    if (err) return err;
    err = pci_set_consistent_dma_mask(&pdev_, DMA_BIT_MASK(64));
    if (err) err = pci_set_consistent_dma_mask(&pdev_, DMA_BIT_MASK(32));
    if (err) return err;
    pci_.set_master(pdev_);
    version_ = k_.readb(reg_base_ + CBVER);
    if (version_ < 0x30) return -19;  // -ENODEV: this driver models the v3 path only
    dmacap_ = dca_mask_raid(k_.readl(reg_base_ + DMACAPABILITY));
    // ioat2_enumerate_channels: at most four channels (device->idx); a channel
    // that fails its reset ends the enumeration with none, and ioat_probe
    // gives up (a function gone during probe costs the first reset's 200 ms).
    unsigned chancnt = k_.readb(reg_base_ + CHANCNT) & 0x1f;
    if (chancnt > MAX_CHANNELS) {
        log(strfmt("(%u) exceeds max supported channels (%u)", chancnt, MAX_CHANNELS));
        chancnt = MAX_CHANNELS;
    }
    xfercap_log_ = k_.readb(reg_base_ + XFERCAP) & 0x1f;
    if (!xfercap_log_) chancnt = 0;
    // Hardware descriptors and completion words come from the device's pools.
    desc_pool_ = std::make_unique<dma_pool>(k_, "dma_desc_pool", "ioatdma " + pdev_.name, 64, 64);
    completion_pool_ = std::make_unique<dma_pool>(k_, "completion_pool", "ioatdma " + pdev_.name, 8, 64);
    for (dma_pool* pool : {desc_pool_.get(), completion_pool_.get()}) {  // pci_pool_create(..., pdev, ...)
        pool->page_alloc = [this](uint64_t size, uint64_t* handle) {
            return dma_alloc_coherent(k_, &pdev_, size, handle);
        };
        pool->page_free = [this](uint64_t vaddr, uint64_t handle) {
            dma_free_coherent(k_, &pdev_, dma_pool::page_size, vaddr, handle);
        };
    }
    for (unsigned i = 0; i < chancnt; ++i) {
        auto c = std::make_unique<ioat_chan>();
        c->ioat = this;
        c->reg = reg_base_ + chan_base(i);
        c->set_name("ioat_chan " + pdev_.name);
        ioat_chan* raw = c.get();
        c->cleanup_task.fn = [this, raw] {
            if (!alive(raw, "ioat cleanup tasklet")) return;
            cleanup(*raw);
            k_.writew(CHANCTRL_RUN, raw->reg + CHANCTRL);  // re-arm the interrupt
        };
        c->timer.fn = [this, raw] { timer_event(*raw); };
        c->cookie = c->completed_cookie = DMA_MIN_COOKIE;  // dma_cookie_init, once (ioat_init_channel)
        k_.tasklet_disable(c->cleanup_task);                // enabled while resources are allocated
        c->submit_ref.init(dma_.mem(), [raw] { raw->submit_idle.complete(); });
        if (reset_hw(*c) < 0) {
            chans_.clear();
            channels.clear();
            break;
        }
        channels.push_back(raw);
        chans_.push_back(std::move(c));
    }
    if (chans_.empty()) {
        log("channel enumeration error");
        return -19;
    }
    // MSI-X, one vector per channel (CHANCNT is 1 on the 5520/7500 functions).
    ioat_chan* c0 = chans_[0].get();
    unsigned cpu = k_.smp_processor_id();
    if (pci_.pcim_enable_msix(pdev_, cpu, "ioat-msix", [this, c0] { k_.tasklet_schedule(c0->cleanup_task); }) < 0) {
        log("failed to enable MSI-X");
        return -5;
    }
    k_.writeb(INTRCTRL_MSIX_VECTOR_CONTROL | INTRCTRL_MASTER_INT_EN, reg_base_ + INTRCTRL);
    // ioat3_dma_probe: XOR or PQ make a raid device, whose channels run v3's
    // cleanup (with interrupt coalescing) and watchdog; the others run v2's.
    // Fill is offered only by a raid device. Jasper Forest needs 64-byte
    // aligned copies (is_jf_ioat), which net_dma cannot give; so does Ivy
    // Bridge in the drivers that know it (is_xeon_cb32, see ioat_init_module).
    cap_mask.set(DMA_MEMCPY);
    cap_mask.set(DMA_INTERRUPT);
    if (is_jf_ioat(pdev_.device) || is_ivb_ioat(pdev_.device)) copy_align = 6;
    if (dmacap_ & DMACAP_XOR) {
        raid_ = true;
        cap_mask.set(DMA_XOR);
        max_xor = 8;
    }
    if (dmacap_ & DMACAP_PQ) {
        raid_ = true;
        cap_mask.set(DMA_PQ);
        max_pq = 8;
    }
    if (raid_ && (dmacap_ & DMACAP_FILL)) cap_mask.set(DMA_MEMSET);
    ioat_set_tcp_copy_break(262144);  // the v3 value (ioat-hardware.md, timing-defaults.md §6)
    dca_any_cpu();
    int rc = dma_.dma_async_device_register(this);
    if (rc == 0 && ioat_dca_enabled) ioat3_dca_init();
    return rc;
}

bool ioatdma_device::alive(dma_chan* c, const char* what) {
    return c->touch(k_, what) && touch(k_, what);
}

void ioatdma_device::write_desc(uint64_t hw, uint32_t size, uint32_t ctl, uint64_t src, uint64_t dst) {
    // Only the first 32 bytes change; `next` was linked when the ring was built.
    struct { uint32_t size, ctl; uint64_t src, dst; } d{size, ctl, src, dst};
    k_.mem_write(hw, &d, sizeof d);
}

void ioatdma_device::start_null_desc(ioat_chan& c) {
    k_.spin_lock(c.prep_lock);
    ioat_ring_ent& e = c.ent(c.head);
    write_desc(e.hw, NULL_DESC_BUFFER_SIZE, DESC_NULL | DESC_INT_EN | DESC_COMPL_WRITE, 0, 0);
    e.txd.cookie = 0;
    e.txd.flags = DMA_CTRL_ACK;
    e.op = ioat_ring_ent::op_kind::none;
    k_.writel(uint32_t(e.phys), c.reg + CHAINADDR);
    k_.writel(uint32_t(e.phys >> 32), c.reg + CHAINADDR + 4);
    ++c.head;
    issue_pending_locked(c);
    k_.spin_unlock(c.prep_lock);
}

int ioatdma_device::alloc_chan_resources(dma_chan* dc) {
    kernel::in_function in(k_, "ioat2_alloc_chan_resources");
    ioat_chan& c = to_ioat(dc);
    if (!c.ring.empty()) return c.size();
    k_.writew(CHANCTRL_RUN, c.reg + CHANCTRL);
    if (!alive(dc, "alloc_chan_resources")) return -19;
    c.completion = completion_pool_->alloc(&c.completion_dma);
    if (!c.completion) return -12;
    k_.store<uint64_t>(c.completion, 0);
    c.completion_line.name = "completion";
    k_.touch(c.completion_line, coh_op::store);
    k_.track_line(c.completion, &c.completion_line);
    k_.writel(uint32_t(c.completion_dma), c.reg + CHANCMP);
    k_.writel(uint32_t(c.completion_dma >> 32), c.reg + CHANCMP + 4);

    unsigned n = 1u << RING_ORDER;
    c.ring.clear();
    for (unsigned i = 0; i < n; ++i) c.ring.push_back(new_ent(c));
    for (unsigned i = 0; i < n; ++i) k_.store<uint64_t>(c.ring[i]->hw + 0x18, c.ring[(i + 1) % n]->phys);  // next
    c.head = c.issued = c.tail = c.dmacount = 0;
    c.last_completion = 0;
    k_.tasklet_enable(c.cleanup_task);
    start_null_desc(c);

    uint64_t sts = 0;
    for (int i = 0; i < 20; ++i) {
        k_.udelay(1);
        sts = chansts(c);
        if (is_active(sts) || is_idle(sts)) return int(n);
    }
    log(strfmt("failed to start channel chanerr: %#x", k_.readl(c.reg + CHANERR)));
    free_chan_resources(dc);
    return -14;  // -EFAULT
}

void ioatdma_device::free_chan_resources(dma_chan* dc) {
    kernel::in_function in(k_, "ioat2_free_chan_resources");
    ioat_chan& c = to_ioat(dc);
    if (!alive(dc, "free_chan_resources") || c.ring.empty()) return;
    k_.tasklet_disable(c.cleanup_task);
    k_.del_timer_sync(c.timer);
    cleanup(c);
    // v5.6 does not reset a channel it shut down (the device may be gone); 3.4 always resets.
    if (!(c.down && traits(dma_.design()).shutdown_first)) reset_hw(c);
    if (uint16_t busy = c.active())
        log(strfmt("Freeing %u in use descriptors!", unsigned(busy)));
    for (auto& e : c.ring) desc_pool_->free(e->hw);
    k_.untrack_line(c.completion);
    completion_pool_->free(c.completion);
    c.ring.clear();
    c.completion = c.completion_dma = 0;
}

void ioatdma_device::issue_pending_locked(ioat_chan& c) {
    c.dmacount = uint16_t(c.dmacount + c.pending());
    c.issued = c.head;
    k_.writew(c.dmacount, c.reg + DMACOUNT);
}

void ioatdma_device::issue_pending(dma_chan* dc) {
    kernel::in_function in(k_, "ioat2_issue_pending");
    ioat_chan& c = to_ioat(dc);
    if (!alive(dc, "issue_pending")) return;
    k_.touch(c.prep_lock.line, coh_op::load);  // ioat2_ring_pending reads head and issued unlocked
    if (!c.pending()) return;
    k_.spin_lock(c.prep_lock);
    issue_pending_locked(c);
    k_.spin_unlock(c.prep_lock);
}

// Takes prep_lock and keeps it until tx_submit, as the driver does; one slot is
// always left free so head never catches tail.
bool ioatdma_device::check_space_lock(ioat_chan& c, uint16_t num) {
    // percpu_ref: a submission holds the gate from prep to submit (idxd's
    // percpu_ref_tryget_live around the portal write); once killed, prep fails.
    const bool gate = traits(dma_.design()).submit_gate;
    if (gate && !c.submit_ref.tryget_live()) return false;
    for (int attempt = 0; attempt < 3; ++attempt) {
        k_.spin_lock(c.prep_lock);
        if (c.down) {  // shut down while we waited for the lock
            k_.spin_unlock(c.prep_lock);
            if (gate) c.submit_ref.put();
            return false;
        }
        if (c.space() > num) {
            c.produce = num;
            return true;
        }
        k_.spin_unlock(c.prep_lock);
        if (attempt == 0) {
            cleanup(c);  // reclaim what the hardware finished first
        } else {
            k_.spin_lock(c.cleanup_lock);  // then grow, as reshape_ring does
            k_.spin_lock(c.prep_lock);
            bool grown = true;
            while (grown && c.space() <= num) grown = grow_ring(c);
            k_.spin_unlock(c.prep_lock);
            k_.spin_unlock(c.cleanup_lock);
            if (!grown) break;
        }
    }
    if (gate) c.submit_ref.put();
    return false;
}

std::unique_ptr<ioat_ring_ent> ioatdma_device::new_ent(ioat_chan& c) {
    auto e = std::make_unique<ioat_ring_ent>();
    e->hw = desc_pool_->alloc(&e->phys);
    uint8_t zero[64] = {};
    k_.mem_write(e->hw, zero, sizeof zero);
    e->txd.chan = &c;
    e->txd.tx_submit = [this](dma_async_tx_descriptor* tx) { return tx_submit_unlock(tx); };
    return e;
}

// Doubles the ring while the hardware may be running, as 3.4's reshape_ring
// does: the entries keep their order from tail, the new ones follow them, and
// only the free slot before tail and the new entries are relinked. No issued
// descriptor's `next` changes under the engine (it fetched it already): the
// last of them still points at the free slot, which now leads on to the new
// entries.
bool ioatdma_device::grow_ring(ioat_chan& c) {
    uint32_t old_size = c.size(), new_size = old_size * 2;
    if (new_size > IOAT_MAX_RING) return false;
    auto at = [&](uint32_t i) { return (c.tail + i) & (new_size - 1); };
    std::vector<std::unique_ptr<ioat_ring_ent>> ring(new_size);
    for (uint32_t i = old_size; i < new_size; ++i) {
        ring[at(i)] = new_ent(c);
        if (ring[at(i)]->hw) continue;
        for (uint32_t j = old_size; j < i; ++j) desc_pool_->free(ring[at(j)]->hw);  // out of memory: as it was
        return false;
    }
    for (uint32_t i = 0; i < old_size; ++i) ring[at(i)] = std::move(c.ring[(c.tail + i) & (old_size - 1)]);
    for (uint32_t i = old_size - 1; i < new_size; ++i)
        k_.store<uint64_t>(ring[at(i)]->hw + 0x18, ring[at(i + 1)]->phys);
    c.ring = std::move(ring);
    k_.trace("ioatdma " + pdev_.name, "ring.grow", json_obj().set("entries", new_size));
    return true;
}

dma_async_tx_descriptor* ioatdma_device::prep_dma_memcpy(dma_chan* dc, uint64_t dst, uint64_t src,
                                                         uint64_t len, unsigned flags) {
    kernel::in_function in(k_, "ioat2_dma_prep_memcpy_lock");
    ioat_chan& c = to_ioat(dc);
    if (!alive(dc, "prep_dma_memcpy") || c.ring.empty() || !len) return nullptr;
    uint64_t xfercap = 1ull << xfercap_log_;
    uint64_t num = (len + xfercap - 1) / xfercap;
    if (num >= IOAT_MAX_RING || !check_space_lock(c, uint16_t(num))) return nullptr;
    uint16_t idx = c.head;
    uint64_t total = len;
    const uint64_t src0 = src, dst0 = dst;
    ioat_ring_ent* e = nullptr;
    for (uint64_t i = 0; i < num; ++i) {
        e = &c.ent(uint16_t(idx + i));
        uint64_t n = std::min(len, xfercap);
        uint32_t ctl = uint32_t(OP_COPY) << DESC_OP_SHIFT;
        if (i + 1 == num) {
            ctl |= DESC_COMPL_WRITE;
            if (flags & DMA_PREP_INTERRUPT) ctl |= DESC_INT_EN;
            if (flags & DMA_PREP_FENCE) ctl |= DESC_FENCE;
        }
        write_desc(e->hw, uint32_t(n), ctl, src, dst);
        e->txd.cookie = 0;
        e->txd.callback = nullptr;
        e->len = 0;
        e->ext = false;  // the slot may have been an XOR/PQ extension frame last time round
        e->op = ioat_ring_ent::op_kind::none;
        src += n;
        dst += n;
        len -= n;
        k_.cost(prep_desc_);
    }
    e->txd.flags = flags;
    e->len = total;
    e->op = ioat_ring_ent::op_kind::copy;
    e->src = src0;
    e->dst = dst0;
    return &e->txd;
}

dma_cookie_t ioatdma_device::tx_submit_unlock(dma_async_tx_descriptor* tx) {
    kernel::in_function in(k_, "ioat2_tx_submit_unlock");
    ioat_chan& c = to_ioat(tx->chan);
    if (!alive(&c, "tx_submit")) {
        k_.spin_unlock(c.prep_lock);
        return -19;  // -ENODEV
    }
    k_.touch(c.line, coh_op::store);  // chan->cookie, on dma_chan's first line
    dma_cookie_t cookie = dmaengine::dma_cookie_assign(tx);
    if (!c.completion_pending) {  // the watchdog runs while work is outstanding
        c.completion_pending = true;
        k_.mod_timer(c.timer, k_.now() + COMPLETION_TIMEOUT);
    }
    c.head = uint16_t(c.head + c.produce);
    c.produce = 0;
    if (c.pending() > PENDING_LEVEL) issue_pending_locked(c);  // ioat2_update_pending
    k_.cost(submit_);
    k_.spin_unlock(c.prep_lock);
    if (traits(dma_.design()).submit_gate) c.submit_ref.put();
    return cookie;
}

// Walks the ring from tail up to the descriptor the hardware last completed.
void ioatdma_device::cleanup(ioat_chan& c) {
    kernel::in_function in(k_, "__cleanup");
    k_.spin_lock(c.cleanup_lock);
    if (c.ring.empty()) {
        k_.spin_unlock(c.cleanup_lock);
        return;
    }
    k_.touch(c.completion_line, coh_op::load);
    uint64_t phys_complete = k_.load<uint64_t>(c.completion) & CHANSTS_ADDR_MASK;
    if (phys_complete != c.last_completion) {
        k_.touch(c.prep_lock.line, coh_op::load);  // ioat2_ring_active: head, written by submitters
        uint16_t active = c.active();
        bool seen = false;
        uint16_t i = 0;
        for (; i < active && !seen; ++i) {
            ioat_ring_ent& e = c.ent(uint16_t(c.tail + i));
            k_.cost(cleanup_desc_);
            if (e.txd.cookie) complete_desc(e, DMA_TRANS_NOERROR);
            if (e.phys == phys_complete) seen = true;
        }
        while (seen && i < active && c.ent(uint16_t(c.tail + i)).ext) ++i;  // its extension frame
        c.tail = uint16_t(c.tail + i);
        if (!seen) {
            log(strfmt("BUG: completion address %#llx not found in the ring",
                       (unsigned long long)phys_complete));
            k_.rep().violation(k_.now(), "completion_address", "completion outside the active ring");
        }
        c.last_completion = phys_complete;
        c.completion_ack = false;
        if (!c.active()) {
            c.completion_pending = false;
            k_.mod_timer(c.timer, k_.now() + IDLE_TIMEOUT);
        }
        // v3's cleanup (raid devices): 5 us of interrupt coalescing per
        // descriptor still outstanding; v2's writes no INTRDELAY.
        if (raid_)
            k_.writew(uint16_t(std::min<unsigned>(5u * c.active(), INTRDELAY_MASK)), reg_base_ + INTRDELAY);
    }
    k_.spin_unlock(c.cleanup_lock);
}

// The completion watchdog (3.4 ioat2_timer_event, ioat3_timer_event on a raid device): no progress for two periods
// restarts the channel from the oldest outstanding descriptor.
void ioatdma_device::timer_event(ioat_chan& c) {
    kernel::in_function in(k_, "ioat3_timer_event");
    if (!alive(&c, "ioat watchdog timer") || !c.completion_pending) return;
    uint64_t sts = chansts(c);
    if ((sts & CHANSTS_STATUS) == HALTED) {
        // 3.4: BUG_ON(is_ioat_bug(chanerr)) for a channel that runs; one that
        // never got off the ground is left alone.
        uint32_t chanerr = k_.readl(c.reg + CHANERR);
        log(strfmt("%s: Channel halted (%x)", raid_ ? "ioat3_timer_event" : "ioat2_timer_event", chanerr));
        if (c.ring.empty()) return;
        if (chanerr)
            k_.rep().violation(k_.now(), "bug", strfmt("ioatdma %s: BUG_ON(is_ioat_bug(%#x)) in the watchdog",
                                                       pdev_.name.c_str(), chanerr));
    }
    uint64_t before = c.last_completion;
    cleanup(c);
    k_.spin_lock(c.cleanup_lock);
    if (c.last_completion == before && c.completion_pending) {
        if (c.completion_ack) {
            k_.spin_lock(c.prep_lock);
            restart_channel(c);
            k_.spin_unlock(c.prep_lock);
        } else {
            c.completion_ack = true;
            k_.mod_timer(c.timer, k_.now() + COMPLETION_TIMEOUT);
        }
    } else if (c.completion_pending) {
        k_.mod_timer(c.timer, k_.now() + COMPLETION_TIMEOUT);
    }
    k_.spin_unlock(c.cleanup_lock);
}

// Quiesce (no timeout, as the restart path does), then start again at the tail.
void ioatdma_device::restart_channel(ioat_chan& c) {
    uint64_t sts = chansts(c);
    if (is_active(sts) || is_idle(sts)) k_.writeb(CHANCMD_SUSPEND, c.reg + CHANCMD);
    while (is_active(sts) || is_idle(sts)) {
        k_.udelay(1);
        sts = chansts(c);
    }
    k_.trace("ioatdma " + pdev_.name, "restart", json_obj().set("tail", unsigned(c.tail)).set("head", unsigned(c.head)));
    c.issued = c.tail;
    c.dmacount = 0;
    uint64_t hw = c.ent(c.tail).phys;
    k_.writel(uint32_t(hw), c.reg + CHAINADDR);
    k_.writel(uint32_t(hw >> 32), c.reg + CHAINADDR + 4);
    if (c.pending()) {
        issue_pending_locked(c);
        k_.mod_timer(c.timer, k_.now() + COMPLETION_TIMEOUT);
    }
}

// ioat3_dma_unmap (3.4 dma_v3.c, with dma.c's ioat_dma_unmap and ioat_unmap):
// a copy's destination (FROM_DEVICE) and source (TO_DEVICE), a fill's
// destination, each unless DMA_COMPL_SKIP_{DEST,SRC}_UNMAP, as a single
// mapping with DMA_COMPL_{DEST,SRC}_UNMAP_SINGLE, else as a page, the
// operation's whole length. XOR and PQ unmap nothing here: 3.4 puts their flags
// on the operation's descriptor, which gets no cookie, and the cookie on the
// trailing null descriptor, whose unmap is skipped; __cleanup unmaps only
// descriptors with a cookie [inference from the 3.4 source: their mappings stay].
void ioatdma_device::dma_unmap(const ioat_ring_ent& e) {
    const unsigned f = e.txd.flags;
    auto unmap = [&](uint64_t addr, dma_data_direction dir, bool single) {
        if (single) dma_unmap_single(&pdev_, addr, e.len, dir);
        else dma_unmap_page(&pdev_, addr, e.len, dir);
    };
    if (e.op == ioat_ring_ent::op_kind::none) return;
    if (!(f & DMA_COMPL_SKIP_DEST_UNMAP)) unmap(e.dst, DMA_FROM_DEVICE, f & DMA_COMPL_DEST_UNMAP_SINGLE);
    if (e.op == ioat_ring_ent::op_kind::copy && !(f & DMA_COMPL_SKIP_SRC_UNMAP))
        unmap(e.src, DMA_TO_DEVICE, f & DMA_COMPL_SRC_UNMAP_SINGLE);
}

// Completes the cookie and runs the callback once, telling it how it went; what
// the descriptor mapped is unmapped first (3.4's __cleanup, before the callback).
void ioatdma_device::complete_desc(ioat_ring_ent& e, dmaengine_tx_result result) {
    if (e.txd.chan) k_.touch(e.txd.chan->line, coh_op::store);  // chan->completed_cookie
    dma_unmap(e);
    e.op = ioat_ring_ent::op_kind::none;
    dma_.dma_cookie_complete(&e.txd);
    auto cbr = std::move(e.txd.callback_result);
    auto cb = std::move(e.txd.callback);
    e.txd.callback_result = nullptr;
    e.txd.callback = nullptr;
    if (cbr) cbr(dmaengine_result{result, 0});
    else if (cb) cb();
}

// On a freed channel the memory is gone: the answer is whatever the cookies last
// said, and nothing completes any more. A failed-back cookie is an error.
dma_status ioatdma_device::tx_status(dma_chan* dc, dma_cookie_t cookie, dma_tx_state* st) {
    kernel::in_function in(k_, "ioat3_tx_status");
    ioat_chan& c = to_ioat(dc);
    k_.touch(dc->line, coh_op::load);  // dma_cookie_status reads cookie and completed_cookie
    dma_status s = dmaengine::dma_cookie_status(dc, cookie, st);
    if (s != DMA_SUCCESS && alive(dc, "tx_status")) {
        cleanup(c);
        s = dmaengine::dma_cookie_status(dc, cookie, st);
    }
    if (s == DMA_SUCCESS && c.aborted_hi && dma_async_is_complete(cookie, c.aborted_lo, c.aborted_hi) != DMA_SUCCESS)
        return DMA_ERROR;
    return s;
}

module& ioat_init_module(kernel& k, pci_subsys& pci, dmaengine& dma, dca_core* dca) {
    if (dca) dca->dca_init();  // ioatdma needs the dca module: modprobe loads it first
    k.printk("ioatdma: Intel(R) QuickData Technology Driver 4.00");
    static module mod;      // one module instance per simulated kernel
    mod = module{"ioatdma"};
    static pci_driver drv;
    drv.name = "ioatdma";
    drv.id_table.clear();
    // ioat_pci_tbl's CB3 entries: TBG0-7 (5520/7500) and JSF0-9 (Jasper Forest).
    // 3.4 also lists SNB0-9 (Sandy Bridge IIO), which no preset has.
    for (uint16_t id : {0x3430, 0x3431, 0x3432, 0x3433, 0x3429, 0x342a, 0x342b, 0x342c})
        drv.id_table.push_back({0x8086, id});
    for (uint16_t id = 0x3710; id <= 0x3719; ++id) drv.id_table.push_back({0x8086, id});
    // IVB0-9 (Ivy Bridge IIO, 0x0e20-0x0e27, 0x0e2e, 0x0e2f) are not in 3.4;
    // drivers/dma/ioat/hw.h has them by 3.10 (before HSW's). Taken as 3.10's
    // driver, the earliest read, takes them, with its per-ID rule (probe:
    // 64-byte copy alignment). It keeps RAID on Xeons, dropped only with DCA
    // on as in 3.4; later drivers drop RAID on every Xeon CB3.2 instead.
    for (uint16_t id : {0x0e20, 0x0e21, 0x0e22, 0x0e23, 0x0e24, 0x0e25, 0x0e26, 0x0e27, 0x0e2e, 0x0e2f})
        drv.id_table.push_back({0x8086, id});
    drv.probe = [&k, &pci, &dma, dca](pci_dev& d) {
        // Never deleted: after remove the structures are marked freed, so a late
        // user is reported instead of touching real freed memory.
        auto* dev = new ioatdma_device(k, pci, dma, d);
        dev->owner = &mod;
        dev->dca_service = dca;
        dev->dev_driver = [&d] { return d.driver != nullptr; };
        int rc = dev->probe();
        if (rc < 0) {
            delete dev;
            return rc;
        }
        d.drvdata = dev;
        return 0;
    };
    drv.remove = [](pci_dev& d) {
        auto* dev = static_cast<ioatdma_device*>(d.drvdata);
        dev->remove();
    };
    // 3.4 has no PCI error handlers: ioat_pcie_error_detected came in 2016, and
    // the fail-back option adds one that fails the channels back at once.
    if (traits(dma.design()).aer_handler || dma.fails_back())
        drv.error_detected = [](pci_dev& d) { static_cast<ioatdma_device*>(d.drvdata)->error_detected(); };
    else
        drv.error_detected = nullptr;
    pci.register_driver(drv);
    return mod;
}

}  // namespace ioatsim::sw
