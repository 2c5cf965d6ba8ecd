// net_dma (Linux 3.4 tcp_recvmsg with CONFIG_NET_DMA, dmaengine-semantics.md §1.11):
// each interface brought up takes a dmaengine reference; readers receive a stream
// of segments and, above tcp_dma_copybreak, offload each segment's copy to the
// channel dma_find_channel gave them at the start of the read, holding that raw
// pointer while they wait for data, then spin until the last copy completes. A
// copy the channel refuses ends the read early ("dma_cookie < 0"). Under the
// per-use designs the reader holds a use of the channel for the read (as
// 2.6.18's get_softnet_dma did, and the 2012 series' patch 6); no channel means
// CPU copies. With fail-back it redoes on the CPU every copy failed back to it.
// net_dma left the kernel in 3.17: under mainline and percpu_ref it runs as 3.4's
// on a later core, a combination that never shipped.
#pragma once
#include "sw/clients/client_config.h"
#include "sw/clients/copy_ledger.h"
#include "sw/dmaengine/client.h"

#include <string>
#include <vector>

namespace ioatsim::sw {

class net_dma {
public:
    net_dma(kernel& k, dmaengine& dma, net_dma_config cfg);
    void init();    // interfaces up, readers started (after the DMA drivers loaded)
    // End of run: copies still awaited on a channel whose device has left the
    // dmaengine are lost; the others are in flight.
    void finish();
    const copy_ledger& copies() const { return ledger_; }  // done: reads delivered

    // copies_failed: 3.4's "dma_cookie < 0" bail-outs.
    // offload_cpu_ps: the CPU time the offload takes (pinning, prep and submit,
    // issue_pending, the drain's spin), against cpu_copy_ps for the bytes
    // copied on the CPU: the offload's net gain per byte.
    static constexpr const char* counters[] = {"net_dma.reads", "net_dma.copies_failed", "net_dma.bytes_offloaded",
                                               "net_dma.offload_cpu_ps", "net_dma.cpu_copy_ps",
                                               "net_dma.cpu_copy_bytes"};

private:
    struct reader_state {
        std::string name;
        uint64_t skb = 0, user = 0;  // kernel receive buffer, user buffer
        unsigned eth = 0;            // the interface it reads from
        dma_chan* chan = nullptr;    // the channel of the current read
        int64_t in_flight = 0;       // copies of the current read not yet known complete
        uint64_t reads = 0;
        std::vector<uint8_t> expect, got;  // a segment or chunk of the payload, what arrived (reused)
    };
    struct segment { dma_cookie_t cookie; uint64_t off, n; };
    void reader(unsigned id);
    void recvmsg(reader_state& r, unsigned id);
    void cpu_copy(reader_state& r, uint64_t off, uint64_t n);
    void redo_failed(reader_state& r, dma_chan* chan, const std::vector<segment>& segs);

    kernel& k_;
    dmaengine& dma_;
    net_dma_config cfg_;
    const ktime_t syscall_, pin_page_, cpu_relax_;  // costs.h
    dma_client client_;  // client_callbacks: one client for the stack
    std::vector<reader_state> readers_;
    std::vector<ktime_t> wire_;  // per interface: when its line is next free
    copy_ledger ledger_;
};

}  // namespace ioatsim::sw
