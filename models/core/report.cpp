#include "models/core/report.h"

#include <systemc>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace ioatsim {

namespace {
constexpr size_t flush_every = 4096;  // events buffered before a look at what can be written
uint64_t sim_now() { return uint64_t(sc_core::sc_time_stamp().value()); }
}  // namespace

report& sim_report() {
    static report r;
    return r;
}

report::~report() {
    for (out_file* o : {&hotplug_, &full_})
        if (o->f) std::fclose(o->f);
}

void report::trace(uint64_t t_ps, const std::string& src, const std::string& ev, json_obj fields) {
    if (t_ps < horizon_)
        throw std::logic_error("trace: " + src + " " + ev + " stamped " + std::to_string(t_ps) +
                               " ps, before the written horizon " + std::to_string(horizon_) + " ps");
    const uint64_t seq = traced_++;
    for (auto& f : observers_) f();
    if (streaming_ && !hotplug_.f && !full_.f && sinks_.empty()) return;  // --trace none
    trace_.push_back({t_ps, seq, name_of(src), name_of(ev), std::move(fields)});
    if (streaming_ && trace_.size() >= flush_every) flush(sim_now());
}

const std::string* report::name_of(const std::string& s) {
    auto it = names_.find(s);
    return it != names_.end() ? &*it : &*names_.insert(s).first;
}

// Writes, in time order, every buffered event stamped before `before_ps`.
void report::flush(uint64_t before_ps) {
    std::stable_sort(trace_.begin(), trace_.end(), [](const event& a, const event& b) { return a.t < b.t; });
    auto end = std::partition_point(trace_.begin(), trace_.end(), [&](const event& e) { return e.t < before_ps; });
    for (auto it = trace_.begin(); it != end; ++it) write(*it);
    trace_.erase(trace_.begin(), end);
    horizon_ = std::max(horizon_, before_ps);
}

namespace {
json_obj counts_json(const std::map<const std::string*, uint64_t>& by_ev) {
    json_obj o;  // sorts its keys
    for (auto& [ev, n] : by_ev) o.set(*ev, n);
    return o;
}
}  // namespace

// A printk or oops is classified by its message; any other event by its
// source and name alone, once per pair.
const trace_kind& report::kind_of(const event& e) {
    const trace_kind*& k = kinds_[{e.src, e.ev}];
    if (k) return *k;
    if (*e.ev != "printk" && *e.ev != "oops") return *(k = &classify(*e.src, *e.ev));
    std::string msg;
    if (const std::string* m = e.fields.find("msg"); m && m->size() >= 2) msg = m->substr(1, m->size() - 2);
    return classify(*e.src, *e.ev, msg);
}

// One event, in time order: to the sinks, to trace.jsonl as it is, and to
// hotplug.jsonl as a line (with what its source did meanwhile) or as a count.
void report::write(event& e) {
    for (trace_sink* s : sinks_) s->event(e.t, *e.src, *e.ev, e.fields);
    if (!hotplug_.f && !full_.f) return;
    const trace_kind* k = hotplug_.f ? &kind_of(e) : nullptr;
    if (full_.f || k->line) e.fields.set("t", e.t).set("src", *e.src).set("ev", *e.ev);
    if (full_.f) put_line(full_, e.fields.str());
    if (!hotplug_.f) return;
    if (!k->line) {  // a count on the next line: its fields are never read
        ++since_line_[e.src][e.ev];
        ++since_phase_[e.src][e.ev];
        return;
    }
    if (auto it = since_line_.find(e.src); it != since_line_.end()) {
        e.fields.set("counts", counts_json(it->second));
        since_line_.erase(it);
    }
    if (k->phase) {
        json_obj activity;
        for (auto& [src, by_ev] : since_phase_) activity.set(*src, counts_json(by_ev));
        e.fields.set("activity", activity);
        since_phase_.clear();
    }
    put_line(hotplug_, e.fields.str());
}

bool report::needs_fields(const std::string& src, const char* ev) const {
    if (!streaming_ || full_.f || !sinks_.empty()) return true;
    return hotplug_.f && classify(src, ev).line;
}

void report::put_line(out_file& o, const std::string& line) {
    std::fwrite(line.data(), 1, line.size(), o.f);
    std::fputc('\n', o.f);
    o.bytes += line.size() + 1;
}

void report::flush_traces() {
    for (out_file* o : {&hotplug_, &full_})
        if (o->f) std::fflush(o->f);
}

void report::move_traces(const std::string& hotplug, const std::string& full) {
    for (auto [o, path] : {std::pair<out_file*, const std::string*>{&hotplug_, &hotplug}, {&full_, &full}}) {
        if (!o->f) continue;
        std::string text(o->bytes, '\0');
        std::FILE* in = std::fopen((o->path + ".tmp").c_str(), "rb");
        const bool read = in && std::fread(text.data(), 1, text.size(), in) == text.size();
        if (in) std::fclose(in);
        std::fclose(o->f);  // the child's copy of the descriptor; the parent's stays open
        o->f = nullptr;
        if (!read) throw std::runtime_error(o->path + ": cannot read back the trace so far");
        open_file(*o, *path);
        o->bytes = 0;
        if (!text.empty()) {
            std::fwrite(text.data(), 1, text.size(), o->f);
            o->bytes = text.size();
        }
    }
}

void report::open_file(out_file& o, const std::string& path) {
    o.path = path;
    o.bytes = 0;
    o.f = std::fopen((path + ".tmp").c_str(), "wb");
    if (!o.f) throw std::runtime_error(path + ": cannot write");
}

// False when a file kept could not be written whole.
bool report::close_file(out_file& o, bool keep) {
    if (!o.f) return true;
    bool ok = std::fflush(o.f) == 0 && !std::ferror(o.f);
    std::fclose(o.f);
    o.f = nullptr;
    std::string tmp = o.path + ".tmp";
    if (keep && ok && std::rename(tmp.c_str(), o.path.c_str()) == 0) return true;
    std::remove(tmp.c_str());
    return !keep;
}

void report::open_traces(trace_level level, const std::string& hotplug, const std::string& full) {
    level_ = level;
    streaming_ = true;
    if (level != trace_level::none && !hotplug.empty()) open_file(hotplug_, hotplug);
    if (level == trace_level::full && !full.empty()) open_file(full_, full);
    if (!trace_.empty()) flush(sim_now());
}

void report::close_traces(bool keep) {
    if (!streaming_) return;
    if (keep) {
        uint64_t end = std::max(sim_now(), horizon_);
        for (const event& e : trace_) end = std::max(end, e.t);
        trace(end, "run", "end");
        flush(UINT64_MAX);
    }
    trace_.clear();
    streaming_ = false;
    bool ok = close_file(hotplug_, keep);
    ok = close_file(full_, keep) && ok;
    if (!ok) throw std::runtime_error((hotplug_.path.empty() ? full_.path : hotplug_.path) + ": cannot write");
}

std::vector<std::string> report::trace_lines() const {
    std::vector<const event*> order;
    order.reserve(trace_.size());
    for (auto& e : trace_) order.push_back(&e);
    std::stable_sort(order.begin(), order.end(), [](const event* a, const event* b) { return a->t < b->t; });
    std::vector<std::string> out;
    out.reserve(order.size());
    for (auto* e : order) out.push_back(json_obj(e->fields).set("t", e->t).set("src", *e->src).set("ev", *e->ev).str());
    return out;
}

std::string report::dmesg_stamp(uint64_t t_ps) {
    uint64_t us = t_ps / 1'000'000;
    char b[32];
    std::snprintf(b, sizeof b, "[%5llu.%06llu]", (unsigned long long)(us / 1'000'000),
                  (unsigned long long)(us % 1'000'000));
    return b;
}

void report::log(uint64_t t_ps, const std::string& text) {
    log_.push_back(dmesg_stamp(t_ps) + " " + text);
    if (echo_) echo_(log_.back());
    mirror_log(t_ps, text);
}

// The kernel log is the kernel's own account of hotplug: each line is an event
// too (trace_kinds.h: parse_printk), no earlier than what is written.
void report::mirror_log(uint64_t t_ps, const std::string& text) {
    if (streaming_ && !hotplug_.f && !full_.f && sinks_.empty() && observers_.empty()) {
        ++traced_;
        return;
    }
    printk_event e = parse_printk(text);
    trace(std::max(t_ps, horizon_), e.src, e.ev, json_obj().set("msg", e.msg));
}

int64_t report::get(const std::string& name) const {
    auto it = counters_.find(name);
    return it == counters_.end() ? 0 : it->second;
}

// The same violation by the same party is one finding: a reader polling a freed
// channel a million times is one use after free, logged once.
void report::violation(uint64_t t_ps, const std::string& kind, const std::string& what) {
    if (!seen_.insert(kind + ": " + what).second) return;
    ++counters_["violations." + kind];
    log_.push_back(dmesg_stamp(t_ps) + " ioatsim: checker: " + kind + ": " + what);  // traced as itself below
    if (echo_) echo_(log_.back());
    trace(t_ps, "checker", "violation", json_obj().set("kind", kind).set("what", what));
}

int64_t report::violations() const {
    int64_t n = 0;
    for (auto& [k, v] : counters_)
        if (k.rfind("violations.", 0) == 0) n += v;
    return n;
}

// Samples older than the SystemC time lie before every mark still to come.
void report::fold(series& s, uint64_t before_ps) {
    s.sums.resize(marks_.size() + 1, 0);
    auto keep = s.recent.begin();
    for (auto& [t, v] : s.recent) {
        if (t >= before_ps) {
            *keep++ = {t, v};
            continue;
        }
        size_t i = size_t(std::upper_bound(marks_.begin(), marks_.end(), t) - marks_.begin());
        s.sums[i] += v;
    }
    s.recent.erase(keep, s.recent.end());
}

void report::mark(uint64_t t_ps) {
    ++touched_;
    uint64_t now = sim_now();
    if (t_ps < now) throw std::logic_error("report::mark: " + std::to_string(t_ps) + " ps is in the past");
    auto at = std::lower_bound(marks_.begin(), marks_.end(), t_ps);
    if (at != marks_.end() && *at == t_ps) return;
    size_t p = size_t(at - marks_.begin());
    // Folded samples of the interval it splits are all older: they stay on its left.
    for (auto& [name, s] : series_) {
        fold(s, now);
        s.sums.insert(s.sums.begin() + long(p) + 1, 0);
    }
    marks_.insert(at, t_ps);
}

void report::sample(const std::string& name, uint64_t t_ps, int64_t v) {
    ++touched_;
    series& s = series_[name];
    s.recent.push_back({t_ps, v});
    if (s.recent.size() >= flush_every) fold(s, sim_now());
}

int64_t report::sum_between(const std::string& name, uint64_t from_ps, uint64_t to_ps) {
    auto it = series_.find(name);
    if (it == series_.end()) return 0;
    series& s = it->second;
    fold(s, sim_now());
    // Samples still recent are summed by their own stamps.
    auto index = [&](uint64_t t) -> size_t {
        if (t == 0) return 0;
        if (t == UINT64_MAX) return marks_.size() + 1;
        auto m = std::lower_bound(marks_.begin(), marks_.end(), t);
        if (m == marks_.end() || *m != t) throw std::logic_error("report::sum_between: not a mark");
        return size_t(m - marks_.begin()) + 1;
    };
    int64_t n = 0;
    for (size_t i = index(from_ps); i < index(to_ps); ++i) n += s.sums[i];
    for (auto& [t, v] : s.recent)
        if (t >= from_ps && t < to_ps) n += v;
    return n;
}

}  // namespace ioatsim
