// Runs scenarios each in its own forked process (SystemC elaborates one
// platform per process), at most `parallel` at a time: what compare and
// `run --seeds` share.
#pragma once
#include "platform/runner.h"
#include "platform/scenario.h"

#include <string>
#include <vector>

namespace ioatsim {

struct child_run {
    scenario sc;
    run_options options;
    std::string label;      // names the run in its error messages
    std::string stdout_to;  // the child's standard output: a file, or /dev/null
};

// Each run's exit status: 0-2 as `ioatsim run` gives them, 3 when it crashed.
std::vector<int> run_in_children(const std::vector<child_run>& runs, unsigned parallel);

}  // namespace ioatsim
