// How much slower than real time the simulator runs: for each scenario, a run
// as `ioatsim run` does it (the full checker, data verification, the default
// hotplug trace) in a process of its own, its wall time, its simulated time
// and their ratio; and, in a process of its own too, the rate of a bare
// SystemC b_transport + wait loop, the floor any model pays per event.
//   usage: bench_realtime [SCENARIO...] [--design D]
#include "platform/runner.h"
#include "platform/scenario.h"
#include "bench/bare_loop.h"

#include <nlohmann/json.hpp>
#include <systemc>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

using clk = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

struct loop : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<loop> isock{"isock"};
    uint64_t n;
    double wall = 0;
    loop(sc_core::sc_module_name name, uint64_t n) : sc_module(name), n(n) {
        SC_HAS_PROCESS(loop);
        SC_THREAD(run);
    }
    void run() { wall = bench::bare_loop(isock, n); }
};

// Runs `fn` in a child; its stdout is what it printed.
template <class F> int in_child(F fn) {
    std::fflush(nullptr);
    pid_t pid = fork();
    if (pid == 0) {
        const int code = fn();
        std::fflush(nullptr);
        _exit(code);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 3;
}

}  // namespace

static const int banner_off = setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);

int sc_main(int argc, char** argv) {
    sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    std::vector<std::string> names;
    std::string design;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--design") && i + 1 < argc) design = argv[++i];
        else names.push_back(argv[i]);
    }
    if (names.empty()) names = {"default", "seed-unbind-warning", "ioh-remove-surprise", "removal-sweep"};

    in_child([] {
        const uint64_t n = 2'000'000;
        bench::bare_target t("t");
        loop l("l", n);
        l.isock.bind(t.tsock);
        sc_core::sc_start();
        std::printf("bare b_transport+wait loop  %12.0f iterations/wall-s\n", double(n) / l.wall);
        return 0;
    });
    std::printf("%-24s %10s %12s %10s  %s\n", "scenario", "wall (s)", "sim (ms)", "slowdown", "verdict");
    char tmpl[] = "/tmp/bench_realtime.XXXXXX";
    const std::string dir = mkdtemp(tmpl);
    for (const std::string& name : names) {
        const std::string path = name.find('/') != std::string::npos || name.find(".yaml") != std::string::npos
                                     ? name
                                     : std::string(IOATSIM_SOURCE_DIR) + "/scenarios/" + name + ".yaml";
        const std::string out = dir + "/" + fs::path(path).stem().string();
        auto t0 = clk::now();
        in_child([&] {
            if (!std::freopen("/dev/null", "w", stdout)) return 3;
            try {
                std::vector<std::string> sets;
                if (!design.empty()) sets.push_back("software.dmaengine.design=" + design);
                ioatsim::run_options ro;
                ro.out_dir = out;
                ro.quiet = true;
                return ioatsim::run_scenario(ioatsim::load_scenario(path, sets), ro).exit_code;
            } catch (const std::exception& e) {
                std::fprintf(stderr, "%s\n", e.what());
                return 2;
            }
        });
        const double wall = std::chrono::duration<double>(clk::now() - t0).count();
        try {
            const auto s = nlohmann::json::parse(ioatsim::read_whole(out + "/summary.json"));
            const double sim = double(s["sim_time_ps"].get<uint64_t>()) / 1e12;
            std::printf("%-24s %10.3f %12.3f %9.1fx  %s\n", fs::path(path).stem().c_str(), wall, sim * 1e3, wall / sim,
                        s["verdict"].get<std::string>().c_str());
        } catch (const std::exception&) {
            std::printf("%-24s %10.3f  (no summary)\n", fs::path(path).stem().c_str(), wall);
        }
    }
    fs::remove_all(dir);
    return 0;
}
