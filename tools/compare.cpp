#include "tools/compare.h"

#include "platform/runner.h"
#include "platform/scenario.h"

#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>

namespace ioatsim {
namespace fs = std::filesystem;

namespace {

struct row {
    std::string design, verdict = "crashed", violations;
    int64_t completed = 0, fallback = 0, lost = 0, total_violations = 0;
    std::string latency = "-", before = "-", during = "-", after = "-", ref_ns = "-";
};

std::string fixed(double v, int digits) {
    char b[32];
    std::snprintf(b, sizeof b, "%.*f", digits, v);
    return b;
}

row read_summary(const std::string& design, const fs::path& file) {
    row r;
    r.design = design;
    YAML::Node s;
    try {
        s = YAML::LoadFile(file.string());
    } catch (const YAML::Exception&) {
        return r;  // the run died before writing it
    }
    r.verdict = s["verdict"].as<std::string>();
    r.total_violations = s["violations"].as<int64_t>();
    for (const auto& kv : s["counters"]) {
        std::string k = kv.first.as<std::string>();
        int64_t v = kv.second.as<int64_t>();
        if (k.rfind("violations.", 0) == 0 && v)
            r.violations += (r.violations.empty() ? "" : " ") + k.substr(11) + "=" + std::to_string(v);
    }
    if (r.violations.empty()) r.violations = "none";
    YAML::Node c = s["copies"];
    r.completed = c["completed"].as<int64_t>();
    r.fallback = c["cpu"].as<int64_t>() + c["failed_back"].as<int64_t>();
    r.lost = c["lost"].as<int64_t>();
    YAML::Node rm = s["removal"];
    if (rm["latency_ps"]) r.latency = fixed(rm["latency_ps"].as<double>() / 1e6, 1);
    else if (rm["requested"].as<bool>()) r.latency = "never";
    YAML::Node t = s["throughput_gbps"];
    if (t["before"]) {
        r.before = fixed(t["before"].as<double>(), 2);
        r.during = fixed(t["during"].as<double>(), 2);
        r.after = fixed(t["after"].as<double>(), 2);
    }
    r.ref_ns = fixed(s["references"]["ns_per_dma_op"].as<double>(), 3);
    return r;
}

const char* const header[] = {"design", "verdict", "violations", "copies completed", "fallen back", "lost",
                              "removal latency (us)", "GB/s before", "GB/s during", "GB/s after",
                              "ref ns per DMA op"};

std::vector<std::string> cells(const row& r) {
    return {r.design, r.verdict, r.violations, std::to_string(r.completed), std::to_string(r.fallback),
            std::to_string(r.lost), r.latency, r.before, r.during, r.after, r.ref_ns};
}

std::string markdown(const std::vector<row>& rows) {
    std::ostringstream o;
    o << '|';
    for (const char* h : header) o << ' ' << h << " |";
    o << "\n|";
    for (size_t i = 0; i < std::size(header); ++i) o << (i < 3 ? "---|" : "---:|");
    o << '\n';
    for (const row& r : rows) {
        o << '|';
        for (auto& c : cells(r)) o << ' ' << c << " |";
        o << '\n';
    }
    return o.str();
}

std::string csv(const std::vector<row>& rows) {
    std::ostringstream o;
    auto field = [](const std::string& s) {
        return s.find_first_of(",\"") == std::string::npos ? s : "\"" + s + "\"";
    };
    for (size_t i = 0; i < std::size(header); ++i) o << (i ? "," : "") << field(header[i]);
    o << '\n';
    for (const row& r : rows) {
        auto c = cells(r);
        for (size_t i = 0; i < c.size(); ++i) o << (i ? "," : "") << field(c[i]);
        o << '\n';
    }
    return o.str();
}

}  // namespace

int compare(const compare_options& opt) {
    std::vector<std::string> designs = opt.designs;
    if (designs.empty()) designs.assign(std::begin(sw::dma_design_names), std::end(sw::dma_design_names));
    // Every design's scenario is checked before anything runs.
    std::vector<scenario> scs;
    for (const std::string& d : designs) {
        auto sets = opt.sets;
        sets.push_back("software.dmaengine.design=" + d);
        scs.push_back(load_scenario(opt.scenario, sets));
    }
    fs::path dir = opt.out_dir.empty() ? fs::path("out") / ("compare-" + scs.front().name) : fs::path(opt.out_dir);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw input_error(dir.string() + ": cannot create output folder: " + ec.message());
    std::cout.flush();

    // A child per design, at most `jobs` at a time; each writes its own folder.
    std::map<pid_t, size_t> running;
    bool all_ran = true;
    auto reap = [&] {
        int status = 0;
        pid_t pid = wait(&status);
        if (pid > 0 && running.erase(pid) && !(WIFEXITED(status) && WEXITSTATUS(status) <= 1)) all_ran = false;
    };
    for (const std::string& d : designs) fs::remove(dir / d / "summary.json", ec);  // a crash must not read an old one
    for (size_t i = 0; i < scs.size(); ++i) {
        while (running.size() >= std::max(1u, opt.jobs)) reap();
        pid_t pid = fork();
        if (pid < 0) throw input_error("compare: cannot fork");
        if (pid == 0) {
            // The run's own messages go to its folder, not between the table's lines.
            fs::path d = dir / designs[i];
            fs::create_directories(d, ec);
            if (!std::freopen((d / "stdout.txt").c_str(), "w", stdout)) _exit(3);
            int code = 3;
            try {
                run_options ro;
                ro.out_dir = d.string() + "/";
                ro.quiet = true;
                code = run_scenario(scs[i], ro).exit_code;
            } catch (const std::exception& e) {
                std::fprintf(stderr, "%s: %s\n", designs[i].c_str(), e.what());
            }
            std::fflush(stdout);
            _exit(code);
        }
        running[pid] = i;
    }
    while (!running.empty()) reap();

    std::vector<row> rows;
    for (const std::string& d : designs) rows.push_back(read_summary(d, dir / d / "summary.json"));
    std::string md = markdown(rows);
    write_whole((dir / "compare.csv").string(), csv(rows));
    write_whole((dir / "compare.md").string(), "# " + scs.front().name + "\n\n" + md);
    std::cout << md << "table: " << (dir / "compare.md").string() << ", " << (dir / "compare.csv").string() << '\n';
    return all_ran ? 0 : 1;
}

}  // namespace ioatsim
