// dmatest (Linux 3.4 drivers/dma/dmatest.c as described in dmaengine-semantics.md
// §6): private MEMCPY channels, threads that copy random windows of pattern-filled
// buffers and verify every byte, counting each kind of failure (a prep or submit
// error sleeps 100 ms). Under the per-use designs each test holds a use of its
// channel and a channel going away stops its threads; under client_callbacks the
// channels come and go by events (2.6.26's dmatest). With fail-back a copy the
// channel fails back is done on the CPU.
#pragma once
#include "sw/clients/client_config.h"
#include "sw/clients/copy_ledger.h"
#include "sw/dmaengine/client.h"

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ioatsim::sw {

class dmatest {
public:
    dmatest(kernel& k, dmaengine& dma, dmatest_params p);
    void init();  // module load: take channels, start threads
    // End of run: a copy still awaited on a channel whose device has left the
    // dmaengine is lost; the others are in flight.
    void finish();
    const copy_ledger& copies() const { return ledger_; }  // done: tests verified
    // Memory of a NUMA node for buffer_node (the platform's): an address or 0.
    std::function<uint64_t(int node, uint64_t size)> alloc_node;
    std::function<void(uint64_t pa)> free_node;

    static constexpr const char* counters[] = {
        "dmatest.tests", "dmatest.failures", "dmatest.prep_errors", "dmatest.submit_errors",
        "dmatest.timeouts", "dmatest.bad_status", "dmatest.data_mismatch", "dmatest.bytes"};

    // A test buffer's region: bytes [start, end) hold pattern | (~counter & 0x1f),
    // the counter starting at `counter` (3.4's dmatest_init_srcs/dsts).
    struct region { unsigned start, end, counter; uint8_t pattern; };

private:
    struct chan_slot {       // a channel the threads of one slot share, or none any more
        dma_chan* chan = nullptr;
        std::string name;    // of the channel it started with, for the thread names
        int threads = 0;     // still running
    };
    bool match(dma_chan* c) const;
    void start_threads(size_t slot);
    bool use_channel(chan_slot& s);  // false: the channel is going away
    void thread_stopped(chan_slot& s);
    struct thread_state {
        std::string name;
        dma_chan* awaited = nullptr;  // the channel of the copy it waits for
    };
    void thread(chan_slot* slot, thread_state* me, uint64_t seed);
    void fill(uint64_t pa, unsigned size, const region (&rs)[3]);
    unsigned verify(uint64_t pa, unsigned size, const region (&rs)[3], bool is_src, const std::string& thread);

    kernel& k_;
    dmaengine& dma_;
    dmatest_params p_;
    std::vector<std::unique_ptr<chan_slot>> slots_;
    dma_client client_;      // client_callbacks
    unsigned running_ = 0;
    bool starting_ = true;   // client_callbacks: channels offered at init fill new slots
    std::deque<thread_state> threads_;
    copy_ledger ledger_;
};

}  // namespace ioatsim::sw
