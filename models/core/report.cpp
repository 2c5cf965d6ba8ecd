#include "models/core/report.h"

#include <algorithm>
#include <cstdio>

namespace ioatsim {

report& sim_report() {
    static report r;
    return r;
}

void report::trace(uint64_t t_ps, const std::string& src, const std::string& ev, json_obj fields) {
    fields.set("t", t_ps).set("src", src).set("ev", ev);
    trace_.push_back({t_ps, trace_.size(), fields.str()});
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
    log(t_ps, "ioatsim: checker: " + kind + ": " + what);
    trace(t_ps, "checker", "violation", json_obj().set("kind", kind).set("what", what));
}

int64_t report::sum_between(const std::string& series, uint64_t from_ps, uint64_t to_ps) const {
    auto it = series_.find(series);
    int64_t n = 0;
    if (it != series_.end())
        for (auto& [t, v] : it->second)
            if (t >= from_ps && t < to_ps) n += v;
    return n;
}

int64_t report::violations() const {
    int64_t n = 0;
    for (auto& [k, v] : counters_)
        if (k.rfind("violations.", 0) == 0) n += v;
    return n;
}

std::vector<std::string> report::trace_lines() const {
    std::vector<const event*> order;
    order.reserve(trace_.size());
    for (auto& e : trace_) order.push_back(&e);
    std::stable_sort(order.begin(), order.end(),
                     [](const event* a, const event* b) { return a->t < b->t; });
    std::vector<std::string> out;
    out.reserve(order.size());
    for (auto* e : order) out.push_back(e->line);
    return out;
}

}  // namespace ioatsim
