// What a run reports, shared by hardware models and simulated software: the
// canonical event trace, the dmesg-style log, named counters and checker
// violations. One design per process, so one report per process.
#pragma once
#include "models/core/json.h"

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace ioatsim {

class report {
public:
    ~report();

    // trace.jsonl: one event per line; `t` in integer picoseconds, keys sorted,
    // in time order (ties in the order they were traced). An event is never
    // stamped before the current SystemC time, so what lies before it can be
    // written out: with a file open, memory does not grow with simulated time.
    void trace(uint64_t t_ps, const std::string& src, const std::string& ev, json_obj fields = {});
    // Streams the trace to `path` through `path.tmp`; close_trace(true) writes the
    // rest and renames it into place, close_trace(false) removes it.
    void open_trace(const std::string& path);
    void close_trace(bool keep);
    // Without a file the trace stays in memory (tests read it here).
    std::vector<std::string> trace_lines() const;  // sorted by time, stable
    uint64_t trace_size() const { return traced_; }

    // log.txt, dmesg style: "[    0.000123] text".
    void log(uint64_t t_ps, const std::string& text);
    void set_echo(std::function<void(const std::string&)> echo) { echo_ = std::move(echo); }
    const std::vector<std::string>& log_lines() const { return log_; }

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

    // Time series of amounts (bytes delivered, ...), summed between marks: the
    // instants a figure is cut at (a removal request, a device freed). A mark
    // is never before the current SystemC time, so a sample older than that
    // can be folded into its interval: memory does not grow with the samples.
    void mark(uint64_t t_ps);
    void sample(const std::string& series, uint64_t t_ps, int64_t v);
    // Sum of the samples in [from, to); `from` and `to` are 0, marks or UINT64_MAX.
    int64_t sum_between(const std::string& series, uint64_t from_ps, uint64_t to_ps);

    static std::string dmesg_stamp(uint64_t t_ps);

private:
    struct event { uint64_t t; uint64_t seq; std::string line; };
    struct series { std::vector<std::pair<uint64_t, int64_t>> recent; std::vector<int64_t> sums; };
    void flush(uint64_t before_ps);
    void fold(series& s, uint64_t before_ps);

    std::vector<event> trace_;   // not yet written (all of it without a file)
    uint64_t traced_ = 0;
    uint64_t horizon_ = 0;       // everything before it is written
    std::FILE* file_ = nullptr;
    std::string path_;
    std::vector<std::string> log_;
    std::map<std::string, int64_t> counters_;
    std::set<std::string> seen_;
    std::function<void(const std::string&)> echo_;
    std::vector<uint64_t> marks_;  // sorted; interval i is [marks_[i-1], marks_[i])
    std::map<std::string, series> series_;
};

report& sim_report();

}  // namespace ioatsim
