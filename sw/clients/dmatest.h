// dmatest (Linux 3.4 drivers/dma/dmatest.c as described in dmaengine-semantics.md
// §6): private MEMCPY channels, threads that copy random windows of pattern-filled
// buffers and verify every byte, counting each kind of failure.
#pragma once
#include "sw/clients/client_config.h"
#include "sw/dmaengine/dmaengine.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ioatsim::sw {

class dmatest {
public:
    dmatest(kernel& k, dmaengine& dma, dmatest_params p);
    void init();  // module load: take channels, start threads

    static constexpr const char* counters[] = {
        "dmatest.tests", "dmatest.failures", "dmatest.prep_errors", "dmatest.submit_errors",
        "dmatest.timeouts", "dmatest.bad_status", "dmatest.data_mismatch", "dmatest.bytes"};

private:
    void thread(dma_chan* chan, std::string name, uint64_t seed);
    unsigned verify(const std::vector<uint8_t>& buf, unsigned start, unsigned end, unsigned counter,
                    uint8_t pattern, bool is_src, const std::string& thread);

    kernel& k_;
    dmaengine& dma_;
    dmatest_params p_;
    std::vector<dma_chan*> chans_;
    unsigned running_ = 0;
    std::vector<uint8_t> expected_;  // scratch for verify
};

}  // namespace ioatsim::sw
