// Runs one scenario to its end and writes its outputs: log.txt, hotplug.jsonl,
// trace.jsonl, summary.json, scenario.effective.yaml and the timelines
// (trace.perfetto.json, signals.vcd), each whole or not at all.
#pragma once
#include "models/core/trace_kinds.h"
#include "platform/scenario.h"

#include <string>

namespace ioatsim {

struct run_options {
    std::string out_dir;  // empty: out/<scenario name>/
    bool quiet = false;   // no live log on stdout
    trace_level trace = trace_level::hotplug;  // hotplug.jsonl; full adds trace.jsonl
    bool perfetto = false;  // trace.perfetto.json
    bool vcd = false;       // signals.vcd
};

struct run_result {
    int exit_code = 0;    // 0 expectations met, 1 one failed
    std::string verdict;  // "pass" or "fail"
    std::string out_dir;
};

// Throws input_error on bad input found before the simulation starts.
run_result run_scenario(const scenario& sc, const run_options& opt);

// Writes through a temporary name of this process's own, so a reader never
// sees half a file and processes writing beside each other never share one.
void write_whole(const std::string& path, const std::string& text);
// A whole file as bytes ("" when it cannot be read).
std::string read_whole(const std::string& path);

}  // namespace ioatsim
