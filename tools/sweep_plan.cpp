#include "tools/sweep_plan.h"

#include "platform/data_dir.h"
#include "platform/params.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace ioatsim::sweep {
namespace fs = std::filesystem;

namespace {

std::string trim(const std::string& s) {
    size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
    return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Splits on commas outside brackets and quotes, so a value may be YAML flow.
std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> out;
    std::string cur;
    int depth = 0;
    char quote = 0;
    for (char c : text) {
        if (quote) {
            if (c == quote) quote = 0;
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '[' || c == '{') {
            ++depth;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        } else if (c == ',' && depth == 0) {
            out.push_back(trim(cur));
            cur.clear();
            continue;
        }
        cur += c;
    }
    out.push_back(trim(cur));
    return out;
}

// A range end: a number and an optional unit.
struct quantity {
    double value = 0;
    bool integer = false;  // written without a point or an exponent
    std::string unit;
    bool spaced = false;   // "50 ns" rather than "50ns"
    uint64_t ps = 0;       // when the unit is a time unit
    bool time = false;
};

const char* const time_units[] = {"ps", "ns", "us", "ms", "s"};  // 10^0, 10^3, ... picoseconds

int time_exponent(const std::string& unit) {
    for (int i = 0; i < 5; ++i)
        if (unit == time_units[i]) return i == 4 ? 12 : 3 * i;
    return -1;
}

quantity parse_quantity(const std::string& text, const std::string& what) {
    quantity q;
    const std::string t = trim(text);
    const char* s = t.c_str();
    char* end = nullptr;
    q.value = std::strtod(s, &end);
    if (end == s || !std::isfinite(q.value)) throw input_error(what + ": \"" + t + "\" is not a number");
    const std::string num(s, size_t(end - s));
    q.integer = num.find_first_of(".eE") == std::string::npos;
    q.spaced = *end == ' ';
    q.unit = trim(std::string(end));
    if (time_exponent(q.unit) >= 0) {
        try {
            q.ps = parse_time_ps(t);
        } catch (const std::invalid_argument& e) {
            throw input_error(what + ": \"" + t + "\": " + e.what());
        }
        q.time = true;
    }
    return q;
}

// `ps` in `unit`, exactly: 328571 ps in ns is "328.571".
std::string format_time(uint64_t ps, const std::string& unit) {
    const int e = time_exponent(unit);
    uint64_t div = 1;
    for (int i = 0; i < e; ++i) div *= 10;
    std::string s = std::to_string(ps / div);
    if (uint64_t frac = ps % div) {
        std::string f = std::to_string(frac);
        f = std::string(size_t(e) - f.size(), '0') + f;
        while (f.back() == '0') f.pop_back();
        s += "." + f;
    }
    return s;
}

std::vector<std::string> expand_range(const std::string& text, size_t dots, bool& log, const std::string& what) {
    std::vector<std::string> parts;  // B, N, and "log"
    std::string rest = text.substr(dots + 2);
    for (size_t c; (c = rest.rfind(':')) != std::string::npos && parts.size() < 2; rest.erase(c))
        parts.insert(parts.begin(), trim(rest.substr(c + 1)));
    parts.insert(parts.begin(), trim(rest));
    log = false;
    if (parts.size() == 3) {
        if (parts[2] != "log") throw input_error(what + ": the range's scale is \"" + parts[2] + "\", not log");
        log = true;
    }
    if (parts.size() < 2)
        throw input_error(what + ": a range is FIRST..LAST:COUNT or FIRST..LAST:COUNT:log, e.g. 50ns..2000ns:8");
    char* end = nullptr;
    const long n = std::strtol(parts[1].c_str(), &end, 10);
    if (parts[1].empty() || *end || n < 2 || n > long(max_points))
        throw input_error(what + ": the count \"" + parts[1] + "\" must be a whole number 2.." +
                          std::to_string(max_points));
    const quantity a = parse_quantity(text.substr(0, dots), what), b = parse_quantity(parts[0], what);
    if (a.time != b.time || (!a.time && a.unit != b.unit))
        throw input_error(what + ": the range's ends have different units (\"" + a.unit + "\", \"" + b.unit + "\")");
    const long double lo = a.time ? a.ps : a.value, hi = b.time ? b.ps : b.value;
    if (log && (lo <= 0 || hi <= 0)) throw input_error(what + ": a log range needs both ends above zero");
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (long i = 0; i < n; ++i) {
        const long double f = (long double)i / (n - 1);
        long double v = log ? lo * std::pow(hi / lo, f) : lo + (hi - lo) * f;
        if (i == n - 1) v = hi;  // the last end exactly, whatever the rounding on the way
        std::string s;
        if (a.time) {
            s = format_time(uint64_t(std::llround((double)v)), a.unit) + (a.spaced ? " " : "") + a.unit;
        } else {
            char buf[64];
            if (a.integer && b.integer) std::snprintf(buf, sizeof buf, "%lld", std::llround((double)v));
            else std::snprintf(buf, sizeof buf, "%.6g", (double)v);
            s = buf + std::string(a.unit.empty() ? "" : a.spaced ? " " : "") + a.unit;
        }
        if (!seen.insert(s).second)
            throw input_error(what + ": " + std::to_string(n) + " points give " + s +
                              " twice once rounded; ask for fewer points");
        out.push_back(s);
    }
    return out;
}

bool is_section(const std::string& first) {
    for (const char* s : {"name", "description", "platform", "software", "run", "timeline", "expect"})
        if (first == s) return true;
    return false;
}

bool is_param(const std::string& key) {
    for (const param_def& d : param_table())
        if (key == d.key) return true;
    return false;
}

std::string slug(const std::string& v) {
    std::string s;
    for (char c : v)
        if (std::isalnum((unsigned char)c) || c == '.' || c == '+' || c == '-' || c == '_') s += c;
        else if (c != ' ' && c != '"' && c != '\'') s += '_';
    return s;
}

std::string fnv1a(const std::string& text) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
    char b[17];
    std::snprintf(b, sizeof b, "%016llx", (unsigned long long)h);
    return b;
}

std::string point_label(const plan& p, const point& pt) {
    std::string s;
    for (size_t a = 0; a < p.axes.size(); ++a) s += (s.empty() ? "" : ", ") + p.axes[a].name + "=" + pt.values[a];
    return s + (s.empty() ? "" : ", ") + "seed " + std::to_string(pt.seed);
}

}  // namespace

std::vector<std::string> expand_values(const std::string& text, bool& log, const std::string& what) {
    log = false;
    const std::vector<std::string> items = split_list(text);
    if (items.size() == 1 && items[0].find("..") != std::string::npos)
        return expand_range(items[0], items[0].find(".."), log, what);
    std::set<std::string> seen;
    for (const std::string& v : items) {
        if (v.empty()) throw input_error(what + ": an empty value in \"" + text + "\"");
        if (!seen.insert(v).second) throw input_error(what + ": \"" + v + "\" is given twice");
    }
    return items;
}

axis parse_axis(const std::string& text) {
    const std::string what = "--axis " + text;
    const size_t eq = text.find('=');
    if (eq == std::string::npos || eq == 0)
        throw input_error(what + ": expected KEY=VALUES, e.g. platform.set.coherence.atomic_one_hop=50ns..2000ns:8");
    axis a;
    a.name = trim(text.substr(0, eq));
    a.key = a.name;
    const std::string first = a.key.substr(0, a.key.find('.'));
    if (!is_section(first) && is_param(a.key)) a.key = "platform.set." + a.key;
    a.values = expand_values(text.substr(eq + 1), a.log, what);
    return a;
}

void parse_shard(const std::string& text, unsigned& shard, unsigned& shards) {
    unsigned i = 0, n = 0;
    char tail = 0;
    if (std::sscanf(text.c_str(), "%u/%u%c", &i, &n, &tail) != 2 || n < 1 || i < 1 || i > n || n > max_points)
        throw input_error("--shard: \"" + text + "\" is not I/N with 1 <= I <= N (shard I of N)");
    shard = i;
    shards = n;
}

nlohmann::json plan::to_json() const {
    nlohmann::json j;
    j["scenario"] = scenario;
    j["scenario_name"] = scenario_name;
    j["scenario_hash"] = scenario_hash;
    j["sets"] = sets;
    j["seeds"] = seeds;
    for (const axis& a : axes) j["axes"].push_back({{"name", a.name}, {"key", a.key}, {"values", a.values}, {"log", a.log}});
    if (axes.empty()) j["axes"] = nlohmann::json::array();
    for (const point& p : points)
        j["points"].push_back({{"index", p.index}, {"values", p.values}, {"seed", p.seed}, {"sets", p.sets}, {"dir", p.dir}});
    return j;
}

plan plan::from_json(const nlohmann::json& j, const std::string& where) {
    plan p;
    try {
        p.scenario = j.at("scenario").get<std::string>();
        p.scenario_name = j.at("scenario_name").get<std::string>();
        p.scenario_hash = j.at("scenario_hash").get<std::string>();
        p.sets = j.at("sets").get<std::vector<std::string>>();
        p.seeds = j.at("seeds").get<unsigned>();
        for (const auto& a : j.at("axes"))
            p.axes.push_back({a.at("name").get<std::string>(), a.at("key").get<std::string>(),
                              a.at("values").get<std::vector<std::string>>(), a.at("log").get<bool>()});
        for (const auto& q : j.at("points")) {
            point pt;
            pt.index = q.at("index").get<size_t>();
            pt.values = q.at("values").get<std::vector<std::string>>();
            pt.seed = q.at("seed").get<uint64_t>();
            pt.sets = q.at("sets").get<std::vector<std::string>>();
            pt.dir = q.at("dir").get<std::string>();
            if (pt.index != p.points.size() || pt.values.size() != p.axes.size() || pt.dir.find("..") != std::string::npos)
                throw std::runtime_error("point " + std::to_string(p.points.size()) + " is inconsistent");
            p.points.push_back(pt);
        }
    } catch (const std::exception& e) {
        throw input_error(where + ": not a sweep plan written by ioatsim sweep (" + e.what() + ")");
    }
    return p;
}

bool plan::same_campaign(const plan& o) const {
    nlohmann::json a = to_json(), b = o.to_json();
    a.erase("scenario");
    b.erase("scenario");
    return a == b;
}

checked_plan make_plan(const plan_request& r) {
    checked_plan out;
    plan& p = out.p;
    p.scenario = fs::absolute(installed_scenario(r.scenario)).lexically_normal().string();
    p.sets = r.sets;
    p.seeds = r.seeds;
    const scenario base = load_scenario(p.scenario, r.sets);  // the scenario's own errors first
    p.scenario_name = base.name;
    {
        std::ifstream in(p.scenario, std::ios::binary);
        std::stringstream s;
        s << in.rdbuf();
        p.scenario_hash = fnv1a(s.str());
    }
    if (r.seeds < 1 || r.seeds > 1000) throw input_error("--seeds: must be 1..1000");
    if (!r.designs.empty()) {
        axis d{"design", "software.dmaengine.design", r.designs, false};
        std::set<std::string> seen;
        for (const std::string& name : r.designs) {
            sw::dma_design unused;
            if (!sw::parse_dma_design(name, unused)) {
                std::string known;
                for (const char* n : sw::dma_design_names) known += std::string(known.empty() ? "" : ", ") + n;
                throw input_error("--designs: unknown design \"" + name + "\" (known: " + known + ")");
            }
            if (!seen.insert(name).second) throw input_error("--designs: \"" + name + "\" is given twice");
        }
        p.axes.push_back(d);
    }
    for (const std::string& text : r.axes) {
        axis a = parse_axis(text);
        for (const axis& o : p.axes)
            if (o.key == a.key) throw input_error("--axis " + text + ": " + a.key + " is already an axis");
        if (a.key == "run.seed" && r.seeds > 1)
            throw input_error("--axis " + text + ": run.seed is already swept by --seeds");
        p.axes.push_back(a);
    }
    size_t count = r.seeds;
    for (const axis& a : p.axes) {
        if (count > max_points / a.values.size())
            throw input_error("sweep: more than " + std::to_string(max_points) + " points; split the campaign");
        count *= a.values.size();
    }

    const size_t width = std::max<size_t>(4, std::to_string(count - 1).size());
    std::vector<size_t> at(p.axes.size(), 0);  // each axis's value index, last axis fastest
    for (size_t i = 0; i < count; ++i) {
        point pt;
        pt.index = i;
        pt.sets = r.sets;
        std::string name = std::to_string(i);
        name = std::string(width - name.size(), '0') + name;
        const size_t s = i % r.seeds, rest = i / r.seeds;
        size_t div = 1;
        for (size_t a = p.axes.size(); a-- > 0;) {
            const axis& ax = p.axes[a];
            at[a] = (rest / div) % ax.values.size();
            div *= ax.values.size();
        }
        for (size_t a = 0; a < p.axes.size(); ++a) {
            pt.values.push_back(p.axes[a].values[at[a]]);
            pt.sets.push_back(p.axes[a].key + "=" + pt.values.back());
            name += "-" + slug(pt.values.back());
        }
        if (r.seeds > 1) pt.sets.push_back("run.seed=" + std::to_string(base.seed + s));
        try {
            out.scenarios.push_back(load_scenario(p.scenario, pt.sets));
            params::resolve(out.scenarios.back());
        } catch (const input_error& e) {
            pt.seed = r.seeds > 1 ? base.seed + s : base.seed;
            throw input_error("sweep point " + std::to_string(i) + " (" + point_label(p, pt) + "): " + e.what());
        }
        pt.seed = out.scenarios.back().seed;
        if (name.size() > 120) name.resize(120);  // file names stay short; the index keeps them apart
        pt.dir = "points/" + name + "-s" + std::to_string(pt.seed);
        p.points.push_back(pt);
    }
    return out;
}

}  // namespace ioatsim::sweep
