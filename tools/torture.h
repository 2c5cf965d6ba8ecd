// `ioatsim torture`: one timeline action moved across a window of instants
// under each design (and fail-back setting) asked, every instant a run of its
// own. It is a sweep (sweep.json, points/, results.csv, resumable) whose last
// axis is the action's instant; runs that differ only in that instant share
// the simulation up to it: one prefix process per design simulates to each
// instant in turn and forks the run that lets the action go there
// (run_session), byte for byte what a separate run of that instant gives.
#pragma once
#include "models/core/trace_kinds.h"
#include "tools/sweep_plan.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ioatsim {

// Exit status: 0 every instant passed or was vacuous, 1 an instant failed,
// crashed or timed out, 2 bad input.
int cmd_torture(const std::vector<std::string>& args);

namespace torture {

struct group { std::vector<size_t> points; };  // one design and fail-back, instants ascending

struct request {
    const sweep::checked_plan* plan = nullptr;
    std::string out;
    size_t action = 0;  // timeline.N
    unsigned jobs = 1;
    double timeout_s = 0;
    trace_level trace = trace_level::none;
    bool progress = false;
};

// The instant of point `i` (its last axis), in picoseconds.
uint64_t instant_ps(const sweep::plan& p, size_t i);
// Runs each group's missing points; returns how many groups ran.
size_t run_groups(const request& r, const std::vector<group>& groups);

}  // namespace torture
}  // namespace ioatsim
