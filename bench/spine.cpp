// Wall-clock speed of the spine: descriptors per wall-second for dmatest through
// the full stack, against a bare SystemC loop of one b_transport and one wait per
// iteration measured in the same process. Prints figures; asserts nothing.
//   usage: bench_spine [SCENARIO] [--iterations N]
#include "models/core/report.h"
#include "models/ioat/ioat_function.h"
#include "platform/params.h"
#include "platform/platform.h"
#include "platform/scenario.h"
#include "sw/kernel/kernel.h"
#include "bench/bare_loop.h"

#include <systemc>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <unistd.h>
#include <functional>

using clk = std::chrono::steady_clock;

namespace {

// Runs the bare loop first, then boots the platform's software and times it.
struct driver : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<driver> isock{"isock"};
    uint64_t loops;
    double bare_s = 0;
    clk::time_point sw_start;
    std::function<void()> boot;
    driver(sc_core::sc_module_name n, uint64_t loops) : sc_module(n), loops(loops) {
        SC_HAS_PROCESS(driver);
        SC_THREAD(run);
    }
    void run() {
        bare_s = bench::bare_loop(isock, loops);
        sw_start = clk::now();
        boot();
    }
};

}  // namespace

// SystemC prints its banner before sc_main runs; only the environment stops it.
static const int banner_off = setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);

int sc_main(int argc, char** argv) {
    sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    std::string path = std::string(IOATSIM_SOURCE_DIR) + "/scenarios/default.yaml";
    std::string iterations = "20000";
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--iterations") && i + 1 < argc) iterations = argv[++i];
        else path = argv[i];
    }
    try {
        ioatsim::scenario sc = ioatsim::load_scenario(
            path, {"software.clients.dmatest.iterations=" + iterations, "run.until=1000 s"});
        ioatsim::params p = ioatsim::params::resolve(sc);
        ioatsim::platform plat(sc, p);
        const uint64_t loops = 2'000'000;
        bench::bare_target tgt("bare_target");
        driver drv("bare_driver", loops);
        drv.isock.bind(tgt.tsock);
        drv.boot = [&] { plat.boot(); };
        plat.kernel()->set_idle_callback([] { sc_core::sc_stop(); });
        // The trace streams at the default level, as a run's does (kept in
        // memory it would grow without bound and cost what a run never pays).
        char dir[] = "/tmp/bench_spine.XXXXXX";
        if (!mkdtemp(dir)) return 1;
        std::string hotplug = std::string(dir) + "/hotplug.jsonl";
        ioatsim::sim_report().open_traces(ioatsim::trace_level::hotplug, hotplug, "");
        sc_core::sc_start();
        ioatsim::sim_report().close_traces(false);
        rmdir(dir);
        double sw_s = std::chrono::duration<double>(clk::now() - drv.sw_start).count();
        uint64_t descs = 0;
        for (unsigned i = 0; i < plat.ioat_count(); ++i) descs += plat.ioat(i).chan(0).descriptors_done();
        double bare_rate = double(loops) / drv.bare_s;
        double desc_rate = double(descs) / sw_s;
        std::printf("scenario                     %s (dmatest iterations %s)\n", sc.name.c_str(), iterations.c_str());
        std::printf("bare b_transport+wait loop   %12.0f iterations/wall-s  (%llu in %.3f s)\n", bare_rate,
                    (unsigned long long)loops, drv.bare_s);
        std::printf("dmatest through the stack    %12.0f descriptors/wall-s (%llu in %.3f s)\n", desc_rate,
                    (unsigned long long)descs, sw_s);
        std::printf("ratio                        %12.1f bare iterations per descriptor\n", bare_rate / desc_rate);
        std::printf("simulated time               %12.3f ms\n", sc_core::sc_time_stamp().to_seconds() * 1e3);
    } catch (const ioatsim::input_error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 2;
    }
    return 0;
}
