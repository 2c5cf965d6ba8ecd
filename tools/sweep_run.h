// Running a sweep's points: each in its own forked process (SystemC elaborates
// one platform per process), at most `jobs` at a time, each into its own
// folder, with a wall-clock limit. A point's outcome is recorded in
// point.json, written last, so a rerun can tell a whole result from a point
// that was cut short.
#pragma once
#include "models/core/trace_kinds.h"
#include "tools/sweep_plan.h"

#include <functional>
#include <string>

namespace ioatsim::sweep {

// What point.json says. `status` is "pass" or "fail" (the run gave a verdict),
// "error" (the run found bad input: exit 2), "crashed" (any other exit, or a
// signal) or "timeout" (stopped after --timeout); "missing" when there is no
// record at all.
struct point_record {
    std::string status = "missing";
    int exit_status = -1;  // the exit code; 128 + N for signal N, as shells say
    double wall_time_s = 0;
    std::string message;   // the last line the run wrote to stderr, if it failed
    bool complete() const { return status == "pass" || status == "fail"; }
};

// Reads DIR/point.json; a point whose record says pass or fail must also have
// a summary.json that parses, or it counts as missing.
point_record read_record(const std::string& point_dir);
// In a forked child: stdout and stderr into DIR/stdout.txt and stderr.txt,
// `body` run, and the process ended with its exit status (2 on bad input, 3
// on an internal error).
[[noreturn]] void child_exit(const std::string& dir, const std::function<int()>& body);
// Writes DIR/point.json for point `i` from how its process ended (waitpid's status).
void record_point(const plan& p, size_t i, const std::string& dir, int wait_status, bool timed_out, double wall);

struct run_request {
    const checked_plan* plan = nullptr;
    std::string out;  // the sweep's folder
    unsigned jobs = 1;
    double timeout_s = 0;  // 0: none
    trace_level trace = trace_level::none;
    unsigned shard = 1, shards = 1;
    bool progress = false;  // a live line on stderr (a terminal)
};

struct run_counts {
    size_t selected = 0, skipped = 0, ran = 0;
    size_t pass = 0, fail = 0, other = 0;  // over the selected points, skipped ones included
};

// Runs every selected point that has no complete result yet.
run_counts run_points(const run_request& r);


}  // namespace ioatsim::sweep
