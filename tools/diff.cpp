#include "tools/diff.h"

#include "platform/scenario.h"
#include "tools/golden.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <ostream>

namespace ioatsim {
namespace fs = std::filesystem;

namespace {

std::string num(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.8g", v);
    return b;
}

std::string when(uint64_t ps) {
    char b[32];
    std::snprintf(b, sizeof b, "%.6f ms", double(ps) / 1e9);
    return b;
}

std::string seeds_text(const std::vector<int64_t>& s) {
    std::string t;
    for (size_t i = 0; i < s.size(); ++i) t += (i ? "," : "") + std::to_string(s[i]);
    return (s.size() == 1 ? "seed " : "seeds ") + t;
}

using by_source = std::map<std::string, std::vector<const behaviour_event*>>;

void split(const behaviour& b, by_source& ordered, by_source& unordered) {
    for (const behaviour_event& e : b.events) (e.unordered ? unordered : ordered)[e.src].push_back(&e);
}

struct divergence {
    std::string src;
    size_t at = 0;        // index of the first differing event
    uint64_t t = 0;       // when it happens, on whichever side it happens first
    const std::vector<const behaviour_event*>* old_events = nullptr;
    const std::vector<const behaviour_event*>* new_events = nullptr;
};

std::string event_or_end(const std::vector<const behaviour_event*>& v, size_t i) {
    if (i < v.size()) return v[i]->shown + " (at " + when(v[i]->t) + ")";
    return v.empty() ? "nothing: no event from this source" : "nothing more: its " + std::to_string(v.size()) +
                                                                   " events from this source end before";
}

void context(std::ostream& out, const char* side, const std::vector<const behaviour_event*>& v, size_t at,
             unsigned n) {
    if (v.empty()) return;
    out << "    " << side << ":\n";
    size_t from = at > n ? at - n : 0, to = std::min(v.size(), at + n + 1);
    for (size_t i = from; i < to; ++i) {
        char b[48];
        std::snprintf(b, sizeof b, "    %s %4zu  %16s  ", i == at ? ">" : " ", i + 1, when(v[i]->t).c_str());
        out << b << v[i]->shown << '\n';
    }
    if (at >= v.size()) out << "    >        (ends)\n";
}

// One old behaviour against one new: the summary's values, then each source.
void report(const behaviour& o, const behaviour& n, const tolerances& tol, unsigned ctx, std::ostream& out) {
    std::map<std::string, std::pair<std::string, std::string>> summary;
    for (auto& [k, v] : o.summary) summary[k].first = v;
    for (auto& [k, v] : n.summary) summary[k].second = v;
    auto change = [&](const std::string& k, const std::pair<std::string, std::string>& v) {
        if (tol.ignored(k) || v.first == v.second) return;
        out << "  summary.json " << k << ": " << (v.first.empty() ? "(a number)" : v.first) << " -> "
            << (v.second.empty() ? "(a number)" : v.second) << '\n';
    };
    if (summary.count("verdict")) change("verdict", summary["verdict"]);
    for (auto& [k, v] : summary)
        if (k != "verdict") change(k, v);
    by_source oo, ou, no, nu;
    split(o, oo, ou);
    split(n, no, nu);
    std::vector<divergence> found;
    static const std::vector<const behaviour_event*> none;
    std::map<std::string, int> sources;
    for (auto& [s, v] : oo) sources[s];
    for (auto& [s, v] : no) sources[s];
    for (auto& [src, unused] : sources) {
        const auto& a = oo.count(src) ? oo[src] : none;
        const auto& b = no.count(src) ? no[src] : none;
        size_t i = 0;
        while (i < a.size() && i < b.size() && a[i]->key == b[i]->key) ++i;
        if (i == a.size() && i == b.size()) continue;
        uint64_t t = UINT64_MAX;
        if (i < a.size()) t = std::min(t, a[i]->t);
        if (i < b.size()) t = std::min(t, b[i]->t);
        found.push_back({src, i, t, &a, &b});
    }
    std::sort(found.begin(), found.end(), [](const divergence& x, const divergence& y) { return x.t < y.t; });
    if (!found.empty()) {
        const divergence& d = found.front();
        out << "  first divergence: source \"" << d.src << "\", its event " << d.at + 1 << ":\n"
            << "    old: " << event_or_end(*d.old_events, d.at) << '\n'
            << "    new: " << event_or_end(*d.new_events, d.at) << '\n';
        context(out, "old", *d.old_events, d.at, ctx);
        context(out, "new", *d.new_events, d.at, ctx);
        size_t shown = 0;
        for (size_t i = 1; i < found.size(); ++i) {
            if (++shown > 12) {
                out << "  and " << found.size() - i << " more sources differ\n";
                break;
            }
            const divergence& e = found[i];
            auto brief = [&](const std::vector<const behaviour_event*>& v) {
                return e.at < v.size() ? v[e.at]->shown : std::string("(ends)");
            };
            out << "  also source \"" << e.src << "\", event " << e.at + 1 << ": old " << brief(*e.old_events)
                << "; new " << brief(*e.new_events) << '\n';
        }
    }
    // Sets: which findings, not in which order concurrent tasks made them.
    std::map<std::string, int> sets;
    for (auto& [s, v] : ou) sets[s];
    for (auto& [s, v] : nu) sets[s];
    for (auto& [src, unused] : sets) {
        std::map<std::string, std::pair<int, std::string>> count;  // key -> (new - old, shown)
        for (auto* e : ou[src]) count[e->key] = {count[e->key].first - 1, e->masked};
        for (auto* e : nu[src]) count[e->key] = {count[e->key].first + 1, e->masked};
        std::string only_old, only_new;
        for (auto& [k, c] : count) {
            std::string line = "\n      " + c.second + (std::abs(c.first) > 1 ? " (x" + std::to_string(std::abs(c.first)) + ")" : "");
            if (c.first < 0) only_old += line;
            if (c.first > 0) only_new += line;
        }
        if (only_old.empty() && only_new.empty()) continue;
        out << "  source \"" << src << "\" (compared as a set, numbers in text as #):";
        if (!only_old.empty()) out << "\n    only in old:" << only_old;
        if (!only_new.empty()) out << "\n    only in new:" << only_new;
        out << '\n';
    }
}

bool compare_behaviour(const results& a, const results& b, const tolerances& tol, unsigned ctx, std::ostream& out) {
    bool same = true;
    for (const behaviour& n : b.behaviours) {
        auto match = std::find_if(a.behaviours.begin(), a.behaviours.end(),
                                  [&](const behaviour& o) { return o.same_as(n, tol); });
        if (match != a.behaviours.end()) continue;
        // Against the old behaviour of the same seed when there is one.
        const behaviour* o = &a.behaviours.front();
        for (const behaviour& c : a.behaviours)
            for (int64_t s : n.seeds)
                if (std::count(c.seeds.begin(), c.seeds.end(), s)) o = &c;
        if (same) out << "behaviour: DIFFERENT\n";
        same = false;
        if (a.behaviours.size() > 1 || b.behaviours.size() > 1)
            out << " new " << seeds_text(n.seeds) << " behave as no old seed did; against old " << seeds_text(o->seeds)
                << ":\n";
        report(*o, n, tol, ctx, out);
    }
    if (same) {
        size_t events = 0;
        for (const behaviour& n : b.behaviours) events += n.events.size();
        out << "behaviour: same (" << events << " hotplug events";
        if (b.behaviours.size() > 1) out << ", " << b.behaviours.size() << " behaviours, each seen in the old";
        out << ")\n";
    }
    return same;
}

std::string shown(const figure& f) {
    if (f.n <= 1) return num(f.mean);
    return num(f.mean) + " +-" + num(f.stddev) + " [" + num(f.min) + ", " + num(f.max) + "]";
}

bool compare_figures(const results& a, const results& b, const tolerances& tol, std::ostream& out) {
    struct row { std::string key, old_v, new_v, change, allowed; };
    std::vector<row> bad;
    size_t compared = 0;
    std::map<std::string, int> keys;
    for (auto& [k, f] : a.figures) keys[k];
    for (auto& [k, f] : b.figures) keys[k];
    for (auto& [k, unused] : keys) {
        const tolerance_rule& r = tol.rule(k);
        if (r.kind == tolerance_rule::ignore) continue;
        ++compared;
        auto o = a.figures.find(k), n = b.figures.find(k);
        if (o == a.figures.end() || n == b.figures.end()) {
            bad.push_back({k, o == a.figures.end() ? "(none)" : shown(o->second),
                           n == b.figures.end() ? "(none)" : shown(n->second), "", r.describe()});
            continue;
        }
        const figure &f = o->second, &g = n->second;
        double slack = r.allowed(f.mean) + 1e-9 * std::fabs(f.mean);
        if (g.mean >= f.min - slack && g.mean <= f.max + slack) continue;
        double d = g.mean - f.mean;
        std::string change = (d > 0 ? "+" : "") + num(d);
        if (f.mean != 0) {
            char p[32];
            std::snprintf(p, sizeof p, " (%+.1f%%)", 100 * d / std::fabs(f.mean));
            change += p;
        }
        bad.push_back({k, shown(f), shown(g), change, r.describe() + (r.origin == "default" ? "" : " (" + r.origin + ")")});
    }
    if (bad.empty()) {
        out << "figures: same within tolerance (" << compared << " compared)\n";
        return true;
    }
    out << "figures: DIFFERENT: " << bad.size() << " of " << compared << " outside tolerance\n";
    row head{"key", "old", "new", "change", "allowed"};
    size_t w[4] = {head.key.size(), head.old_v.size(), head.new_v.size(), head.change.size()};
    for (auto& r : bad) {
        w[0] = std::max(w[0], r.key.size());
        w[1] = std::max(w[1], r.old_v.size());
        w[2] = std::max(w[2], r.new_v.size());
        w[3] = std::max(w[3], r.change.size());
    }
    auto print = [&](const row& r) {
        auto pad = [](const std::string& s, size_t n) { return s + std::string(n - s.size() + 2, ' '); };
        out << "  " << pad(r.key, w[0]) << pad(r.old_v, w[1]) << pad(r.new_v, w[2]) << pad(r.change, w[3]) << r.allowed
            << '\n';
    };
    print(head);
    for (auto& r : bad) print(r);
    return false;
}

void notes(const results& a, const results& b, std::ostream& out) {
    std::map<std::string, std::pair<std::string, std::string>> p;
    for (auto& [k, v] : a.params) p[k].first = v;
    for (auto& [k, v] : b.params) p[k].second = v;
    for (auto& [k, v] : p)
        if (v.first != v.second)
            out << "note: " << k << ": " << (v.first.empty() ? "(none)" : v.first) << " -> "
                << (v.second.empty() ? "(none)" : v.second) << " (parameters are not compared)\n";
    if (a.seeds != b.seeds) out << "note: old " << seeds_text(a.seeds) << ", new " << seeds_text(b.seeds) << '\n';
}

}  // namespace

int diff(const diff_options& o, std::ostream& out) {
    tolerances tol;
    if (!o.tolerance.empty()) tol.load(o.tolerance);
    const results b = load_results(o.new_path);
    std::error_code ec;
    if (o.update && !fs::exists(o.old_path, ec)) {
        write_golden(o.old_path, b);
        out << "golden: " << o.old_path << " written from " << b.where << " (" << b.describe() << ")\n";
        return 0;
    }
    if (o.update && !is_golden(o.old_path))
        throw input_error(o.old_path + ": not a golden (no golden.json); --update rewrites goldens only");
    const results a = load_results(o.old_path);
    out << "old: " << a.where << " (" << a.describe() << ")\n"
        << "new: " << b.where << " (" << b.describe() << ")\n";
    if (a.scenario != b.scenario) out << "note: scenario " << a.scenario << " -> " << b.scenario << '\n';
    notes(a, b, out);
    bool same_behaviour = compare_behaviour(a, b, tol, o.context, out);
    bool same_figures = compare_figures(a, b, tol, out);
    if (o.update) {
        write_golden(o.old_path, b);
        out << "golden: " << o.old_path << " rewritten from " << b.where << '\n';
        return 0;
    }
    if (same_behaviour && same_figures) {
        out << "result: same\n";
        return 0;
    }
    out << "result: DIFFERENT (" << (same_behaviour ? "figures" : same_figures ? "behaviour" : "behaviour and figures")
        << ")\n";
    return 1;
}

}  // namespace ioatsim
