// Runs one scenario to its end and writes its outputs: log.txt, hotplug.jsonl,
// trace.jsonl, summary.json, scenario.effective.yaml and the timelines
// (trace.perfetto.json, signals.vcd), each whole or not at all.
#pragma once
#include "models/core/trace_kinds.h"
#include "platform/scenario.h"

#include <memory>
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

// A run in steps, for `ioatsim torture`: a prefix holds one timeline action
// back, is brought to each instant and forks; each child moves the action
// there, takes its own scenario and folder, and finishes as a run of that
// scenario would, byte for byte.
class run_session {
public:
    run_session(const scenario& sc, const run_options& opt);  // built, booted, not started
    ~run_session();
    void hold_action(size_t file_index);
    // Runs up to `t_ps`, letting due actions go; false once the run is over.
    bool advance_to(uint64_t t_ps);
    uint64_t now_ps() const;
    // In a forked child: `sc` (the same platform, the action at `at_ps`) and its folder.
    void become(const scenario& sc, const std::string& out_dir, size_t file_index, uint64_t at_ps);
    run_result finish();

private:
    struct impl;
    std::unique_ptr<impl> p_;
};

// Writes through a temporary name of this process's own, so a reader never
// sees half a file and processes writing beside each other never share one.
void write_whole(const std::string& path, const std::string& text);
// A whole file as bytes ("" when it cannot be read).
std::string read_whole(const std::string& path);

}  // namespace ioatsim
