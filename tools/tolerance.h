// How far a figure of summary.json may move before `ioatsim diff` calls it
// different: per key, relative and absolute (|new - old| <= abs + rel * |old|),
// exact, or ignored. Rules are dotted keys with `*` (any run of characters,
// dots included), tried in order, the first match winning: a tolerance file's
// rules before the built-in defaults.
#pragma once
#include <string>
#include <vector>

namespace ioatsim {

struct tolerance_rule {
    enum kind_t { range, exact, ignore } kind = range;
    std::string pattern;
    double rel = 0, abs = 0;
    std::string origin;  // "FILE:LINE" or "default"
    double allowed(double old_value) const;  // 0 for exact
    std::string describe() const;            // "10%", "5% + 2", "exact", "ignored"
};

class tolerances {
public:
    tolerances();  // the defaults only
    // A YAML map of KEY: {rel: R, abs: A} | exact | ignore, R as 0.1 or "10%";
    // its rules come before the defaults. Bad input throws input_error FILE:LINE:COL.
    void load(const std::string& path);
    const tolerance_rule& rule(const std::string& key) const;
    bool ignored(const std::string& key) const { return rule(key).kind == tolerance_rule::ignore; }
    const std::vector<tolerance_rule>& rules() const { return rules_; }

private:
    std::vector<tolerance_rule> rules_;
};

}  // namespace ioatsim
