// Points per wall-second of `ioatsim sweep` on the campaign:
// removal-sweep.yaml (1.8 s of simulated time per point), 5 designs x 20
// values of coherence.atomic_one_hop, traces off, -j the number of cores
// (target: the 100 points in under 60 s on 2 cores). Prints the campaign's wall
// time, points per wall-second, and the mean and slowest point by design.
// The default designs leave percpu_ref out: one removal-sweep run of it takes
// about a minute by itself (its gate cannot be killed while net_dma readers
// spin, and every spin of the 1.6 s is simulated); --designs puts it back.
//
//   bench_sweep [--values N] [--jobs N] [--designs A,B,...] [--scenario FILE] [--keep DIR]
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

namespace fs = std::filesystem;

int main(int argc, char** argv) {
    std::string values = "20", designs = "legacy,atomic,percpu,client_callbacks,mainline", keep;
    std::string scenario = std::string(IOATSIM_SOURCE_DIR) + "/scenarios/removal-sweep.yaml";
    unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i], v = argv[i + 1];
        if (a == "--values") values = v;
        else if (a == "--jobs") jobs = unsigned(std::stoul(v));
        else if (a == "--designs") designs = v;
        else if (a == "--scenario") scenario = v;
        else if (a == "--keep") keep = v;
        else {
            std::cerr << "usage: bench_sweep [--values N] [--jobs N] [--designs A,B,...] [--scenario FILE] [--keep DIR]\n";
            return 2;
        }
    }
    char tmpl[] = "/tmp/ioatsim-bench-sweep-XXXXXX";
    const fs::path out = keep.empty() ? fs::path(mkdtemp(tmpl)) / "sweep" : fs::path(keep);
    fs::create_directories(out.parent_path());
    const std::string cmd = std::string(IOATSIM_BINARY) + " sweep " + scenario + " --designs " + designs +
                            " --axis coherence.atomic_one_hop=50ns..2000ns:" + values + " -j " + std::to_string(jobs) +
                            " --out " + out.string() + " >" + (out.parent_path() / "sweep.log").string() + " 2>&1";
    const auto t0 = std::chrono::steady_clock::now();
    const int rc = std::system(cmd.c_str());
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!WIFEXITED(rc) || WEXITSTATUS(rc) > 1) {
        std::cerr << "bench_sweep: the sweep failed; see " << (out.parent_path() / "sweep.log").string() << '\n';
        return 3;
    }

    // The points' own wall times, by design, from results.jsonl.
    std::ifstream in(out / "results.jsonl");
    std::map<std::string, std::pair<double, double>> by_design;  // sum, max
    std::map<std::string, size_t> count, verdicts;
    size_t points = 0;
    double sum = 0;
    for (std::string line; std::getline(in, line);) {
        const nlohmann::json j = nlohmann::json::parse(line);
        const std::string d = j["axes"]["design"].get<std::string>();
        const double w = j["point_wall_time_s"].is_number() ? j["point_wall_time_s"].get<double>() : 0;
        by_design[d].first += w;
        by_design[d].second = std::max(by_design[d].second, w);
        ++count[d];
        ++verdicts[j["verdict"].get<std::string>()];
        sum += w;
        ++points;
    }
    std::printf("sweep of %s: %zu points (%s values of coherence.atomic_one_hop x designs %s), -j %u\n",
                fs::path(scenario).filename().c_str(), points, values.c_str(), designs.c_str(), jobs);
    std::printf("wall time: %.1f s, %.2f points per wall-second (target: 100 points in under 60 s on 2 cores)\n", wall,
                points / wall);
    std::printf("point wall time: mean %.2f s, total %.1f s of process time (%.0f%% of %u x wall)\n",
                points ? sum / double(points) : 0.0, sum, 100 * sum / (wall * jobs), jobs);
    for (auto& [d, sm] : by_design)
        std::printf("  %-17s mean %.2f s, slowest %.2f s\n", d.c_str(), sm.first / double(count[d]), sm.second);
    std::printf("verdicts:");
    for (auto& [v, n] : verdicts) std::printf(" %s %zu", v.c_str(), n);
    std::printf("\n");
    if (keep.empty()) fs::remove_all(out.parent_path());
    return 0;
}
