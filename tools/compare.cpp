#include "tools/compare.h"

#include "platform/runner.h"
#include "platform/scenario.h"
#include "tools/children.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>

namespace ioatsim {
namespace fs = std::filesystem;

namespace {

struct row {
    std::string design, failback = "-", verdict = "crashed", violations = "-";
    std::string completed = "-", failed_back = "-", cpu = "-", lost = "-", in_flight = "-";
    std::string latency = "-", freed = "-", before = "-", during = "-", after = "-", ref_ns = "-", path_ns = "-", gain = "-";
    std::string map_ns = "-", walks = "-";  // the DMA-mapping layer's cost, with the IOMMU on
    bool iommu = false, ran = false;
};

std::string fixed(const nlohmann::json& v, int digits) {
    if (!v.is_number()) return v.is_null() ? "never" : "-";
    char b[32];
    std::snprintf(b, sizeof b, "%.*f", digits, v.get<double>());
    return b;
}

row read_summary(const std::string& design, const fs::path& file) {
    row r;
    r.design = design;
    nlohmann::json s;
    try {
        std::ifstream in(file);
        s = nlohmann::json::parse(in);
        r.verdict = s.at("verdict").get<std::string>();
        r.failback = s.at("params").at("software").at("failback").get<bool>() ? "yes" : "no";
        r.violations.clear();
        for (auto& [k, v] : s.at("counters").items())
            if (k.rfind("violations.", 0) == 0 && v.get<int64_t>())
                r.violations += (r.violations.empty() ? "" : " ") + k.substr(11) + "=" + v.dump();
        if (r.violations.empty()) r.violations = "none";
        const auto& c = s.at("copies");
        r.completed = c.at("completed").dump(), r.failed_back = c.at("failed_back").dump();
        r.cpu = c.at("cpu").dump(), r.lost = c.at("lost").dump(), r.in_flight = c.at("in_flight_at_end").dump();
        const auto& rm = s.at("removal");
        if (rm.at("requested").get<int>() > 0) {
            r.latency = fixed(rm.at("latency_us"), 1);
            r.freed = fixed(rm.at("freed_latency_us"), 1);
        }
        const auto& t = s.at("throughput");
        r.before = fixed(t.at("before_gbytes_per_s"), 2);
        r.during = fixed(t.at("during_gbytes_per_s"), 2);
        r.after = fixed(t.at("after_gbytes_per_s"), 2);
        r.ref_ns = fixed(s.at("references").at("ns_per_dma_op"), 3);
        if (s.contains("shared_lines") && s["shared_lines"].contains("path"))
            r.path_ns = fixed(s["shared_lines"]["path"].at("ns_per_dma_op"), 1);
        if (s.contains("offload") && s["offload"].contains("net_dma_per_kib") &&
            s["offload"]["net_dma_per_kib"].contains("gain_ns"))
            r.gain = fixed(s["offload"]["net_dma_per_kib"]["gain_ns"], 1);
        if (s.contains("dma_mapping")) {
            const auto& m = s["dma_mapping"];
            r.iommu = m.at("iommu").get<std::string>() != "off";
            r.map_ns = fixed(m.at("cpu_ns_per_dma_op"), 1);
            r.walks = fixed(m.at("page_walks_per_dma_op"), 2);
        }
        r.ran = true;
    } catch (const std::exception&) {
        r.verdict = "crashed";  // the run died before writing a whole summary
    }
    return r;
}

// Copies by outcome as summary.json names them; removal latency to the OS's end
// of the removal and to the last device memory freed ("never": still held).
// With the IOMMU on in any run, what mapping cost: the CPU time of maps,
// unmaps and coherent allocations (IOTLB flushes included) and the unit's page
// walks, per DMA operation the clients submitted (summary.json dma_mapping).
std::vector<std::string> header(const std::vector<row>& rows) {
    std::vector<std::string> h = {"design", "failback", "verdict", "violations", "completed", "failed_back", "cpu",
                                  "lost", "in_flight_at_end", "removal latency (us)", "freed latency (us)",
                                  "GB/s before", "GB/s during", "GB/s after", "ref ns per DMA op",
                                  "other shared lines ns per DMA op", "net_dma gain ns per KiB"};
    if (std::any_of(rows.begin(), rows.end(), [](const row& r) { return r.iommu; }))
        h.insert(h.end(), {"mapping ns per DMA op", "page walks per DMA op"});
    return h;
}

std::vector<std::string> cells(const row& r, size_t n) {
    std::vector<std::string> c = {r.design, r.failback, r.verdict, r.violations, r.completed, r.failed_back, r.cpu,
                                  r.lost, r.in_flight, r.latency, r.freed, r.before, r.during, r.after, r.ref_ns,
                                  r.path_ns, r.gain, r.map_ns, r.walks};
    c.resize(n);
    return c;
}

std::string markdown(const std::vector<row>& rows) {
    const auto head = header(rows);
    std::ostringstream o;
    o << '|';
    for (const auto& h : head) o << ' ' << h << " |";
    o << "\n|";
    for (size_t i = 0; i < head.size(); ++i) o << (i < 4 ? "---|" : "---:|");
    o << '\n';
    for (const row& r : rows) {
        o << '|';
        for (auto& c : cells(r, head.size())) o << ' ' << c << " |";
        o << '\n';
    }
    return o.str();
}

std::string csv(const std::vector<row>& rows) {
    std::ostringstream o;
    auto field = [](const std::string& s) {
        return s.find_first_of(",\"") == std::string::npos ? s : "\"" + s + "\"";
    };
    const auto head = header(rows);
    for (size_t i = 0; i < head.size(); ++i) o << (i ? "," : "") << field(head[i]);
    o << '\n';
    for (const row& r : rows) {
        auto c = cells(r, head.size());
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
    for (const std::string& d : designs) fs::remove(dir / d / "summary.json", ec);  // a crash must not read an old one
    std::vector<child_run> runs;
    for (size_t i = 0; i < scs.size(); ++i) {
        child_run r{scs[i], {}, designs[i], (dir / designs[i] / "stdout.txt").string()};  // not between the table's lines
        r.options.out_dir = (dir / designs[i]).string();
        r.options.quiet = true;
        r.options.trace = opt.trace;
        runs.push_back(std::move(r));
    }
    run_in_children(runs, opt.jobs);

    std::vector<row> rows;
    for (const std::string& d : designs) rows.push_back(read_summary(d, dir / d / "summary.json"));
    std::string md = markdown(rows);
    write_whole((dir / "compare.csv").string(), csv(rows));
    write_whole((dir / "compare.md").string(), "# " + scs.front().name + "\n\n" + md);
    std::cout << md << "table: " << (dir / "compare.md").string() << ", " << (dir / "compare.csv").string() << '\n';
    // A design may fail only when it is expected to; none may crash.
    int status = 0;
    for (const row& r : rows) {
        bool allowed = std::count(opt.expect_fail.begin(), opt.expect_fail.end(), r.design) != 0;
        if (!r.ran) std::cout << r.design << ": the run did not finish (see " << (dir / r.design / "stdout.txt").string() << ")\n";
        else if (r.verdict != "pass" && !allowed) std::cout << r.design << ": failed, and is not in --expect-fail\n";
        else continue;
        status = 1;
    }
    return status;
}

}  // namespace ioatsim
