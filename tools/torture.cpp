#include "tools/torture.h"

#include "platform/runner.h"
#include "sw/dmaengine/design.h"
#include "tools/cli_options.h"
#include "tools/plot.h"
#include "tools/sweep_results.h"
#include "tools/sweep_run.h"
#include "tools/torture_minimize.h"

#include <nlohmann/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

namespace ioatsim {
namespace fs = std::filesystem;
using namespace cli;

namespace torture {

uint64_t instant_ps(const sweep::plan& p, size_t i) { return parse_time_ps(p.points[i].values.back()); }

namespace {

std::string ns_text(uint64_t ps) {  // exact: "1500000.5 ns"
    std::string s = std::to_string(ps / 1000);
    if (uint64_t f = ps % 1000) {
        char b[8];
        std::snprintf(b, sizeof b, ".%03llu", (unsigned long long)f);
        std::string frac = b;
        while (frac.back() == '0') frac.pop_back();
        s += frac;
    }
    return s + " ns";
}

// What one instant came to.
struct outcome {
    std::string kind;                  // pass, vacuous, fail, or the point's status (crashed, timeout, error)
    std::vector<std::string> violations;  // kinds with a count, for a failure
    std::string excerpt;               // the log around the first violation
    std::string failback;              // as run: on or off (empty when the point did not finish)
};

outcome classify(const sweep::plan& p, const std::string& out, size_t i, size_t action) {
    const fs::path dir = fs::path(out) / p.points[i].dir;
    const sweep::point_record rec = sweep::read_record(dir.string());
    outcome o;
    if (!rec.complete()) {
        o.kind = rec.status;
        o.excerpt = rec.message;
        return o;
    }
    const nlohmann::json s = nlohmann::json::parse(read_whole((dir / "summary.json").string()));
    const nlohmann::json sw = s.value("params", nlohmann::json::object()).value("software", nlohmann::json::object());
    if (sw.contains("failback")) o.failback = sw["failback"].get<bool>() ? "on" : "off";
    const nlohmann::json counters = s.value("counters", nlohmann::json::object());
    for (auto& [k, v] : counters.items())
        if (k.rfind("violations.", 0) == 0 && v.get<int64_t>() > 0) o.violations.push_back(k.substr(11));
    bool vacuous = true;  // the action never ran, or met nothing to act on
    const nlohmann::json actions = s.value("timeline", nlohmann::json::array());
    for (const auto& a : actions)
        if (a.value("timeline_index", size_t(-1)) == action)
            vacuous = !a.contains("bound") || a["bound"].get<int64_t>() == 0 ||
                      (a["in_flight"].get<int64_t>() == 0 && a["client_refs"].get<int64_t>() == 0);
    if (rec.status == "fail") {
        o.kind = "fail";
        if (o.violations.empty()) o.violations.push_back("expectation");
        std::istringstream log(read_whole((dir / "log.txt").string()));
        std::vector<std::string> lines;
        for (std::string l; std::getline(log, l);) {
            lines.push_back(l);
            if (l.find("ioatsim: checker:") != std::string::npos || l.find("expectation failed") != std::string::npos) {
                for (size_t k = lines.size() > 3 ? lines.size() - 3 : 0; k < lines.size(); ++k)
                    o.excerpt += lines[k] + "\n";
                break;
            }
        }
        if (o.excerpt.empty()) o.excerpt = read_whole((dir / "stdout.txt").string());
    } else {
        o.kind = vacuous ? "vacuous" : "pass";
    }
    return o;
}

struct row {
    std::string design, failback;
    size_t instants = 0, pass = 0, vacuous = 0, fail = 0, other = 0;
    std::map<std::string, size_t> kinds;
    std::string first_fail, excerpt;
};

}  // namespace
}  // namespace torture

namespace {

// torture.csv, torture.md and a plot per design: each instant's outcome.
int write_report(const sweep::plan& p, const std::string& out, const std::vector<torture::group>& groups,
                 size_t action) {
    using namespace torture;
    std::vector<row> rows;
    std::ostringstream dat_all;
    std::ostringstream csv;
    csv << "design,failback,instants,pass,vacuous,fail,other,fail_kinds,first_failing_instant\n";
    std::string md = "| design | fail-back | instants | pass | vacuous | fail | other | failures by kind | first failing instant |\n"
                     "|---|---|---|---|---|---|---|---|---|\n";
    const size_t nax = p.axes.size();
    std::map<std::string, std::string> dat;  // design -> "instant_us outcome" lines
    for (const group& g : groups) {
        row r;
        const sweep::point& first = p.points[g.points.front()];
        for (size_t a = 0; a + 1 < nax; ++a) {
            if (p.axes[a].name == "design") r.design = first.values[a];
            if (p.axes[a].key == "software.dmaengine.failback") r.failback = first.values[a] == "true" ? "on" : "off";
        }
        for (size_t i : g.points) {
            outcome o = classify(p, out, i, action);
            if (r.failback.empty()) r.failback = o.failback;  // --failback on|off, or the scenario's
            ++r.instants;
            int code = 0;
            if (o.kind == "pass") ++r.pass, code = 0;
            else if (o.kind == "vacuous") ++r.vacuous, code = 1;
            else if (o.kind == "fail") ++r.fail, code = 2;
            else ++r.other, code = 3;
            for (auto& k : o.violations) ++r.kinds[k];
            if ((o.kind != "pass" && o.kind != "vacuous") && r.first_fail.empty()) {
                r.first_fail = p.points[i].values.back();
                r.excerpt = o.excerpt;
            }
            dat[r.design + (r.failback.empty() ? "" : "-failback-" + r.failback)] +=
                std::to_string(double(instant_ps(p, i)) / 1e6) + " " + std::to_string(code) + "\n";
        }
        std::string kinds;
        for (auto& [k, n] : r.kinds) kinds += (kinds.empty() ? "" : " ") + k + ":" + std::to_string(n);
        csv << r.design << ',' << r.failback << ',' << r.instants << ',' << r.pass << ',' << r.vacuous << ',' << r.fail
            << ',' << r.other << ',' << kinds << ',' << r.first_fail << '\n';
        md += "| " + r.design + " | " + (r.failback.empty() ? "as scenario" : r.failback) + " | " +
              std::to_string(r.instants) + " | " + std::to_string(r.pass) + " | " + std::to_string(r.vacuous) + " | " +
              std::to_string(r.fail) + " | " + std::to_string(r.other) + " | " + kinds + " | " + r.first_fail + " |\n";
        rows.push_back(r);
    }
    write_whole((fs::path(out) / "torture.csv").string(), csv.str());
    write_whole((fs::path(out) / "torture.md").string(), md);

    std::cout << md;
    int status = 0;
    for (const row& r : rows) {
        if (r.fail || r.other) status = 1;
        if (r.first_fail.empty()) continue;
        std::cout << "\n" << r.design << (r.failback.empty() ? "" : " (fail-back " + r.failback + ")")
                  << ": first failing instant " << r.first_fail << "\n" << r.excerpt;
    }
    if (gnuplot_missing().empty())
        for (auto& [name, lines] : dat) {
            const std::string gp =
                "set title '" + name + ": outcome of each instant'\nset xlabel 'instant (us)'\n"
                "set ytics ('pass' 0, 'vacuous' 1, 'fail' 2, 'crashed' 3)\nset yrange [-0.5:3.5]\nset key off\n"
                "set terminal svg size 900,300 fixed font 'sans,11' background '#ffffff'\nset termoption noenhanced\n"
                "set output 'torture-" + name + ".svg'\n"
                "plot 'torture-" + name + ".dat' using 1:2:2 with points pt 7 ps 0.5 lc variable\n";
            const fs::path dir = fs::path(out) / "plots";
            std::error_code ec;
            fs::create_directories(dir, ec);
            std::ofstream(dir / ("torture-" + name + ".dat")) << lines;
            std::ofstream(dir / ("torture-" + name + ".gp")) << gp;
            const std::string cmd = "cd '" + dir.string() + "' && gnuplot 'torture-" + name + ".gp' 2>/dev/null";
            if (std::system(cmd.c_str()) == 0)
                std::cout << "plot: " << (dir / ("torture-" + name + ".svg")).string() << "\n";
        }
    std::cout << "results: " << out << "/torture.csv, torture.md, results.csv\n";
    return status;
}

}  // namespace

int cmd_torture(const std::vector<std::string>& args) {
    po::options_description opts("torture options");
    opts.add_options()
        ("action", po::value<unsigned>()->value_name("N"), "the timeline action to move (timeline.N, from 0)")
        ("from", po::value<std::string>()->value_name("T0"), "the window's first instant (0 ms: from boot)")
        ("to", po::value<std::string>()->value_name("T1"), "its last instant")
        ("instants", po::value<unsigned>()->value_name("K"), "K instants, both ends included")
        ("step", po::value<std::string>()->value_name("DT"), "or one instant every DT from T0")
        ("designs", po::value<std::string>()->value_name("LIST"), "designs to run (default: the scenario's; all: every one)")
        ("failback", po::value<std::string>()->value_name("on|off|both"), "fail-back setting(s) (default: the scenario's)")
        ("set", po::value<std::vector<std::string>>()->value_name("KEY=VALUE"), "override a scenario key")
        ("jobs,j", po::value<unsigned>()->value_name("N"), "runs at a time (default: the cores)")
        ("out", po::value<std::string>()->value_name("DIR"), "the campaign's folder (default out/torture-NAME-aN)")
        ("trace", po::value<std::string>()->value_name("LEVEL"), "each instant's trace: none (default), hotplug, full")
        ("timeout", po::value<double>()->value_name("S"), "wall-clock limit of one instant's run")
        ("minimize", po::value<std::string>()->value_name("T"), "shrink the failing run at instant T instead")
        ("help,h", "this help")
        ("scenario", po::value<std::string>()->required(), "scenario file or installed name");
    if (help(args, "ioatsim torture SCENARIO --action N --from T0 --to T1 (--instants K | --step DT)\n"
                   "                [--designs LIST|all] [--failback on|off|both] [-j N] [--out DIR] [--minimize T]\n\n"
                   "Moves one timeline action across a window of instants, boot included, and runs every\n"
                   "instant under every design asked. Instants share the simulation up to them (one\n"
                   "prefix per design forks at each). Reports per design the instants that passed,\n"
                   "failed (by violation kind) and were vacuous (the action met no bound device or no\n"
                   "DMA in flight: never counted as a pass), the first failing instant with its log,\n"
                   "and a plot. Rerun with the same arguments to finish a campaign cut short.", opts))
        return 0;
    po::variables_map vm = parse(args, opts, "scenario", 1);
    for (const char* k : {"action", "from", "to"})
        if (!vm.count(k)) throw input_error(std::string("--") + k + ": required");
    if (vm.count("instants") == vm.count("step")) throw input_error("--instants or --step: give exactly one");
    const size_t action = vm["action"].as<unsigned>();
    auto time_of = [&](const char* k) {
        try {
            return parse_time_ps(vm[k].as<std::string>());
        } catch (const std::exception& e) {
            throw input_error(std::string("--") + k + ": \"" + vm[k].as<std::string>() + "\": " + e.what());
        }
    };
    const uint64_t t0 = time_of("from"), t1 = time_of("to");
    if (t1 < t0) throw input_error("--to: before --from");
    std::vector<uint64_t> instants;
    if (vm.count("instants")) {
        const unsigned k = bounded(vm, "instants", 1, 100000);
        for (unsigned i = 0; i < k; ++i)
            instants.push_back(k == 1 ? t0 : t0 + uint64_t((long double)(t1 - t0) * i / (k - 1) + 0.5L));
    } else {
        const uint64_t dt = time_of("step");
        if (dt == 0) throw input_error("--step: must be above 0");
        for (uint64_t t = t0; t <= t1 && instants.size() <= 100000; t += dt) instants.push_back(t);
        if (instants.size() > 100000) throw input_error("--step: more than 100000 instants");
    }
    instants.erase(std::unique(instants.begin(), instants.end()), instants.end());

    sweep::plan_request req;
    req.scenario = vm["scenario"].as<std::string>();
    req.sets = strings(vm, "set");
    if (vm.count("designs")) {
        const std::string d = vm["designs"].as<std::string>();
        if (d == "all") req.designs.assign(std::begin(sw::dma_design_names), std::end(sw::dma_design_names));
        else req.designs = split_commas(d);
    }
    if (vm.count("failback")) {
        const std::string f = vm["failback"].as<std::string>();
        if (f == "both") req.axes.push_back("software.dmaengine.failback=false,true");
        else if (f == "on" || f == "off") req.sets.push_back(std::string("software.dmaengine.failback=") + (f == "on" ? "true" : "false"));
        else throw input_error("--failback: \"" + f + "\" is not on, off or both");
    }
    std::string list;
    for (uint64_t t : instants) list += (list.empty() ? "" : ",") + torture::ns_text(t);
    req.axes.push_back("timeline." + std::to_string(action) + ".at=" + list);
    unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
    if (vm.count("jobs")) jobs = bounded(vm, "jobs", 1, 256);
    const trace_level trace = trace_option(vm);
    const double timeout = timeout_option(vm);

    // The action and its window: checked on the scenario as given.
    const scenario base = load_scenario(req.scenario, req.sets);
    if (action >= base.timeline.size())
        throw input_error("--action: the scenario's timeline has " + std::to_string(base.timeline.size()) +
                          " action(s), numbered from 0");
    // Its neighbours in time keep their order: the window lies between them
    // (an equal instant only on the side the file's order already puts it).
    bool before = true;
    for (const timeline_action& a : base.timeline) {
        if (a.index == action) {
            before = false;
            continue;
        }
        const bool keeps = before ? a.at_ps < t0 || (a.at_ps == t0 && a.index < action)
                                  : a.at_ps > t1 || (a.at_ps == t1 && a.index > action);
        if (!keeps)
            throw input_error("--from/--to: the window " + torture::ns_text(t0) + " .. " + torture::ns_text(t1) +
                              " crosses timeline." + std::to_string(a.index) + " (" + a.action + " at " +
                              torture::ns_text(a.at_ps) + "); keep the action between its neighbours");
    }
    if (t1 >= base.until_ps) throw input_error("--to: at or after the run's end (run.until)");

    if (vm.count("minimize")) {
        torture::minimize_request mr{req, action, 0, vm.count("out") ? vm["out"].as<std::string>() : "", timeout};
        try {
            mr.at_ps = parse_time_ps(vm["minimize"].as<std::string>());
        } catch (const std::exception& e) {
            throw input_error("--minimize: \"" + vm["minimize"].as<std::string>() + "\": " + e.what());
        }
        return torture::minimize(mr);
    }

    const sweep::checked_plan cp = sweep::make_plan(req);
    const std::string out = absolute(vm.count("out") ? vm["out"].as<std::string>()
                                                     : "out/torture-" + cp.p.scenario_name + "-a" + std::to_string(action));
    std::error_code ec;
    if (fs::exists(fs::path(out) / "sweep.json", ec) && !sweep::read_plan(out).same_campaign(cp.p))
        throw input_error("--out " + out + ": holds another campaign (its sweep.json differs); give another --out or remove it");
    fs::create_directories(out, ec);
    if (ec || !fs::is_directory(out)) throw input_error("--out " + out + ": cannot create the folder");
    if (!fs::exists(fs::path(out) / "sweep.json", ec))
        write_whole((fs::path(out) / "sweep.json").string(), cp.p.to_json().dump(2) + "\n");

    // Groups: every axis but the instant (the last) fixed; the grid keeps the instants innermost.
    std::vector<torture::group> groups;
    for (const sweep::point& pt : cp.p.points) {
        if (groups.empty() || !std::equal(pt.values.begin(), pt.values.end() - 1,
                                          cp.p.points[groups.back().points.front()].values.begin()))
            groups.emplace_back();
        groups.back().points.push_back(pt.index);
    }
    torture::request r{&cp, out, action, jobs, timeout, trace, bool(isatty(STDERR_FILENO))};
    torture::run_groups(r, groups);
    sweep::write_results(cp.p, out);
    return write_report(cp.p, out, groups, action);
}

}  // namespace ioatsim
