#include "tools/torture_minimize.h"

#include "platform/params.h"
#include "platform/runner.h"
#include "tools/sweep_run.h"

#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

namespace ioatsim::torture {
namespace fs = std::filesystem;

namespace {

std::string ps_text(uint64_t ps) { return std::to_string(ps) + " ps"; }

std::string flow(YAML::Node n) {
    YAML::Emitter e;
    e.SetMapFormat(YAML::Flow);
    e.SetSeqFormat(YAML::Flow);
    e << n;
    return e.c_str();
}

struct result {
    bool ran = false;      // a verdict came out
    int exit_status = -1;
    bool has_kind = false;
    std::string first_kind;
    nlohmann::json summary;
};

// One try, in a process of its own (SystemC elaborates once per process).
result try_run(const minimize_request& r, const std::vector<std::string>& sets, const fs::path& dir,
               const std::string& kind) {
    result res;
    scenario sc;
    try {
        sc = load_scenario(r.base.scenario, sets);
    } catch (const input_error&) {
        return res;  // a reduction the scenario refuses
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::create_directories(dir, ec);
    std::fflush(nullptr);
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("minimize: cannot fork");
    if (pid == 0)
        sweep::child_exit(dir.string(), [&] {
            run_options ro;
            ro.out_dir = dir.string();
            ro.quiet = true;
            ro.trace = trace_level::none;
            return run_scenario(sc, ro).exit_code;
        });
    int st = 0;
    const auto start = std::chrono::steady_clock::now();
    while (waitpid(pid, &st, WNOHANG) == 0) {
        if (r.timeout_s > 0 && std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > r.timeout_s) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return res;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) > 1) return res;
    res.exit_status = WEXITSTATUS(st);
    try {
        res.summary = nlohmann::json::parse(read_whole((dir / "summary.json").string()));
    } catch (const std::exception&) {
        return res;
    }
    res.ran = true;
    for (auto& [k, v] : res.summary["counters"].items())
        if (k.rfind("violations.", 0) == 0 && v.get<int64_t>() > 0) {
            if (res.first_kind.empty()) res.first_kind = k.substr(11);
            if (k.substr(11) == kind) res.has_kind = true;
        }
    return res;
}

// Reductions of the scenario as it now stands, each a --set.
std::vector<std::string> reductions(const scenario& sc, size_t action, uint64_t at_ps, uint64_t prev_at) {
    std::vector<std::string> out;
    const YAML::Node clients = sc.effective["software"]["clients"];
    if (clients && clients.IsMap() && clients.size() > 1)
        for (auto it = clients.begin(); it != clients.end(); ++it) {
            YAML::Node rest(YAML::NodeType::Map);
            for (auto jt = clients.begin(); jt != clients.end(); ++jt)
                if (jt->first.Scalar() != it->first.Scalar()) rest[jt->first.Scalar()] = YAML::Clone(jt->second);
            out.push_back("software.clients=" + flow(rest));
        }
    if (clients && clients.IsMap())
        for (auto it = clients.begin(); it != clients.end(); ++it)
            if (it->second.IsMap())
                for (const char* k : {"readers", "interfaces", "reads", "threads", "threads_per_chan", "iterations",
                                      "max_channels"})
                    if (YAML::Node v = it->second[k]; v && v.IsScalar()) {
                        long n = std::atol(v.Scalar().c_str());
                        if (n > 1) out.push_back("software.clients." + it->first.Scalar() + "." + k + "=" + std::to_string(n / 2));
                    }
    const params p = params::resolve(sc);
    for (const char* k : {"sockets", "cores_per_socket", "ioh.ioat_functions"})
        if (long n = long(p.integer(k)); n > 1) out.push_back(std::string("platform.set.") + k + "=" + std::to_string(n / 2));
    if (sc.until_ps > at_ps + 2'000'000) out.push_back("run.until=" + ps_text(at_ps + (sc.until_ps - at_ps) / 2));
    if (at_ps / 2 > prev_at) out.push_back("timeline." + std::to_string(action) + ".at=" + ps_text(at_ps / 2));
    return out;
}

}  // namespace

int minimize(const minimize_request& r) {
    if (r.base.axes.size() > 1 || r.base.designs.size() > 1)
        throw input_error("--minimize: one design and one fail-back setting (--designs D, --failback on|off)");
    const fs::path out = fs::absolute(r.out.empty() ? "out/minimize" : r.out);
    std::vector<std::string> sets = r.base.sets;
    if (!r.base.designs.empty()) sets.push_back("software.dmaengine.design=" + r.base.designs.front());
    uint64_t at = r.at_ps;
    sets.push_back("timeline." + std::to_string(r.action) + ".at=" + ps_text(at));
    uint64_t prev_at = 0;
    for (const timeline_action& a : load_scenario(r.base.scenario, sets).timeline)
        if (a.index != r.action && a.at_ps <= at) prev_at = std::max(prev_at, a.at_ps);

    unsigned tries = 0;
    result first = try_run(r, sets, out / "try-0", "");
    if (!first.ran || first.exit_status != 1 || first.first_kind.empty()) {
        std::cout << "minimize: the run at " << ps_text(at) << " does not fail with a violation ("
                  << (first.ran ? "exit status " + std::to_string(first.exit_status) : "no verdict") << ")\n";
        return 1;
    }
    const std::string kind = first.first_kind;
    std::cout << "minimize: the run fails with " << kind << "; shrinking while it still does\n";
    fs::path best = out / "try-0";
    result best_res = first;
    for (bool progress = true; progress && tries < 200;) {
        progress = false;
        for (const std::string& red : reductions(load_scenario(r.base.scenario, sets), r.action, at, prev_at)) {
            std::vector<std::string> trial = sets;
            trial.push_back(red);
            const fs::path dir = out / ("try-" + std::to_string(++tries));
            result res = try_run(r, trial, dir, kind);
            const bool kept = res.ran && res.exit_status == 1 && res.has_kind;
            std::cout << "  " << (kept ? "kept   " : "dropped") << " " << red.substr(0, 100) << '\n';
            if (!kept) {
                std::error_code ec;
                fs::remove_all(dir, ec);
                continue;
            }
            sets = trial;
            if (red.rfind("timeline.", 0) == 0) at /= 2;
            best = dir;
            best_res = res;
            progress = true;
            break;
        }
    }
    const fs::path minimal = out / "minimal.yaml";
    fs::copy_file(best / "scenario.effective.yaml", minimal, fs::copy_options::overwrite_existing);
    auto figure = [](const nlohmann::json& s, const char* what) {
        if (std::string(what) == "cpus")
            return s["params"]["platform"]["sockets"].get<std::string>() + "x" +
                   s["params"]["platform"]["cores_per_socket"].get<std::string>();
        if (std::string(what) == "sim_time_ms") return std::to_string(s["sim_time_ps"].get<uint64_t>() / 1000000000.0);
        return s[what].dump();
    };
    std::cout << "minimize: " << tries << " tries; the smallest failing scenario: " << minimal.string() << '\n';
    for (const char* f : {"cpus", "sim_time_ms", "trace_events", "wall_time_s"})
        std::cout << "  " << f << ": " << figure(first.summary, f) << " -> " << figure(best_res.summary, f) << '\n';
    std::cout << "  violation: " << kind << "; check with: ioatsim run " << minimal.string() << '\n';
    return 0;
}

}  // namespace ioatsim::torture
