// `ioatsim compare`: one scenario under several dmaengine designs, each run in its
// own process (SystemC elaborates one design per process), and one table of what
// each design did: verdict, violations by kind, copies by outcome, removal
// latency, throughput per phase and the CPU time channel references cost.
#pragma once
#include "models/core/trace_kinds.h"

#include <string>
#include <vector>

namespace ioatsim {

struct compare_options {
    std::string scenario;
    std::vector<std::string> designs;  // empty: all
    std::vector<std::string> sets;
    std::string out_dir;               // empty: out/compare-<scenario name>/
    unsigned jobs = 1;
    std::vector<std::string> expect_fail = {"legacy"};  // designs allowed to fail
    trace_level trace = trace_level::hotplug;  // each design's hotplug.jsonl, for ioatsim diff
};

// Returns 0 when every design passed or is allowed to fail, 1 otherwise (a run
// that failed, or did not finish). Throws input_error on bad input, before any
// run starts.
int compare(const compare_options& opt);

}  // namespace ioatsim
