// What a run reports, shared by hardware models and simulated software: the
// canonical event trace, the dmesg-style log, named counters and checker
// violations. One design per process, so one report per process.
#pragma once
#include "models/core/json.h"
#include "models/core/trace_kinds.h"

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

namespace ioatsim {

// Receives every traced event in time order, as it is written out (Perfetto).
class trace_sink {
public:
    virtual ~trace_sink() = default;
    virtual void event(uint64_t t_ps, const std::string& src, const std::string& ev, const json_obj& fields) = 0;
};

class report {
public:
    ~report();

    // Every event, one JSON object per line: `t` in integer picoseconds, `src`,
    // `ev` and the event's fields, keys sorted. An event is never stamped before
    // the current SystemC time, so what lies before it can be written out in
    // time order (ties in the order traced): memory does not grow with
    // simulated time. Kinds, levels and fields: trace_kinds.h.
    void trace(uint64_t t_ps, const std::string& src, const std::string& ev, json_obj fields = {});
    // Whether an event's fields will be read (kept in memory, trace.jsonl, a
    // sink, or a line of hotplug.jsonl) rather than only counted: hot paths
    // build them only then. Not for printk events, whose message classifies them.
    bool needs_fields(const std::string& src, const char* ev) const;
    // From now on the trace streams, in time order, to `hotplug` (its lines,
    // with the counts of the rest; trace_level hotplug and full) and to `full`
    // (every event; full only), each through NAME.tmp; an empty path writes
    // nothing. Sinks see every event whatever the level.
    void open_traces(trace_level level, const std::string& hotplug, const std::string& full);
    void add_sink(trace_sink* s) { sinks_.push_back(s); }
    // Called as each event is traced, at its simulated time, before it is
    // ordered (signals.vcd reads the models then).
    void add_observer(std::function<void()> f) { observers_.push_back(std::move(f)); }
    void clear_observers() { observers_.clear(); }
    // Forking a run: flush_traces before the fork; in the child, move_traces
    // copies what was written so far to its own paths and goes on there.
    void flush_traces();
    void move_traces(const std::string& hotplug, const std::string& full);
    // keep: the run's `end` line and the rest, renamed into place; otherwise removed.
    void close_traces(bool keep);
    // Before open_traces the trace stays in memory (tests read it here).
    std::vector<std::string> trace_lines() const;  // sorted by time, stable
    uint64_t trace_size() const { return traced_; }

    // log.txt, dmesg style: "[    0.000123] text".
    void log(uint64_t t_ps, const std::string& text);
    void set_echo(std::function<void(const std::string&)> echo) { echo_ = std::move(echo); }
    const std::vector<std::string>& log_lines() const { return log_; }

    // Counters appear in summary.json whether or not they moved; declare them
    // when the component is built so `expect` can be checked before the run.
    void declare(const std::string& name) { counters_.emplace(name, 0); }
    int64_t& counter(const std::string& name) { ++touched_; return counters_[name]; }
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

    // Grows with every event, log line, counter use and sample: a stretch of
    // software that left it unchanged reported nothing (kernel::poll).
    uint64_t activity() const { return traced_ + log_.size() + touched_; }

private:
    // src and ev point into names_: an event is buffered without copying them.
    struct event { uint64_t t; uint64_t seq; const std::string* src; const std::string* ev; json_obj fields; };
    const std::string* name_of(const std::string& s);
    struct series { std::vector<std::pair<uint64_t, int64_t>> recent; std::vector<int64_t> sums; };
    using name = const std::string*;  // into names_
    using counts = std::map<name, std::map<name, uint64_t>>;  // src -> ev -> n
    const trace_kind& kind_of(const event& e);
    struct out_file { std::FILE* f = nullptr; std::string path; uint64_t bytes = 0; };
    void flush(uint64_t before_ps);
    void write(event& e);
    void put_line(out_file& o, const std::string& line);
    void fold(series& s, uint64_t before_ps);
    void open_file(out_file& o, const std::string& path);
    bool close_file(out_file& o, bool keep);
    void mirror_log(uint64_t t_ps, const std::string& text);

    std::vector<event> trace_;   // not yet written (all of it before open_traces)
    std::unordered_set<std::string> names_;  // every src and ev traced
    uint64_t traced_ = 0;
    uint64_t horizon_ = 0;       // everything before it is written
    bool streaming_ = false;
    trace_level level_ = trace_level::full;
    out_file hotplug_, full_;
    std::vector<trace_sink*> sinks_;
    std::vector<std::function<void()>> observers_;
    counts since_line_;          // counted events of a source since its last line
    counts since_phase_;         // counted events since the last phase line
    std::map<std::pair<name, name>, const trace_kind*> kinds_;  // (src, ev) -> kind; printk's by message
    std::vector<std::string> log_;
    std::map<std::string, int64_t> counters_;
    uint64_t touched_ = 0;       // counter and series uses
    std::set<std::string> seen_;
    std::function<void(const std::string&)> echo_;
    std::vector<uint64_t> marks_;  // sorted; interval i is [marks_[i-1], marks_[i])
    std::map<std::string, series> series_;
};

report& sim_report();

}  // namespace ioatsim
