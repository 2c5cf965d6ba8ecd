#include "sw/clients/dca_requester.h"

#include <algorithm>

namespace ioatsim::sw {

namespace {
constexpr unsigned RING_ENTRIES = 256;  // igb's default rx ring (IGB_DEFAULT_RXD)
constexpr uint64_t DESC = 16;           // union e1000_adv_rx_desc
}  // namespace

dca_requester::dca_requester(kernel& k, dca_core& dca, dca_requester_config cfg, dca_device dev,
                             upstream_fn upstream)
    : k_(k), dca_(dca), cfg_(std::move(cfg)), dev_(std::move(dev)), upstream_(std::move(upstream)),
      rx_packet_(k.timing("cost.igb_rx_packet")) {
    for (const char* c : counters) k_.rep().declare(c);
    nb_.notifier_call = [this](unsigned long event) { return notify(event); };
}

// igb_init_module registers the notifier before the driver, so a provider
// that comes while the NIC probes is heard; igb_probe then tries at once.
void dca_requester::init() {
    dca_.dca_init();  // igb needs the dca module
    k_.printk("igb: Intel(R) Gigabit Ethernet Network Driver - version 3.2.10-k");
    k_.printk("igb: Copyright (c) 2007-2012 Intel Corporation.");
    dca_.dca_register_notify(&nb_);
    unsigned n = unsigned(std::max(cfg_.queues, 1));
    q_.resize(n);
    for (unsigned i = 0; i < n; ++i) {
        q_vector& q = q_[i];
        q.home = i * k_.nr_cpus() / n;
        q.ring = k_.alloc_phys(RING_ENTRIES * DESC, 4096);
        q.buf = k_.alloc_phys(uint64_t(RING_ENTRIES) * cfg_.packet, 4096);
    }
    if (dca_.dca_add_requester(dev_) == 0) {
        dca_enabled_ = true;
        log("DCA enabled");
        igb_setup_dca();
    }
    log("Intel(R) Gigabit Ethernet Network Connection");
    for (unsigned i = 0; i < n; ++i) k_.kthread_run(strfmt("igb-rx%u", i), q_[i].home, [this, i] { queue(i); }, false, true);
}

// __igb_notify_dca, for the one NIC of this driver (driver_for_each_device).
int dca_requester::notify(unsigned long event) {
    if (event == DCA_PROVIDER_ADD) {
        if (dca_enabled_) return 0;
        if (dca_.dca_add_requester(dev_) == 0) {
            dca_enabled_ = true;
            log("DCA enabled");
            igb_setup_dca();
            return 0;
        }
        // Fall through since DCA is disabled.
    }
    if (dca_enabled_) {  // DCA_PROVIDER_REMOVE (or an ADD it could not use)
        dca_.dca_remove_requester(dev_);
        log("DCA disabled");
        dca_enabled_ = false;
        if (!cfg_.keep_tagging) dca_ctrl_ = E1000_DCA_CTRL_DCA_MODE_DISABLE;
    }
    return 0;
}

// Every queue is retagged, for the CPU this runs on (the notifier's or probe's
// caller): the next poll on another CPU retags it again.
void dca_requester::igb_setup_dca() {
    if (!dca_enabled_) return;
    dca_ctrl_ = E1000_DCA_CTRL_DCA_MODE_CB2;
    for (q_vector& q : q_) {
        q.cpu = -1;
        igb_update_dca(q);
    }
}

void dca_requester::igb_update_dca(q_vector& q) {
    int cpu = int(k_.smp_processor_id());
    if (q.cpu == cpu) return;
    q.rx_tag = dca_.dca3_get_tag(dev_, unsigned(cpu));  // into DCA_RXCTRL's CPUID field
    q.rx_dca_en = true;                                 // DESC, HEAD and DATA DCA enables
    q.cpu = cpu;
}

// A DMA write of the NIC: the bytes land in memory; while its DCA is on, the
// write carries the queue's tag to the IOH, and the checker sees it.
bool dca_requester::nic_write(q_vector& q, uint64_t pa, const void* data, uint64_t len) {
    const bool tagged = dca_ctrl_ == E1000_DCA_CTRL_DCA_MODE_CB2 && q.rx_dca_en;
    if (!upstream_(dev_.rid(), tagged ? int(q.rx_tag) : -1, k_.now())) return false;
    if (tagged) {
        ++k_.rep().counter("igb.dca_tagged_writes");
        dca_.tagged_write(dev_, q.rx_tag);
    }
    k_.mem_write(pa, data, len);
    return true;
}

// Frames arrive at the line rate; the NIC writes each one and its descriptor,
// then NAPI polls on this queue's CPU: igb_update_dca first (when DCA is on),
// then igb_clean_rx_irq reads the descriptor.
void dca_requester::queue(unsigned i) {
    q_vector& q = q_[i];
    std::vector<uint8_t> frame(cfg_.packet);
    while (!gone_ && (cfg_.packets == 0 || q.packets < uint64_t(cfg_.packets))) {
        k_.schedule_timeout(cfg_.interval);
        const unsigned slot = q.next++ % RING_ENTRIES;
        for (size_t b = 0; b < frame.size(); ++b) frame[b] = uint8_t(i * 31 + q.packets + b);
        uint8_t wb[DESC] = {};
        wb[8] = 0x1;  // DD: descriptor done
        if (!nic_write(q, q.buf + uint64_t(slot) * cfg_.packet, frame.data(), frame.size()) ||
            !nic_write(q, q.ring + slot * DESC, wb, DESC)) {
            gone_ = true;  // the NIC went with its IOH [inference]
            break;
        }
        if (dca_enabled_) igb_update_dca(q);
        uint8_t got[DESC];
        k_.mem_read(q.ring + slot * DESC, got, DESC);
        k_.cost(rx_packet_);
        ++q.packets;
        ++k_.rep().counter("igb.rx_packets");
        ++ledger_.done;
    }
}

void dca_requester::finish() {}

}  // namespace ioatsim::sw
