// `ioatsim sweep` and `ioatsim plot`: the command lines over sweep_plan (axes
// and grid), sweep_run (processes), sweep_results (tables), sweep_emit (Slurm
// and GNU parallel) and plot (gnuplot).
#pragma once
#include <string>
#include <vector>

namespace ioatsim {

// Exit status: 0 every point gave a verdict (pass or fail), 1 a point crashed,
// timed out or is missing, 2 bad input (before anything is written).
int cmd_sweep(const std::vector<std::string>& args);
int cmd_plot(const std::vector<std::string>& args);

}  // namespace ioatsim
