// What `ioatsim diff` compares, read from a run folder (summary.json and
// hotplug.jsonl), a folder of seeds (seed-S/ of `run --seeds`) or a golden
// (golden.json and its hotplug traces), and how a golden is written.
//
// A behaviour is one run's hotplug events per source with times, counts and
// the figures of each event kind stripped (trace_kinds.h), text numbers masked,
// plus every value of summary.json that is not a number (the verdict, what
// finished, what stayed null). Seeds that behave alike share one behaviour.
// The figures are the numbers of summary.json, as a distribution over seeds.
#pragma once
#include "models/core/trace_kinds.h"
#include "platform/runner.h"
#include "tools/tolerance.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ioatsim {

struct behaviour_event {
    uint64_t t = 0;
    std::string src, ev;
    std::string key;    // what is compared: the fields that are behaviour, numbers in text masked
    std::string shown;  // the event as a person reads it
    std::string masked; // the same with the numbers of its text masked, as compared
    bool unordered = false;
};

struct behaviour {
    std::vector<int64_t> seeds;
    std::string trace;  // the file its events came from
    std::vector<behaviour_event> events;
    std::map<std::string, std::string> summary;  // flattened key -> JSON of each non-number
    bool same_as(const behaviour& o, const tolerances& tol) const;
};

struct figure {
    size_t n = 0;
    double mean = 0, stddev = 0, min = 0, max = 0;
};

struct results {
    std::string where;     // the folder
    std::string kind;      // "run", "seeds" or "golden"
    std::string scenario;
    std::vector<int64_t> seeds;
    std::vector<behaviour> behaviours;         // distinct, in seed order
    std::map<std::string, figure> figures;     // flattened key -> distribution over seeds
    std::map<std::string, std::string> params; // flattened, JSON: compared as notes only
    std::string describe() const;              // "golden: 3 seeds (1-3), 2 behaviours"
};

// Throws input_error naming the folder when it is none of the three.
results load_results(const std::string& folder);
// golden.json, hotplug.jsonl (the first behaviour's trace) and
// hotplug.seed-S.jsonl for each other behaviour; every file whole.
void write_golden(const std::string& folder, const results& r);
bool is_golden(const std::string& folder);

// `ioatsim run ... --seeds N`: seeds run.seed .. run.seed+N-1, each in its own
// process, into OUT/seed-S/; with `golden`, then a golden of them all. Returns
// the worst exit status (0 all passed, 1 one failed, 3 one did not finish).
struct seeds_options {
    std::string scenario;
    std::vector<std::string> sets;
    run_options run;
    unsigned seeds = 1;
    unsigned jobs = 1;
    std::string golden;  // empty: none
};
int run_seeds(const seeds_options& o);

}  // namespace ioatsim
