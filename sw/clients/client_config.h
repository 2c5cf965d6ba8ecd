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
};

struct net_dma_config {
    int interfaces = 1;              // network interfaces up: one dmaengine reference each
    int readers = 0;                 // reading tasks, spread over CPUs; 0: one per CPU
    uint32_t read_size = 65536;      // bytes per recvmsg
    uint32_t segment = 1448;         // TCP payload per skb
    int64_t copybreak = -1;          // tcp_dma_copybreak; -1: what the DMA driver set
    double link_gbps = 10.0;         // arrival rate of each reader's data
    int reads = 0;                   // per reader; 0: until the run ends
};

struct async_tx_config {
    int threads = 0;                 // raid6 workers, one per CPU in order; 0: the reference only
    int disks = 8;                   // data disks + P + Q, as raid6test's NDISKS
    uint32_t block = 4096;
    int iterations = 0;              // recoveries per worker; 0: until the run ends
    uint64_t seed = 0;               // 0: the run's seed
};

}  // namespace ioatsim::sw
