#include "tools/sweep.h"

#include "platform/runner.h"
#include "tools/plot.h"
#include "tools/sweep_emit.h"
#include "tools/sweep_plan.h"
#include "tools/sweep_results.h"
#include "tools/sweep_run.h"
#include "tools/cli_options.h"

#include <boost/program_options.hpp>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

namespace ioatsim {
namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {
using namespace cli;

std::string self_binary() {
    char b[4096];
    const ssize_t n = readlink("/proc/self/exe", b, sizeof b - 1);
    if (n <= 0) throw std::runtime_error("cannot find this program (/proc/self/exe)");
    return std::string(b, size_t(n));
}

std::string describe(const sweep::plan& p, size_t i) {
    std::string s;
    for (size_t a = 0; a < p.axes.size(); ++a) s += p.axes[a].name + "=" + p.points[i].values[a] + ", ";
    return s + "seed " + std::to_string(p.points[i].seed);
}

// Axes for --plot, decided (and refused) before anything runs.
void plot_axes(const sweep::plan& p, std::string& x, std::string& by) {
    std::vector<std::string> names;
    std::vector<size_t> sizes;
    for (const sweep::axis& a : p.axes) names.push_back(a.name), sizes.push_back(a.values.size());
    choose_plot_axes(names, sizes, x, by);
}

void draw_plots(const sweep::plan& p, const std::string& out, const std::vector<std::string>& metrics) {
    if (metrics.empty()) return;
    std::string x, by;
    plot_axes(p, x, by);
    for (const std::string& svg : plot_sweep({out, x, metrics, by, {}}))
        std::cout << "plot: " << svg << " (and .png, .dat, .gp)\n";
}

// The tables, what went wrong where, and the exit status.
int report(const sweep::plan& p, const std::string& out, const std::vector<std::string>& plots, size_t ran) {
    const sweep::results_counts c = sweep::write_results(p, out);
    std::cout << "sweep: " << c.points << " points (" << ran << " run now): " << c.pass << " pass, " << c.fail
              << " fail, " << c.other << " crashed, timed out or missing\n";
    size_t shown = 0;
    for (const sweep::point& pt : p.points) {
        const sweep::point_record r = sweep::read_record((fs::path(out) / pt.dir).string());
        if (r.complete() || shown++ >= 5) continue;
        std::cout << "  point " << pt.index << " (" << describe(p, pt.index) << "): " << r.status
                  << (r.exit_status >= 0 ? " (exit status " + std::to_string(r.exit_status) + ")" : "")
                  << (r.message.empty() ? "" : ": " + r.message) << '\n';
    }
    std::cout << "results: " << out << "/results.csv, results.jsonl, summary.csv\n";
    draw_plots(p, out, plots);
    return c.other ? 1 : 0;
}

int cmd_merge(const std::vector<std::string>& args) {
    po::options_description opts("sweep merge options");
    opts.add_options()
        ("out", po::value<std::string>()->value_name("DIR"), "where the merged sweep goes (default: the first DIR)")
        ("plot", po::value<std::string>()->value_name("METRIC,..."), "then draw these metrics")
        ("help,h", "this help")
        ("dirs", po::value<std::vector<std::string>>()->required(), "the shards' folders");
    if (help(args, "ioatsim sweep merge DIR... [--out DIR] [--plot METRIC,...]\n\n"
                   "Joins the folders of a campaign's shards: the same results.csv a single run gives.", opts))
        return 0;
    po::variables_map vm = parse(args, opts, "dirs", -1);
    const std::vector<std::string> plots = vm.count("plot") ? split_commas(vm["plot"].as<std::string>()) : std::vector<std::string>{};
    const std::vector<std::string> dirs = strings(vm, "dirs");
    const std::string out = vm.count("out") ? vm["out"].as<std::string>() : dirs.front();
    const sweep::plan p = sweep::read_plan(dirs.front());
    if (!plots.empty()) {
        if (std::string why = gnuplot_missing(); !why.empty()) throw input_error("--plot: " + why);
        std::string x, by;
        plot_axes(p, x, by);
    }
    sweep::merge(dirs, out);
    return report(p, out, plots, 0);
}

}  // namespace

int cmd_sweep(const std::vector<std::string>& args) {
    if (!args.empty() && args[0] == "merge") return cmd_merge({args.begin() + 1, args.end()});
    po::options_description opts("sweep options");
    opts.add_options()
        ("axis", po::value<std::vector<std::string>>()->composing()->value_name("KEY=VALUES"),
         "an axis: any dotted scenario key (a platform parameter alone stands for platform.set.KEY) and a list "
         "a,b,c or a range FIRST..LAST:COUNT[:log] (repeatable: a grid)")
        ("designs", po::value<std::string>()->value_name("A,B,..."), "the design as an axis (\"all\": every design)")
        ("seeds", po::value<unsigned>()->value_name("N"), "each point with seeds run.seed .. run.seed+N-1 (default 1)")
        ("set", po::value<std::vector<std::string>>()->composing()->value_name("KEY=VALUE"), "override a key everywhere")
        ("jobs,j", po::value<unsigned>()->value_name("N"), "points at a time (default: the number of cores)")
        ("out", po::value<std::string>()->value_name("DIR"), "the sweep's folder (default out/sweep-<scenario name>/)")
        ("trace", po::value<std::string>()->value_name("LEVEL"), "each point's trace: none (default), hotplug or full")
        ("timeout", po::value<double>()->value_name("SECONDS"), "stop a point after this wall time (default: never)")
        ("shard", po::value<std::string>()->value_name("I/N"), "run only every N-th point from the I-th (1-based)")
        ("plot", po::value<std::string>()->value_name("METRIC,..."), "then draw these summary.json numbers (SVG, PNG)")
        ("emit", po::value<std::string>()->value_name("ENGINE"),
         "write scripts instead of running: slurm (an sbatch job array and a merge job) or parallel (GNU parallel)")
        ("shards", po::value<unsigned>()->value_name("N"), "with --emit: shards (default: one per point, at most 1000)")
        ("throttle", po::value<unsigned>()->value_name("N"), "with --emit slurm: array tasks at a time (default all)")
        ("sshlogin", po::value<std::string>()->value_name("HOSTS"),
         "with --emit parallel: GNU parallel's --sshlogin (default \":\", this machine)")
        ("help,h", "this help")
        ("scenario", po::value<std::string>()->required(), "scenario file");
    if (help(args, "ioatsim sweep SCENARIO --axis KEY=VALUES... [--designs A,B] [--seeds N] [-j N] [--out DIR] [options]\n"
                   "       ioatsim sweep merge DIR... [--out DIR] [--plot METRIC,...]\n\n"
                   "Runs the scenario at every point of the grid the axes make, each in its own process and folder\n"
                   "(DIR/points/), and writes results.csv, results.jsonl and summary.csv (seeds aggregated). A rerun\n"
                   "skips points that have a whole result. Exit status: 0 every point gave a verdict (pass or fail),\n"
                   "1 a point crashed, timed out or is missing, 2 bad input.", opts))
        return 0;
    po::variables_map vm = parse(args, opts, "scenario", 1);

    sweep::plan_request req;
    req.scenario = vm["scenario"].as<std::string>();
    req.sets = strings(vm, "set");
    req.axes = strings(vm, "axis");
    if (vm.count("designs")) {
        const std::string d = vm["designs"].as<std::string>();
        if (d == "all") req.designs.assign(std::begin(sw::dma_design_names), std::end(sw::dma_design_names));
        else req.designs = split_commas(d);
        if (req.designs.empty()) throw input_error("--designs: name at least one design");
    }
    if (vm.count("seeds")) req.seeds = bounded(vm, "seeds", 1, 1000);
    unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
    if (vm.count("jobs")) jobs = bounded(vm, "jobs", 1, 256);
    const trace_level trace = trace_option(vm);
    const double timeout = timeout_option(vm);
    unsigned shard = 1, shards = 1;
    if (vm.count("shard")) sweep::parse_shard(vm["shard"].as<std::string>(), shard, shards);
    const std::string emit = vm.count("emit") ? vm["emit"].as<std::string>() : "";
    if (!emit.empty() && emit != "slurm" && emit != "parallel")
        throw input_error("--emit: \"" + emit + "\" is not slurm or parallel");
    if (!emit.empty() && vm.count("shard")) throw input_error("--shard: not with --emit (each shard gets its own)");
    for (const char* o : {"shards", "throttle", "sshlogin"})
        if (vm.count(o) && (emit.empty() || (std::string(o) == "throttle" && emit != "slurm") ||
                            (std::string(o) == "sshlogin" && emit != "parallel")))
            throw input_error(std::string("--") + o + ": only with --emit " + (std::string(o) == "sshlogin" ? "parallel" : std::string(o) == "throttle" ? "slurm" : "slurm or parallel"));
    const std::vector<std::string> plots = vm.count("plot") ? split_commas(vm["plot"].as<std::string>()) : std::vector<std::string>{};

    // Everything is checked before the folder is touched: every point's scenario and platform, the plot's axes.
    const sweep::checked_plan cp = sweep::make_plan(req);
    if (!plots.empty()) {
        if (std::string why = gnuplot_missing(); !why.empty()) throw input_error("--plot: " + why);
        std::string x, by;
        plot_axes(cp.p, x, by);
    }
    const size_t npoints = cp.p.points.size();
    unsigned emit_shards = unsigned(std::min<size_t>(npoints, 1000));
    if (vm.count("shards")) emit_shards = bounded(vm, "shards", 1, unsigned(std::min<size_t>(npoints, 100000)));
    const std::string out = absolute(vm.count("out") ? vm["out"].as<std::string>() : "out/sweep-" + cp.p.scenario_name);
    std::error_code ec;
    if (fs::exists(fs::path(out) / "sweep.json", ec) && !sweep::read_plan(out).same_campaign(cp.p))
        throw input_error("--out " + out + ": holds another campaign (its sweep.json differs); give another --out or "
                          "remove it");
    fs::create_directories(out, ec);
    if (ec || !fs::is_directory(out)) throw input_error("--out " + out + ": cannot create the folder");
    if (!fs::exists(fs::path(out) / "sweep.json", ec))
        write_whole((fs::path(out) / "sweep.json").string(), cp.p.to_json().dump(2) + "\n");

    if (!emit.empty()) {
        sweep::emit_request er;
        er.kind = emit;
        er.binary = self_binary();
        er.out = out;
        er.sweep_args.push_back(cp.p.scenario);
        for (const std::string& s : req.sets) er.sweep_args.insert(er.sweep_args.end(), {"--set", s});
        for (const std::string& a : req.axes) er.sweep_args.insert(er.sweep_args.end(), {"--axis", a});
        if (!req.designs.empty()) {
            std::string d;
            for (const std::string& n : req.designs) d += (d.empty() ? "" : ",") + n;
            er.sweep_args.insert(er.sweep_args.end(), {"--designs", d});
        }
        if (req.seeds > 1) er.sweep_args.insert(er.sweep_args.end(), {"--seeds", std::to_string(req.seeds)});
        if (vm.count("trace")) er.sweep_args.insert(er.sweep_args.end(), {"--trace", vm["trace"].as<std::string>()});
        if (vm.count("timeout")) er.sweep_args.insert(er.sweep_args.end(), {"--timeout", std::to_string(timeout)});
        if (!plots.empty()) er.merge_args = {"--plot", vm["plot"].as<std::string>()};
        er.shards = emit_shards;
        er.throttle = vm.count("throttle") ? bounded(vm, "throttle", 1, 100000) : 0;
        er.jobs = vm.count("jobs") ? jobs : 1;
        if (vm.count("sshlogin")) er.sshlogin = vm["sshlogin"].as<std::string>();
        const std::string script = sweep::emit(er);
        std::cout << "sweep: " << npoints << " points in " << er.shards << " shards; plan: " << out
                  << "/sweep.json\nrun: bash " << script << '\n';
        return 0;
    }

    sweep::run_request rr;
    rr.plan = &cp;
    rr.out = out;
    rr.jobs = jobs;
    rr.timeout_s = timeout;
    rr.trace = trace;
    rr.shard = shard;
    rr.shards = shards;
    rr.progress = isatty(STDERR_FILENO);
    const sweep::run_counts c = sweep::run_points(rr);
    if (shards > 1) {
        std::cout << "shard " << shard << "/" << shards << ": " << c.selected << " points (" << c.ran << " run now): "
                  << c.pass << " pass, " << c.fail << " fail, " << c.other << " crashed or timed out\n"
                  << "join the shards with: ioatsim sweep merge " << out << " [more shards' folders]\n";
        return c.other ? 1 : 0;
    }
    return report(cp.p, out, plots, c.ran);
}

int cmd_plot(const std::vector<std::string>& args) {
    po::options_description opts("plot options");
    opts.add_options()
        ("x", po::value<std::string>()->required()->value_name("AXIS"), "the axis along x (its name, key or key's end)")
        ("y", po::value<std::string>()->required()->value_name("METRIC,..."), "summary.json numbers, one plot each")
        ("by", po::value<std::string>()->value_name("AXIS"), "one line per value (default: design, when it varies)")
        ("where", po::value<std::vector<std::string>>()->composing()->value_name("AXIS=VALUE"),
         "hold another axis at one value (repeatable)")
        ("help,h", "this help")
        ("dir", po::value<std::string>()->required(), "a sweep's folder");
    if (help(args, "ioatsim plot DIR --x AXIS --y METRIC[,METRIC] [--by AXIS] [--where AXIS=VALUE]...\n\n"
                   "Draws a sweep's summary.csv with gnuplot: the mean over seeds with bars from min to max, one line\n"
                   "per value of --by, into DIR/plots/ as SVG and PNG, beside the data file and script.", opts))
        return 0;
    po::variables_map vm = parse(args, opts, "dir", 1);
    plot_request r;
    r.dir = vm["dir"].as<std::string>();
    r.x = vm["x"].as<std::string>();
    r.y = split_commas(vm["y"].as<std::string>());
    for (const std::string& w : strings(vm, "where")) {
        const size_t eq = w.find('=');
        if (eq == std::string::npos || eq == 0) throw input_error("--where " + w + ": expected AXIS=VALUE");
        r.where.emplace_back(w.substr(0, eq), w.substr(eq + 1));
    }
    if (vm.count("by")) {
        r.by = vm["by"].as<std::string>();
    } else {
        // The design, when it varies and is neither along x nor held.
        const sweep::plan p = sweep::read_plan(r.dir);
        bool held = false;
        for (const auto& [k, v] : r.where) held = held || k == "design";
        if (!p.axes.empty() && p.axes[0].name == "design" && p.axes[0].values.size() > 1 && r.x != "design" && !held)
            r.by = "design";
    }
    for (const std::string& svg : plot_sweep(r)) std::cout << "plot: " << svg << " (and .png, .dat, .gp)\n";
    return 0;
}

}  // namespace ioatsim
