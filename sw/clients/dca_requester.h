// A DCA requester: an igb-like NIC and its driver's DCA paths, as Linux 3.4's
// igb_main.c has them. The driver registers a DCA notifier at module load and
// adds the NIC as a requester in probe (dca_add_requester), again on each
// DCA_PROVIDER_ADD while it has none; on DCA_PROVIDER_REMOVE it removes itself
// and turns the NIC's DCA off (DCA_CTRL). Each receive queue's NAPI poll sets
// the queue's tag to the CPU it runs on (igb_update_dca: dca3_get_tag into
// DCA_RXCTRL), and while DCA is on the NIC's descriptor and data writes carry
// that tag. The NIC itself is modelled here, not as a PCI function [inference]:
// its writes go to memory through the kernel, and its DCA hint to the IOH
// model through `upstream`; each tagged write is shown to the DCA checker.
#pragma once
#include "sw/clients/client_config.h"
#include "sw/clients/copy_ledger.h"
#include "sw/dca/dca.h"

#include <functional>
#include <string>
#include <vector>

namespace ioatsim::sw {

class dca_requester {
public:
    // The NIC's memory write as its IOH sees it, with its DCA tag or none (-1);
    // false when the IOH (and the NIC below it) is gone.
    using upstream_fn = std::function<bool(uint16_t rid, int tag, ktime_t at)>;
    dca_requester(kernel& k, dca_core& dca, dca_requester_config cfg, dca_device dev, upstream_fn upstream);
    void init();    // igb_init_module: the notifier, then igb_probe; the queues start
    void finish();
    const copy_ledger& copies() const { return ledger_; }  // done: frames received
    bool dca_enabled() const { return dca_enabled_; }

    static constexpr const char* counters[] = {"igb.rx_packets", "igb.dca_tagged_writes"};

private:
    // DCA_CTRL modes and DCA_RXCTRL enables (e1000_82575.h).
    static constexpr uint32_t E1000_DCA_CTRL_DCA_MODE_DISABLE = 0x01, E1000_DCA_CTRL_DCA_MODE_CB2 = 0x02;
    struct q_vector {
        unsigned home = 0;      // the CPU its interrupt and NAPI poll are bound to
        int cpu = -1;           // q_vector->cpu: the CPU its tag was last set for
        uint64_t ring = 0, buf = 0;
        unsigned next = 0;
        // its DCA_RXCTRL: the tag and the descriptor/header/data DCA enables
        uint8_t rx_tag = 0;
        bool rx_dca_en = false;
        uint64_t packets = 0;
    };
    int notify(unsigned long event);   // __igb_notify_dca
    void igb_setup_dca();
    void igb_update_dca(q_vector& q);
    void queue(unsigned i);            // frames arriving, and igb_poll
    bool nic_write(q_vector& q, uint64_t pa, const void* data, uint64_t len);
    void log(const std::string& text) { k_.dev_printk("igb", dev_.name, text); }

    kernel& k_;
    dca_core& dca_;
    dca_requester_config cfg_;
    dca_device dev_;
    upstream_fn upstream_;
    const ktime_t rx_packet_;  // costs.h
    notifier_block nb_;
    bool dca_enabled_ = false;               // IGB_FLAG_DCA_ENABLED
    uint32_t dca_ctrl_ = E1000_DCA_CTRL_DCA_MODE_DISABLE;  // the NIC's DCA_CTRL
    bool gone_ = false;                      // its IOH went: the NIC with it
    std::vector<q_vector> q_;
    copy_ledger ledger_;
};

}  // namespace ioatsim::sw
