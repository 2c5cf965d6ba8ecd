#include "tools/golden.h"

#include "models/core/json.h"
#include "platform/scenario.h"
#include "tools/children.h"


#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

namespace ioatsim {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int golden_format = 1;

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw input_error(p.string() + ": cannot read");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

json parse_file(const fs::path& p) {
    try {
        return json::parse(slurp(p));
    } catch (const json::exception& e) {
        throw input_error(p.string() + ": not JSON: " + e.what());
    }
}

// Dotted paths, arrays by index: "clients.net_dma.copies.lost", "os_operations.0.done".
void flatten(const json& j, const std::string& at, std::map<std::string, json>& out) {
    if (j.is_object() && !j.empty()) {
        for (auto& [k, v] : j.items()) flatten(v, at.empty() ? k : at + "." + k, out);
    } else if (j.is_array() && !j.empty()) {
        for (size_t i = 0; i < j.size(); ++i) flatten(j[i], at + "." + std::to_string(i), out);
    } else {
        out[at] = j;
    }
}

// The fields of an event that are behaviour: not its time, not the counts the
// report attaches, not the figures its kind names; numbers in text masked.
behaviour_event normalise(const json& line) {
    behaviour_event e;
    e.t = line.value("t", uint64_t(0));
    e.src = line.value("src", "");
    e.ev = line.value("ev", "");
    const trace_kind& k = classify(e.src, e.ev, line.value("msg", ""));
    e.unordered = k.unordered;
    json kept = json::object();
    auto text = [](const std::string& f, const json& v) {
        return " " + (f == "msg" ? v.dump() : f + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
    };
    e.shown = e.masked = e.ev;
    for (auto& [f, v] : line.items()) {
        if (f == "t" || f == "src" || f == "ev" || f == "counts" || f == "activity" || is_figure(k, f)) continue;
        kept[f] = v.is_string() ? json(mask_numbers(v.get<std::string>())) : v;
        e.shown += text(f, v);
        e.masked += text(f, kept[f]);
    }
    e.key = e.src + " " + e.ev + " " + kept.dump();
    return e;
}

struct one_run {
    int64_t seed = 0;
    std::string scenario;
    behaviour b;
    std::map<std::string, double> numbers;
    std::map<std::string, std::string> params;
};

one_run read_run(const fs::path& dir) {
    one_run r;
    const fs::path trace = dir / "hotplug.jsonl";
    json summary = parse_file(dir / "summary.json");
    if (!fs::exists(trace))
        throw input_error(dir.string() + ": no hotplug.jsonl (the run was made with --trace none)");
    std::ifstream in(trace, std::ios::binary);
    std::string line;
    for (size_t n = 1; std::getline(in, line); ++n) {
        try {
            r.b.events.push_back(normalise(json::parse(line)));
        } catch (const json::exception& e) {
            throw input_error(trace.string() + ":" + std::to_string(n) + ": not a trace line: " + e.what());
        }
    }
    r.b.trace = trace.string();
    r.seed = summary.value("seed", int64_t(0));
    r.b.seeds = {r.seed};
    r.scenario = summary.value("scenario", "");
    std::map<std::string, json> flat;
    flatten(summary, "", flat);
    for (auto& [k, v] : flat) {
        if (k.rfind("params.", 0) == 0) r.params[k] = v.dump();
        else if (v.is_number()) r.numbers[k] = v.get<double>();
        else r.b.summary[k] = v.dump();
    }
    return r;
}

figure distribution(const std::vector<double>& v) {
    figure f;
    f.n = v.size();
    if (v.empty()) return f;
    f.min = *std::min_element(v.begin(), v.end());
    f.max = *std::max_element(v.begin(), v.end());
    double sum = 0;
    for (double x : v) sum += x;
    f.mean = sum / double(v.size());
    double sq = 0;
    for (double x : v) sq += (x - f.mean) * (x - f.mean);
    f.stddev = v.size() > 1 ? std::sqrt(sq / double(v.size() - 1)) : 0;
    return f;
}

// Runs of one folder or of its seed-S/ folders, grouped by behaviour.
results combine(const std::string& where, const std::string& kind, std::vector<one_run> runs) {
    std::sort(runs.begin(), runs.end(), [](const one_run& a, const one_run& b) { return a.seed < b.seed; });
    results r;
    r.where = where;
    r.kind = kind;
    r.scenario = runs.front().scenario;
    r.params = runs.front().params;
    const tolerances tol;
    std::map<std::string, std::vector<double>> values;
    for (one_run& run : runs) {
        r.seeds.push_back(run.seed);
        for (auto& [k, v] : run.numbers) values[k].push_back(v);
        auto same = std::find_if(r.behaviours.begin(), r.behaviours.end(),
                                 [&](const behaviour& b) { return b.same_as(run.b, tol); });
        if (same != r.behaviours.end()) same->seeds.push_back(run.seed);
        else r.behaviours.push_back(std::move(run.b));
    }
    for (auto& [k, v] : values) r.figures[k] = distribution(v);
    return r;
}

// What depends on the machine or the build, not on the simulation.
bool machine_specific(const std::string& key) {
    return key == "wall_time_s" || key.rfind("program.", 0) == 0;
}

double rounded(double v) {  // nine significant digits: stable text across machines
    return std::stod(json_number(v));
}

}  // namespace

// Per source: its ordered events in order, then its unordered ones sorted.
static std::string signature(const behaviour& b, const tolerances& tol) {
    std::map<std::string, std::vector<std::string>> ordered, unordered;
    for (const behaviour_event& e : b.events) (e.unordered ? unordered : ordered)[e.src].push_back(e.key);
    std::string s;
    for (auto& [src, keys] : ordered)
        for (auto& k : keys) s += k + "\n";
    for (auto& [src, keys] : unordered) {
        std::sort(keys.begin(), keys.end());
        for (auto& k : keys) s += k + "\n";
    }
    for (auto& [k, v] : b.summary)
        if (!tol.ignored(k)) s += k + "=" + v + "\n";
    return s;
}

bool behaviour::same_as(const behaviour& o, const tolerances& tol) const {
    return signature(*this, tol) == signature(o, tol);
}

std::string results::describe() const {
    std::string s = kind + ", " + (seeds.size() == 1 ? "seed " : std::to_string(seeds.size()) + " seeds ");
    for (size_t i = 0; i < seeds.size(); ++i) s += (i ? "," : "") + std::to_string(seeds[i]);
    if (behaviours.size() > 1) s += ", " + std::to_string(behaviours.size()) + " behaviours";
    return s;
}

bool is_golden(const std::string& folder) { return fs::exists(fs::path(folder) / "golden.json"); }

results load_results(const std::string& folder) {
    const fs::path dir(folder);
    if (is_golden(folder)) {
        json g = parse_file(dir / "golden.json");
        results r;
        r.where = folder;
        r.kind = "golden";
        try {
            if (g.at("ioatsim_golden").get<int>() != golden_format)
                throw input_error((dir / "golden.json").string() + ": a golden of another format");
            r.scenario = g.at("scenario").get<std::string>();
            r.seeds = g.at("seeds").get<std::vector<int64_t>>();
            for (auto& [k, v] : g.at("params").items()) r.params[k] = v.dump();
            for (auto& [k, v] : g.at("figures").items())
                r.figures[k] = {v.at("n").get<size_t>(), v.at("mean").get<double>(), v.at("stddev").get<double>(),
                                v.at("min").get<double>(), v.at("max").get<double>()};
            for (const json& b : g.at("behaviours")) {
                behaviour beh;
                beh.seeds = b.at("seeds").get<std::vector<int64_t>>();
                beh.trace = (dir / b.at("trace").get<std::string>()).string();
                for (auto& [k, v] : b.at("summary").items()) beh.summary[k] = v.dump();
                std::ifstream in(beh.trace, std::ios::binary);
                if (!in) throw input_error(beh.trace + ": missing (named by golden.json)");
                std::string line;
                for (size_t n = 1; std::getline(in, line); ++n) {
                    try {
                        beh.events.push_back(normalise(json::parse(line)));
                    } catch (const json::exception& e) {
                        throw input_error(beh.trace + ":" + std::to_string(n) + ": not a trace line: " + e.what());
                    }
                }
                r.behaviours.push_back(std::move(beh));
            }
        } catch (const json::exception& e) {
            throw input_error((dir / "golden.json").string() + ": not a golden: " + e.what());
        }
        return r;
    }
    if (fs::exists(dir / "summary.json")) return combine(folder, "run", {read_run(dir)});
    std::vector<one_run> runs;
    std::error_code ec;
    if (fs::is_directory(dir, ec))
        for (const auto& e : fs::directory_iterator(dir))
            if (e.is_directory() && e.path().filename().string().rfind("seed-", 0) == 0 &&
                fs::exists(e.path() / "summary.json"))
                runs.push_back(read_run(e.path()));
    if (runs.empty())
        throw input_error(folder + ": neither a run folder (summary.json, hotplug.jsonl), a folder of seeds "
                                   "(seed-S/ from run --seeds) nor a golden (golden.json)");
    return combine(folder, "seeds", std::move(runs));
}

namespace {

// golden.json, one figure, summary value or parameter per line: a change of
// golden reads as a short git diff.
std::string golden_json(const results& r, const std::vector<std::string>& traces) {
    auto number = [](double v) {
        v = rounded(v);
        return v == std::floor(v) && std::fabs(v) < 1e15 ? json(int64_t(v)) : json(v);
    };
    auto block = [](const std::vector<std::pair<std::string, json>>& items, const std::string& pad) {
        std::string o = "{";
        for (size_t i = 0; i < items.size(); ++i)
            o += (i ? ",\n" : "\n") + pad + "  " + json(items[i].first).dump() + ": " + items[i].second.dump();
        return o + (items.empty() ? "}" : "\n" + pad + "}");
    };
    std::string o = "{\n \"ioatsim_golden\": " + std::to_string(golden_format) + ",\n \"scenario\": " +
                    json(r.scenario).dump() + ",\n \"seeds\": " + json(r.seeds).dump() + ",\n \"behaviours\": [";
    for (size_t i = 0; i < r.behaviours.size(); ++i) {
        const behaviour& b = r.behaviours[i];
        std::vector<std::pair<std::string, json>> summary;
        for (auto& [k, v] : b.summary)
            if (!machine_specific(k)) summary.emplace_back(k, json::parse(v));
        o += std::string(i ? ",\n" : "\n") + "  {\"seeds\": " + json(b.seeds).dump() + ", \"trace\": " +
             json(traces[i]).dump() + ",\n   \"summary\": " + block(summary, "   ") + "}";
    }
    std::vector<std::pair<std::string, json>> figures, params;
    for (auto& [k, f] : r.figures)
        if (!machine_specific(k))
            figures.emplace_back(k, json{{"n", f.n}, {"mean", number(f.mean)}, {"stddev", number(f.stddev)},
                                         {"min", number(f.min)}, {"max", number(f.max)}});
    for (auto& [k, v] : r.params) params.emplace_back(k, json::parse(v));
    return o + "\n ],\n \"figures\": " + block(figures, " ") + ",\n \"params\": " + block(params, " ") + "\n}\n";
}

}  // namespace

void write_golden(const std::string& folder, const results& r) {
    const fs::path dir(folder);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec || !fs::is_directory(dir)) throw input_error(folder + ": cannot create the golden folder");
    std::vector<std::string> traces;
    std::vector<std::string> texts;
    for (const behaviour& b : r.behaviours) {
        traces.push_back(traces.empty() ? "hotplug.jsonl" : "hotplug.seed-" + std::to_string(b.seeds.front()) + ".jsonl");
        texts.push_back(slurp(b.trace));
    }
    const std::string g = golden_json(r, traces);
    for (size_t i = 0; i < traces.size(); ++i) write_whole((dir / traces[i]).string(), texts[i]);
    write_whole((dir / "golden.json").string(), g);
    for (const auto& e : fs::directory_iterator(dir)) {  // behaviours no longer seen
        std::string n = e.path().filename().string();
        if (n.rfind("hotplug.", 0) == 0 && n.size() > 6 && n.substr(n.size() - 6) == ".jsonl" &&
            std::find(traces.begin(), traces.end(), n) == traces.end())
            fs::remove(e.path(), ec);
    }
}

int run_seeds(const seeds_options& o) {
    std::vector<scenario> scs;
    std::vector<int64_t> seeds;
    for (unsigned i = 0; i < o.seeds; ++i) {
        auto sets = o.sets;
        if (i) sets.push_back("run.seed=" + std::to_string(scs.front().seed + i));
        scs.push_back(load_scenario(o.scenario, sets));
        seeds.push_back(int64_t(scs.back().seed));
    }
    fs::path dir = o.run.out_dir.empty() ? fs::path("out") / scs.front().name : fs::path(o.run.out_dir);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec || !fs::is_directory(dir)) throw input_error(dir.string() + ": cannot create the output folder");
    for (const auto& e : fs::directory_iterator(dir))  // seeds of an earlier, larger run
        if (e.is_directory() && e.path().filename().string().rfind("seed-", 0) == 0) fs::remove_all(e.path(), ec);
    std::vector<child_run> runs;
    for (size_t i = 0; i < scs.size(); ++i) {
        child_run r{scs[i], o.run, "seed " + std::to_string(seeds[i]), "/dev/null"};
        r.options.out_dir = (dir / ("seed-" + std::to_string(seeds[i]))).string();
        r.options.quiet = true;
        runs.push_back(std::move(r));
    }
    std::vector<int> status = run_in_children(runs, o.jobs);

    int worst = 0;
    for (size_t i = 0; i < scs.size(); ++i) {
        const char* what = status[i] == 0 ? "pass" : status[i] == 1 ? "fail" : status[i] == 2 ? "bad input" : "crashed";
        std::cout << "seed " << seeds[i] << ": " << what << '\n';
        auto rank = [](int s) { return s == 0 ? 0 : s == 1 ? 1 : s == 2 ? 2 : 3; };
        if (rank(status[i]) > rank(worst)) worst = status[i] == 2 ? 2 : status[i] == 1 ? 1 : 3;
    }
    std::cout << "output: " << dir.string() << '\n';
    if (!o.golden.empty() && worst <= 1) {
        write_golden(o.golden, load_results(dir.string()));
        std::cout << "golden: " << o.golden << '\n';
    }
    return worst;
}

}  // namespace ioatsim
