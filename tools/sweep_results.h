// A sweep's tables, always made from its folder (sweep.json and each point's
// point.json and summary.json), so a single run, a resumed one and shards
// merged give the same bytes apart from the wall-time columns:
//   results.csv, results.jsonl  one row per point: the axes, the seed, the
//                               verdict, the exit status and every number of
//                               summary.json (flattened dotted keys; true/false
//                               as 1/0; null and absent as an empty cell)
//   summary.csv                 one row per point of the axes other than the
//                               seed: for every number, n, mean, min, max and
//                               the sample standard deviation over its seeds
#pragma once
#include "tools/sweep_plan.h"

#include <string>
#include <vector>

namespace ioatsim::sweep {

struct results_counts {
    size_t points = 0, pass = 0, fail = 0, other = 0;  // other: crashed, timed out, bad input or missing
};

results_counts write_results(const plan& p, const std::string& out);

// The plan in DIR/sweep.json; throws input_error when there is none.
plan read_plan(const std::string& dir);

// `ioatsim sweep merge DIR...`: every point's folder is taken from the first
// DIR where it is complete (else where it was at least recorded) into `out`
// (default: the first DIR), then the tables are written there. The DIRs must
// hold the same campaign.
results_counts merge(const std::vector<std::string>& dirs, const std::string& out);

// CSV, as RFC 4180 quotes it.
std::string csv_field(const std::string& s);
std::vector<std::string> csv_split(const std::string& line);

}  // namespace ioatsim::sweep
