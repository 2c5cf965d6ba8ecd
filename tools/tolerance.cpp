#include "tools/tolerance.h"

#include "models/core/trace_kinds.h"
#include "platform/scenario.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace ioatsim {

namespace {

using R = tolerance_rule;

// The defaults, most specific first: exact for what the checker counts, and
// otherwise as loose as one seed's noise requires. Measured over the 35
// goldens (5 scenarios x 7 designs), a 3% change of ioat.desc_overhead or
// another seed moves the totals of work up to 14% (90% of them within 9%),
// removal latency within 7% (up to a third where a design waits for grace
// periods), and what the removal instant decides (CPU fallbacks, fail-backs,
// the rate while removing) by a half or more: those need seeds (--seeds) to
// be compared closely.
const std::vector<tolerance_rule> defaults = {
    {R::ignore, "wall_time_s", 0, 0, "default"},    // the machine's time, not the simulation's
    {R::ignore, "program.*", 0, 0, "default"},      // version and SystemC release
    {R::ignore, "trace_events", 0, 0, "default"},   // what was traced, not what happened
    {R::ignore, "counters.kernel.poll_passes_slept", 0, 0, "default"},  // how the polls were run, not what they did
    {R::ignore, "seed", 0, 0, "default"},           // shown with the seeds
    {R::ignore, "expectations.*", 0, 0, "default"}, // the scenario's own checks: the verdict says how they went
    {R::ignore, "*in_flight_at_end", 0, 0, "default"},  // where the end cut the rings; the verdict checks the ledger
    {R::exact, "violations", 0, 0, "default"},
    {R::exact, "counters.violations.*", 0, 0, "default"},
    {R::exact, "exit_status", 0, 0, "default"},
    {R::exact, "removal.requested", 0, 0, "default"},
    {R::exact, "removal.requested_us", 0, 0, "default"},         // the timeline's, not measured
    {R::exact, "os_operations.*.requested_ps", 0, 0, "default"},
    {R::exact, "clients.*.options.*", 0, 0, "default"},          // what the clients were asked to do
    {R::range, "removal.*", 0.10, 50, "default"},                 // latency: 10%, or a completion timeout
    {R::range, "os_operations.*", 0.10, 50e6, "default"},         // the same, in picoseconds
    {R::range, "*copies.cpu", 0.50, 400, "default"},              // net_dma falls back a read (363) at a time
    {R::range, "counters.async_tx.ops_cpu", 0.50, 400, "default"},
    {R::range, "*copies.failed_back", 0.25, 64, "default"},       // what the instant of removal had queued
    {R::range, "counters.net_dma.copies_failed", 0.25, 64, "default"},
    {R::range, "timeline.*.in_flight", 0.25, 64, "default"},       // the same: what the action met in the rings
    {R::range, "counters.pcie.*", 0.25, 16, "default"},           // accesses that met the removed IOH
    {R::range, "throughput.during_gbytes_per_s", 0.50, 0, "default"},  // a window of tens of microseconds
    {R::range, "copies.*", 0.10, 0, "default"},                   // copies by outcome, totals of work: 10%
    {R::range, "clients.*", 0.10, 0, "default"},
    {R::range, "counters.*", 0.10, 0, "default"},
    {R::range, "throughput.*", 0.10, 0, "default"},
    {R::range, "references.*", 0.10, 0, "default"},
    {R::range, "*", 0.10, 0, "default"},
};

std::string at(const std::string& path, const YAML::Mark& m) {
    return path + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

// 0.1 or "10%", never negative.
double fraction(const std::string& path, const YAML::Node& n, bool percent_ok) {
    std::string s = n.IsScalar() ? n.Scalar() : "";
    bool percent = percent_ok && !s.empty() && s.back() == '%';
    if (percent) s.pop_back();
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end || !std::isfinite(v) || v < 0)
        throw input_error(at(path, n.Mark()) + ": expected a number at least 0" +
                          (percent_ok ? " (or a percentage such as \"10%\")" : ""));
    return percent ? v / 100 : v;
}

}  // namespace

double tolerance_rule::allowed(double old_value) const {
    return kind == range ? abs + rel * std::fabs(old_value) : 0;
}

std::string tolerance_rule::describe() const {
    if (kind == exact) return "exact";
    if (kind == ignore) return "ignored";
    char b[64];
    if (abs == 0) std::snprintf(b, sizeof b, "%g%%", rel * 100);
    else if (rel == 0) std::snprintf(b, sizeof b, "%g", abs);
    else std::snprintf(b, sizeof b, "%g%% + %g", rel * 100, abs);
    return b;
}

tolerances::tolerances() : rules_(defaults) {}

void tolerances::load(const std::string& path) {
    std::ifstream probe(path);
    if (!probe) throw input_error(path + ": cannot read the tolerance file");
    YAML::Node doc;
    try {
        doc = YAML::LoadFile(path);
    } catch (const YAML::Exception& e) {
        throw input_error(at(path, e.mark) + ": " + e.msg);
    }
    if (doc.IsNull()) return;  // an empty file: the defaults
    if (!doc.IsMap())
        throw input_error(at(path, doc.Mark()) + ": expected a map of KEY: {rel: R, abs: A} | exact | ignore");
    std::vector<tolerance_rule> mine;
    for (const auto& kv : doc) {
        tolerance_rule r;
        r.pattern = kv.first.as<std::string>();
        r.origin = path + ":" + std::to_string(kv.first.Mark().line + 1);
        const YAML::Node& v = kv.second;
        if (r.pattern.empty()) throw input_error(at(path, kv.first.Mark()) + ": an empty key");
        if (v.IsScalar() && (v.Scalar() == "exact" || v.Scalar() == "ignore")) {
            r.kind = v.Scalar() == "exact" ? R::exact : R::ignore;
        } else if (v.IsMap()) {
            for (const auto& f : v) {
                std::string k = f.first.as<std::string>();
                if (k == "rel") r.rel = fraction(path, f.second, true);
                else if (k == "abs") r.abs = fraction(path, f.second, false);
                else throw input_error(at(path, f.first.Mark()) + ": unknown key \"" + k + "\" (known: rel, abs)");
            }
        } else {
            throw input_error(at(path, v.Mark()) + ": " + r.pattern +
                              ": expected {rel: R, abs: A}, exact or ignore");
        }
        mine.push_back(r);
    }
    rules_.insert(rules_.begin(), mine.begin(), mine.end());
}

const tolerance_rule& tolerances::rule(const std::string& key) const {
    for (const tolerance_rule& r : rules_)
        if (glob_match(r.pattern.c_str(), key)) return r;
    return rules_.back();
}

}  // namespace ioatsim
