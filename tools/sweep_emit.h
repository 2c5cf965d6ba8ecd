// Campaigns beyond one machine run on existing engines, never a home-made
// scheduler: `--emit slurm` writes an sbatch job array (one task per shard,
// each `ioatsim sweep ... --shard I/N` into the same folder) and a merge job
// that depends on it; `--emit parallel` writes a GNU parallel job list and the
// command that runs it over --sshlogin hosts, then merges. Both assume the
// program, the scenario and the output folder are at the same paths on every
// node (a shared file system, as clusters have).
#pragma once
#include <string>
#include <vector>

namespace ioatsim::sweep {

struct emit_request {
    std::string kind;                     // "slurm" or "parallel"
    std::string binary;                   // the ioatsim program, absolute
    std::string out;                      // the sweep's folder, absolute
    std::vector<std::string> sweep_args;  // what every shard runs after `ioatsim sweep`, --out and --shard aside
    std::vector<std::string> merge_args;  // after `ioatsim sweep merge OUT`
    unsigned shards = 1;
    unsigned throttle = 0;                // Slurm: array tasks at a time (0: all)
    unsigned jobs = 1;                    // processes per shard
    std::string sshlogin = ":";           // GNU parallel's --sshlogin (":" is this machine)
};

// Writes the scripts under OUT/slurm/ or OUT/parallel/; returns the one to run.
std::string emit(const emit_request& r);

// A word for a POSIX shell, single-quoted when it needs to be.
std::string shell_quote(const std::string& word);

}  // namespace ioatsim::sweep
