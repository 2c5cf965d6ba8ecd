// net_dma (Linux 3.4 tcp_recvmsg with CONFIG_NET_DMA, dmaengine-semantics.md §1.11):
// each interface brought up takes a dmaengine reference; readers receive a stream
// of segments and, above tcp_dma_copybreak, offload each segment's copy to the
// channel dma_find_channel gave them at the start of the read, holding that raw
// pointer while they wait for data, then spin until the last copy completes.
// Under the other designs the reader holds a use of the channel for the read
// (as 2.6.18's get_softnet_dma did), copies a segment on the CPU when the channel
// is down, and redoes on the CPU every copy failed back to it.
#pragma once
#include "sw/clients/client_config.h"
#include "sw/dmaengine/client.h"

#include <string>
#include <vector>

namespace ioatsim::sw {

class net_dma {
public:
    net_dma(kernel& k, dmaengine& dma, net_dma_config cfg);
    void init();    // interfaces up, readers started (after the DMA drivers loaded)
    // End of run: a reader spinning for longer than `hung_after` is hung and its
    // copies are lost; one that just started is merely busy.
    void finish(ktime_t hung_after = 1 * MSEC);

    static constexpr const char* counters[] = {
        "net_dma.reads", "net_dma.copies_submitted", "net_dma.copies_completed", "net_dma.copies_failed",
        "net_dma.copies_lost", "net_dma.fallbacks", "net_dma.failed_back", "net_dma.bytes_offloaded",
        "net_dma.hung_readers"};

private:
    struct reader_state {
        std::string name;
        uint64_t skb = 0, user = 0;  // kernel receive buffer, user buffer
        ktime_t stream = 0;          // when the next segment arrives
        bool draining = false;       // spinning in tcp_service_net_dma
        dma_chan* chan = nullptr;    // the channel it spins on
        ktime_t since = 0;           // when it started to spin
        dma_cookie_t waiting_for = 0;
        uint64_t in_flight = 0;      // copies of the current read not yet known complete
        uint64_t reads = 0;
    };
    struct segment { dma_cookie_t cookie; uint64_t off, n; };
    void reader(unsigned id);
    void recvmsg(reader_state& r, unsigned id);
    void cpu_copy(reader_state& r, uint64_t off, uint64_t n);
    void redo_failed(reader_state& r, dma_chan* chan, const std::vector<segment>& segs);

    kernel& k_;
    dmaengine& dma_;
    net_dma_config cfg_;
    dma_client client_;  // client_callbacks: one client for the stack
    std::vector<reader_state> readers_;
};

}  // namespace ioatsim::sw
