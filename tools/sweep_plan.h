// `ioatsim sweep`'s plan: the axes (any dotted scenario key, the design, the
// seed), their values (lists or ranges), and the grid of points they make. The
// plan is what identifies a campaign: it is written as sweep.json, a rerun or a
// shard must find the same one there, and `sweep merge` reads it back.
#pragma once
#include "platform/scenario.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace ioatsim::sweep {

struct axis {
    std::string name;                 // the column: the key as written, or "design"
    std::string key;                  // the scenario key it sets
    std::vector<std::string> values;  // each given to --set KEY=VALUE
    bool log = false;                 // a :log range: plots use a log scale
};

// "50ns,152ns,300ns" (a list; commas inside [] {} or quotes do not split),
// "50ns..2000ns:8" or "1..1024:11:log" (a range, both ends included). Times
// are exact to the picosecond and written in the first end's unit; integers
// stay integers. Throws input_error naming `option` and the text.
std::vector<std::string> expand_values(const std::string& text, bool& log, const std::string& option);

// "KEY=VALUES". A KEY that is a platform parameter (coherence.atomic_one_hop)
// stands for platform.set.KEY.
axis parse_axis(const std::string& text);

struct point {
    size_t index = 0;
    std::vector<std::string> values;  // one per axis, in axis order
    uint64_t seed = 0;
    std::vector<std::string> sets;    // everything given to --set for this point
    std::string dir;                  // under the sweep's folder: points/0003-atomic-50ns-s1
};

struct plan {
    std::string scenario;       // absolute path
    std::string scenario_name;
    std::string scenario_hash;  // FNV-1a of the file's text: an edited scenario is another campaign
    std::vector<std::string> sets;  // fixed overrides
    std::vector<axis> axes;     // "design" first when given, then each --axis in order
    unsigned seeds = 1;         // seeds per point of the other axes, run.seed upwards
    std::vector<point> points;  // the grid in order: designs outermost, seeds innermost

    nlohmann::json to_json() const;
    static plan from_json(const nlohmann::json& j, const std::string& where);
    // Two plans are the same campaign (the scenario's path may differ).
    bool same_campaign(const plan& o) const;
};

struct plan_request {
    std::string scenario;                // a file or an installed scenario's name
    std::vector<std::string> sets;
    std::vector<std::string> axes;       // "KEY=VALUES" each
    std::vector<std::string> designs;    // empty: the scenario's
    unsigned seeds = 1;
};

// The plan, and every point's scenario loaded and its platform resolved, so
// that bad input is refused before anything runs or is written.
struct checked_plan {
    plan p;
    std::vector<scenario> scenarios;  // one per point
};
checked_plan make_plan(const plan_request& r);

constexpr size_t max_points = 100000;

// "I/N", 1 <= I <= N: shard I runs the points whose index is I-1 modulo N.
void parse_shard(const std::string& text, unsigned& shard, unsigned& shards);
inline bool in_shard(size_t index, unsigned shard, unsigned shards) {
    return shards <= 1 || index % shards == shard - 1;
}

}  // namespace ioatsim::sweep
