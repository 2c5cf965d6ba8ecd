// What a run reports, shared by hardware models and simulated software: the
// canonical event trace, the dmesg-style log, named counters and checker
// violations. One design per process, so one report per process.
#pragma once
#include "models/core/json.h"

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace ioatsim {

class report {
public:
    // trace.jsonl: one event per line; `t` in integer picoseconds, keys sorted.
    void trace(uint64_t t_ps, const std::string& src, const std::string& ev, json_obj fields = {});

    // log.txt, dmesg style: "[    0.000123] text".
    void log(uint64_t t_ps, const std::string& text);
    void set_echo(std::function<void(const std::string&)> echo) { echo_ = std::move(echo); }

    // Counters appear in summary.json whether or not they moved; declare them
    // when the component is built so `expect` can be checked before the run.
    void declare(const std::string& name) { counters_.emplace(name, 0); }
    int64_t& counter(const std::string& name) { return counters_[name]; }
    int64_t get(const std::string& name) const;
    bool has(const std::string& name) const { return counters_.count(name) != 0; }
    const std::map<std::string, int64_t>& counters() const { return counters_; }

    // A checker violation: counted under "violations.<kind>" and logged, once per
    // distinct (kind, what).
    void violation(uint64_t t_ps, const std::string& kind, const std::string& what);
    int64_t violations() const;

    // A time series of amounts (bytes delivered, ...), summed over intervals.
    void sample(const std::string& series, uint64_t t_ps, int64_t v) { series_[series].push_back({t_ps, v}); }
    int64_t sum_between(const std::string& series, uint64_t from_ps, uint64_t to_ps) const;

    std::vector<std::string> trace_lines() const;  // sorted by time, stable
    const std::vector<std::string>& log_lines() const { return log_; }
    size_t trace_size() const { return trace_.size(); }

    static std::string dmesg_stamp(uint64_t t_ps);

private:
    struct event { uint64_t t; uint64_t seq; std::string line; };
    std::vector<event> trace_;
    std::vector<std::string> log_;
    std::map<std::string, int64_t> counters_;
    std::set<std::string> seen_;
    std::function<void(const std::string&)> echo_;
    std::map<std::string, std::vector<std::pair<uint64_t, int64_t>>> series_;
};

report& sim_report();

}  // namespace ioatsim
