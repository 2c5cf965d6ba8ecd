// What a scenario can say about each client: one definition, read by the scenario
// loader and by the clients themselves.
#pragma once
#include <cstdint>
#include <string>

namespace ioatsim::sw {

struct dmatest_params {
    int threads_per_chan = 1;
    int iterations = 0;              // 0: until the run ends
    uint32_t test_buf_size = 16384;
    int max_channels = 0;            // 0: every channel it can get
    std::string channel;             // only this channel (e.g. "dma8chan0"); empty: any
    std::string device;              // only this device (e.g. "0000:80:16.0"); empty: any
    uint64_t timeout = 3'000'000'000'000ull;  // ps: 3000 ms, as in 3.4
    uint64_t seed = 0;               // 0: the run's seed
    // kmalloc on a NUMA node: the threads' buffers from that node's DRAM (above
    // 4 GiB for nodes 1-3 of the x3850 X5), as 3.4's kmalloc gives a thread on
    // that node; -1 or 0: the kernel's pool on node 0, where the model allocates.
    int buffer_node = -1;
    // An injected bug: "unmap_before_complete" unmaps the destination right
    // after issue_pending, before the copy completes. Empty: none.
    std::string bug;
};

struct net_dma_config {
    int interfaces = 1;              // network interfaces up: one dmaengine reference each
    int readers = 0;                 // reading tasks, spread over CPUs and interfaces; 0: one per CPU
    uint32_t read_size = 65536;      // bytes per recvmsg
    uint32_t segment = 1448;         // TCP payload per skb
    int64_t copybreak = -1;          // tcp_dma_copybreak; -1: what the DMA driver set
    double link_gbps = 10.0;         // each interface's line rate, shared by its readers
    int reads = 0;                   // per reader; 0: until the run ends
};

struct async_tx_config {
    int threads = 0;                 // raid6 workers, one per CPU in order; 0: the reference only
    int disks = 16;                  // data disks + P + Q: raid6test's NDISKS
    uint32_t block = 4096;
    int iterations = 0;              // recoveries per worker; 0: until the run ends
    uint64_t seed = 0;               // 0: the run's seed
};

// The DCA requester: an igb-like NIC (Linux 3.4 igb's DCA paths) receiving on
// `queues` queues, each polled on its own CPU, whose writes carry the DCA tag
// of that CPU while DCA is on.
struct dca_requester_config {
    std::string device = "0000:01:00.0";  // its PCI address: requester ID and root complex
    int queues = 2;                       // q_vectors, on CPUs spread evenly over the machine
    uint64_t interval = 12'000'000;       // ps between frames per queue: 1514 B at 1 Gb/s
    uint32_t packet = 1514;               // bytes per frame
    int packets = 0;                      // per queue; 0: until the run ends
    // Its driver loads before ioatdma (modules load in udev's order); otherwise
    // after it, the built-in link order (drivers/Makefile puts dma/ before net/).
    bool before_ioatdma = false;
    // Test only, a broken driver: on DCA_PROVIDER_REMOVE it removes itself as a
    // requester but leaves the NIC's DCA on, so its writes keep a stale tag.
    bool keep_tagging = false;
};

}  // namespace ioatsim::sw
