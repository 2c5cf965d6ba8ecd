// ioatsim: the command-line front end. Exit status 0 when every expectation holds,
// 1 when one fails, 2 on bad input or usage, 3 on an internal error.
#include "platform/data_dir.h"
#include "platform/params.h"
#include "platform/runner.h"
#include "platform/scenario.h"
#include "tools/compare.h"
#include "tools/diff.h"
#include "tools/golden.h"
#include "tools/list.h"
#include "tools/lspci.h"
#include "tools/param_units.h"
#include "tools/plot.h"
#include "tools/sweep.h"
#include "tools/torture.h"

#include <boost/program_options.hpp>
#include <systemc>

#include <iostream>

namespace po = boost::program_options;

static const char* usage =
    "usage: ioatsim run SCENARIO [--out DIR] [--set KEY=VALUE]... [--quiet] [--trace none|hotplug|full]\n"
    "                   [--perfetto] [--vcd] [--seeds N [--jobs N]] [--golden DIR]\n"
    "       ioatsim compare SCENARIO [--designs A,B,...] [--expect-fail A,B,...] [--out DIR] [--set KEY=VALUE]...\n"
    "                       [--jobs N] [--trace none|hotplug|full]\n"
    "       ioatsim diff OLD NEW [--tolerance FILE] [--update] [--context N]\n"
    "       ioatsim lspci (--preset NAME | SCENARIO) [--set KEY=VALUE]...\n"
    "       ioatsim params [--preset NAME | SCENARIO] [--set KEY=VALUE]... [--prefix KEY]\n"
    "       ioatsim sweep SCENARIO --axis KEY=VALUES... [--designs A,B] [--seeds N] [-j N] [--out DIR] [--plot M,...]\n"
    "                     [--shard I/N | --emit slurm|parallel] [--timeout S] [--trace none|hotplug|full]\n"
    "       ioatsim sweep merge DIR... [--out DIR] [--plot METRIC,...]\n"
    "       ioatsim torture SCENARIO --action N --from T0 --to T1 (--instants K | --step DT) [--designs LIST|all]\n"
    "                [--failback on|off|both] [-j N] [--out DIR] [--minimize T]\n"
    "       ioatsim plot DIR --x AXIS --y METRIC[,METRIC] [--by AXIS] [--where AXIS=VALUE]...\n"
    "       ioatsim list presets|scenarios|actions|counters|designs\n"
    "       ioatsim --help | --version\n";

// `--help` anywhere: the command's usage and options.
static bool help(const std::vector<std::string>& args, const char* use, const po::options_description& opts) {
    for (const std::string& a : args)
        if (a == "--help" || a == "-h") {
            std::cout << "usage: " << use << "\n\n" << opts;
            return true;
        }
    return false;
}

// Options plus one positional SCENARIO.
static po::variables_map parse(const std::vector<std::string>& args, const po::options_description& opts) {
    po::positional_options_description pos;
    pos.add("scenario", 1);
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(opts).positional(pos).run(), vm);
    po::notify(vm);
    return vm;
}

static ioatsim::trace_level trace_option(const po::variables_map& vm) {
    ioatsim::trace_level l = ioatsim::trace_level::hotplug;
    if (vm.count("trace") && !ioatsim::parse_trace_level(vm["trace"].as<std::string>(), l))
        throw ioatsim::input_error("--trace: \"" + vm["trace"].as<std::string>() + "\" is not none, hotplug or full");
    return l;
}

static unsigned count_option(const po::variables_map& vm, const char* name, unsigned max) {
    unsigned n = vm[name].as<unsigned>();
    if (n < 1 || n > max) throw ioatsim::input_error(std::string("--") + name + ": must be 1.." + std::to_string(max));
    return n;
}

static int cmd_run(const std::vector<std::string>& args) {
    po::options_description opts("run options");
    opts.add_options()
        ("out", po::value<std::string>()->value_name("DIR"), "output folder (default out/<scenario name>/)")
        ("set", po::value<std::vector<std::string>>()->composing()->value_name("KEY=VALUE"),
         "override any scenario key, e.g. --set run.until=\"2 ms\" (repeatable)")
        ("quiet,q", "do not echo the log")
        ("trace", po::value<std::string>()->value_name("LEVEL"),
         "none, hotplug (default: hotplug.jsonl, the behaviour of removal) or full (also trace.jsonl, every event)")
        ("perfetto", "also write trace.perfetto.json, a timeline for ui.perfetto.dev")
        ("vcd", "also write signals.vcd, the platform's state as waveforms (GTKWave)")
        ("seeds", po::value<unsigned>()->value_name("N"),
         "run seeds run.seed .. run.seed+N-1, each in its own process, into DIR/seed-S/")
        ("jobs,j", po::value<unsigned>()->value_name("N"), "with --seeds: runs at a time (default 1)")
        ("golden", po::value<std::string>()->value_name("DIR"),
         "then write a golden of the run (or of all seeds) into DIR, for ioatsim diff")
        ("help,h", "this help")
        ("scenario", po::value<std::string>()->required(), "scenario file");
    if (help(args, "ioatsim run SCENARIO [options]\n\n"
                   "Runs a scenario and writes log.txt, hotplug.jsonl, summary.json and scenario.effective.yaml\n"
                   "(and trace.jsonl, trace.perfetto.json, signals.vcd when asked).\n"
                   "Exit status: 0 every expectation held, 1 one failed (or a violation expect does not name),\n"
                   "2 bad input, 3 an internal error.", opts))
        return 0;
    po::variables_map vm = parse(args, opts);

    std::vector<std::string> sets;
    if (vm.count("set")) sets = vm["set"].as<std::vector<std::string>>();
    ioatsim::run_options ro;
    if (vm.count("out")) ro.out_dir = vm["out"].as<std::string>();
    ro.quiet = vm.count("quiet") != 0;
    ro.trace = trace_option(vm);
    ro.perfetto = vm.count("perfetto") != 0;
    ro.vcd = vm.count("vcd") != 0;
    std::string golden = vm.count("golden") ? vm["golden"].as<std::string>() : "";
    if (!golden.empty() && ro.trace == ioatsim::trace_level::none)
        throw ioatsim::input_error("--golden: a golden keeps the hotplug trace; not with --trace none");
    if (vm.count("jobs") && !vm.count("seeds")) throw ioatsim::input_error("--jobs: only with --seeds");
    const std::string scenario = ioatsim::installed_scenario(vm["scenario"].as<std::string>());
    if (vm.count("seeds")) {
        ioatsim::seeds_options so{scenario, sets, ro, count_option(vm, "seeds", 1000),
                                  vm.count("jobs") ? count_option(vm, "jobs", 64) : 1u, golden};
        return ioatsim::run_seeds(so);
    }
    ioatsim::scenario sc = ioatsim::load_scenario(scenario, sets);
    ioatsim::run_result r = ioatsim::run_scenario(sc, ro);
    std::cout << "verdict: " << r.verdict << "\noutput: " << r.out_dir << '\n';
    if (!golden.empty()) {
        ioatsim::write_golden(golden, ioatsim::load_results(r.out_dir));
        std::cout << "golden: " << golden << '\n';
    }
    return r.exit_code;
}

static int cmd_diff(const std::vector<std::string>& args) {
    po::options_description opts("diff options");
    opts.add_options()
        ("tolerance", po::value<std::string>()->value_name("FILE"),
         "a YAML file of KEY: {rel: R, abs: A} | exact | ignore, tried before the defaults")
        ("update", "rewrite OLD, a golden (or nothing yet), from NEW after an intended change")
        ("context", po::value<unsigned>()->value_name("N"), "events shown each side of a divergence (default 3)")
        ("help,h", "this help")
        ("old", po::value<std::string>()->required(), "run folder, folder of seeds or golden")
        ("new", po::value<std::string>()->required(), "run folder, folder of seeds or golden");
    if (help(args, "ioatsim diff OLD NEW [options]\n\n"
                   "Compares two runs, a golden and a run, or two goldens: the behaviour (the hotplug events per\n"
                   "source in order, times and figures stripped, and the summary's non-numbers) must match; every\n"
                   "number of summary.json must be within tolerance. Says what differs and where first.\n"
                   "Exit status: 0 the same within tolerance, 1 different, 2 bad input.", opts))
        return 0;
    po::positional_options_description pos;
    pos.add("old", 1).add("new", 1);
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(opts).positional(pos).run(), vm);
    po::notify(vm);
    ioatsim::diff_options o;
    o.old_path = vm["old"].as<std::string>();
    o.new_path = vm["new"].as<std::string>();
    if (vm.count("tolerance")) o.tolerance = vm["tolerance"].as<std::string>();
    o.update = vm.count("update") != 0;
    if (vm.count("context")) o.context = vm["context"].as<unsigned>();
    return ioatsim::diff(o, std::cout);
}

// Splits "a,b,c"; every name must be a design.
static std::vector<std::string> design_list(const std::string& text, const char* option) {
    std::vector<std::string> out;
    std::string cur;
    for (char ch : text + ",") {
        if (ch != ',') {
            cur += ch;
            continue;
        }
        ioatsim::sw::dma_design d;
        if (!ioatsim::sw::parse_dma_design(cur, d)) {
            std::string known;
            for (const char* n : ioatsim::sw::dma_design_names) known += std::string(known.empty() ? "" : ", ") + n;
            throw ioatsim::input_error(std::string(option) + ": unknown design \"" + cur + "\" (known: " + known + ")");
        }
        out.push_back(cur);
        cur.clear();
    }
    return out;
}

static int cmd_compare(const std::vector<std::string>& args) {
    po::options_description opts("compare options");
    opts.add_options()
        ("designs", po::value<std::string>()->value_name("A,B,..."), "designs to run (default all)")
        ("out", po::value<std::string>()->value_name("DIR"), "output folder (default out/compare-<scenario name>/)")
        ("set", po::value<std::vector<std::string>>()->composing()->value_name("KEY=VALUE"), "override a key")
        ("jobs,j", po::value<unsigned>()->value_name("N"), "runs at a time (default 1)")
        ("expect-fail", po::value<std::string>()->value_name("A,B,..."),
         "designs allowed to fail (default legacy; \"\" for none)")
        ("trace", po::value<std::string>()->value_name("LEVEL"),
         "each design's trace: none, hotplug (default: DIR/DESIGN/hotplug.jsonl, for ioatsim diff) or full")
        ("help,h", "this help")
        ("scenario", po::value<std::string>()->required(), "scenario file");
    if (help(args, "ioatsim compare SCENARIO [options]\n\n"
                   "Runs the scenario once per design, each in its own process, and tables what each did.\n"
                   "Exit status: 0 every design passed or is allowed to fail, 1 one failed or did not finish,\n"
                   "2 bad input.", opts))
        return 0;
    po::variables_map vm = parse(args, opts);
    ioatsim::compare_options co;
    co.scenario = ioatsim::installed_scenario(vm["scenario"].as<std::string>());
    co.trace = trace_option(vm);
    if (vm.count("designs")) co.designs = design_list(vm["designs"].as<std::string>(), "--designs");
    if (vm.count("expect-fail")) {
        const std::string v = vm["expect-fail"].as<std::string>();
        co.expect_fail = v.empty() ? std::vector<std::string>{} : design_list(v, "--expect-fail");
    }
    if (vm.count("set")) co.sets = vm["set"].as<std::vector<std::string>>();
    if (vm.count("out")) co.out_dir = vm["out"].as<std::string>();
    if (vm.count("jobs")) {
        co.jobs = vm["jobs"].as<unsigned>();
        if (co.jobs < 1 || co.jobs > 64) throw ioatsim::input_error("--jobs: must be 1..64");
    }
    const int status = ioatsim::compare(co);
    // The table's key figures as bar charts too; a missing gnuplot costs the chart only.
    const std::string dir = co.out_dir.empty() ? "out/compare-" + ioatsim::load_scenario(co.scenario, co.sets).name
                                               : co.out_dir;
    try {
        ioatsim::plot_compare(dir);
        std::cout << "chart: " << dir << "/compare.svg, " << dir << "/compare.png\n";
    } catch (const std::exception& e) {
        std::cerr << "chart not drawn: " << e.what() << '\n';
    }
    return status;
}

// SystemC prints its banner before sc_main runs; only the environment stops it.
static const int banner_off = setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);

// The scenario lspci and params describe: a file, or a bare preset.
static ioatsim::scenario platform_of(const po::variables_map& vm) {
    if (vm.count("preset") == vm.count("scenario"))
        throw po::error("give either --preset NAME or a scenario file");
    std::vector<std::string> sets;
    if (vm.count("set")) sets = vm["set"].as<std::vector<std::string>>();
    if (vm.count("scenario")) return ioatsim::load_scenario(vm["scenario"].as<std::string>(), sets);
    sets.insert(sets.begin(), "platform.preset=" + vm["preset"].as<std::string>());
    return ioatsim::parse_scenario("name: params\n", "--preset", sets);
}

// Every platform parameter with its value, where that value was set and the
// source of its default.
static int cmd_params(const std::vector<std::string>& args) {
    po::options_description opts("params options");
    opts.add_options()
        ("preset", po::value<std::string>()->value_name("NAME"), "a platform preset")
        ("set", po::value<std::vector<std::string>>()->composing()->value_name("KEY=VALUE"), "override a key")
        ("prefix", po::value<std::string>()->value_name("KEY"), "only keys that begin with KEY (e.g. cost.)")
        ("help,h", "this help")
        ("scenario", po::value<std::string>(), "scenario file");
    if (help(args, "ioatsim params [--preset NAME | SCENARIO] [--set KEY=VALUE]... [--prefix KEY]\n\n"
                   "Lists every platform parameter: its value for this platform (alone: the defaults), where that\n"
                   "value was set (the table's default, the preset's line or the scenario's), the source of the\n"
                   "default or the estimate it is, its unit and its default.", opts))
        return 0;
    po::variables_map vm = parse(args, opts);
    // Alone: the table's defaults, no preset applied.
    const bool table_only = !vm.count("preset") && !vm.count("scenario") && !vm.count("set");
    ioatsim::params p = table_only ? ioatsim::params{} : ioatsim::params::resolve(platform_of(vm));
    const std::string prefix = vm.count("prefix") ? vm["prefix"].as<std::string>() : "";
    for (const ioatsim::param_def& d : ioatsim::param_table()) {
        const std::string key = d.key;
        if (key.compare(0, prefix.size(), prefix)) continue;
        const std::string at = table_only ? "default" : p.where(key).str();
        std::cout << key << " = " << (table_only ? d.value : p.values().at(key))
                  << "\n    set at: " << (at.rfind("default of", 0) == 0 ? "default" : at)
                  << "\n    source: " << d.source << "\n    unit: " << ioatsim::param_unit(d)
                  << "\n    default: " << d.value << "\n";
    }
    return 0;
}

static int cmd_lspci(const std::vector<std::string>& args) {
    po::options_description opts("lspci options");
    opts.add_options()
        ("preset", po::value<std::string>()->value_name("NAME"), "a platform preset")
        ("set", po::value<std::vector<std::string>>()->composing()->value_name("KEY=VALUE"), "override a key")
        ("help,h", "this help")
        ("scenario", po::value<std::string>(), "scenario file");
    if (help(args, "ioatsim lspci (--preset NAME | SCENARIO) [--set KEY=VALUE]...\n\n"
                   "Prints the enumerated PCI tree as lspci -tv does, and the functions as lspci -nnk.", opts))
        return 0;
    po::variables_map vm = parse(args, opts);
    ioatsim::lspci(platform_of(vm), std::cout);
    return 0;
}

int sc_main(int argc, char** argv) {
    // SystemC's banner and reports would pollute the outputs users diff.
    sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    sc_core::sc_report_handler::set_actions("/IEEE_Std_1666/deprecated", sc_core::SC_DO_NOTHING);
    std::vector<std::string> args(argv + 1, argv + argc);
    try {
        if (args.empty()) {
            std::cerr << usage;
            return 2;
        }
        if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
            std::cout << "ioatsim: a simulator of Intel IOAT (QuickData) DMA engines in the\n"
                         "Nehalem/Westmere IOH, running a 3.4-era dmaengine and its clients.\n\n"
                      << usage;
            return 0;
        }
        if (args[0] == "--version") {
            std::cout << "ioatsim " << IOATSIM_VERSION << " (SystemC " << sc_core::sc_release() << ")\n";
            return 0;
        }
        if (args[0] == "run") return cmd_run({args.begin() + 1, args.end()});
        if (args[0] == "lspci") return cmd_lspci({args.begin() + 1, args.end()});
        if (args[0] == "params") return cmd_params({args.begin() + 1, args.end()});
        if (args[0] == "compare") return cmd_compare({args.begin() + 1, args.end()});
        if (args[0] == "diff") return cmd_diff({args.begin() + 1, args.end()});
        if (args[0] == "sweep") return ioatsim::cmd_sweep({args.begin() + 1, args.end()});
        if (args[0] == "torture") return ioatsim::cmd_torture({args.begin() + 1, args.end()});
        if (args[0] == "plot") return ioatsim::cmd_plot({args.begin() + 1, args.end()});
        if (args[0] == "list") return ioatsim::cmd_list({args.begin() + 1, args.end()});
        std::cerr << "ioatsim: unknown command \"" << args[0] << "\"\n" << usage;
        return 2;
    } catch (const ioatsim::input_error& e) {
        std::cerr << e.what() << '\n';
        return 2;
    } catch (const po::error& e) {
        std::cerr << "ioatsim: " << e.what() << '\n' << usage;
        return 2;
    } catch (const std::exception& e) {
        // Nobody's input: a fault of the simulator itself (SystemC's reports too).
        std::cerr << "ioatsim: internal error: " << e.what() << '\n';
        return 3;
    } catch (...) {
        std::cerr << "ioatsim: internal error: an exception of unknown type\n";
        return 3;
    }
}
