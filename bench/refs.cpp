// What a channel reference costs under contention: N CPUs of the x3850 X5 share
// one channel, each taking and dropping a use around 1 us of copy work, under the
// atomic, percpu and percpu_ref designs. One process per point (SystemC
// elaborates once per process). Prints simulated ns per get+put pair and how
// much slower the same work ran than with no references; asserts nothing.
//   usage: bench_refs [--iterations N] [--set KEY=VALUE]...
#include "models/core/report.h"
#include "platform/params.h"
#include "platform/platform.h"
#include "platform/scenario.h"
#include "sw/dmaengine/dmaengine.h"
#include "sw/kernel/kernel.h"

#include <systemc>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace ioatsim;
using namespace ioatsim::sw;

namespace {

const ktime_t WORK = 1 * USEC;  // a 4 KiB copy at 5 GB/s, roughly

struct point { double ns_per_pair = 0, slowdown = 0; };

// N tasks on CPUs 0, 1, ... each doing `iters` of get, work, put on one channel.
point measure(const std::string& design, unsigned cpus, unsigned iters, const std::vector<std::string>& sets) {
    std::vector<std::string> s = sets;
    s.push_back("software.dmaengine.design=" + design);
    scenario sc = parse_scenario("name: refs\nplatform: {preset: x3850x5}\n", "bench_refs", s);
    params p = params::resolve(sc);
    platform plat(sc, p);
    kernel& k = *plat.kernel();
    dmaengine& dma = *plat.dma();
    dma_chan chan;
    chan.name = "bench";
    chan.ref.init(dma.mem(), [] {});
    chan.uses_pcpu.v.assign(k.nr_cpus(), 0);
    ktime_t end = 0;
    for (unsigned c = 0; c < cpus; ++c)
        k.kthread_run("user" + std::to_string(c), c, [&] {
            for (unsigned i = 0; i < iters; ++i) {
                dma.dma_chan_tryget(&chan);
                k.cost(WORK);
                dma.dma_put_channel(&chan);
            }
            end = std::max(end, k.now());
        });
    sc_core::sc_start();
    point r;
    r.ns_per_pair = double(dma.mem().charged()) / 1000.0 / (double(cpus) * iters);
    r.slowdown = double(end) / double(WORK * iters) - 1.0;
    return r;
}

}  // namespace

static const int banner_off = setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);

int sc_main(int argc, char** argv) {
    (void)banner_off;
    unsigned iters = 2000;
    std::vector<std::string> sets;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--iterations") && i + 1 < argc) iters = unsigned(std::atoi(argv[++i]));
        else if (!std::strcmp(argv[i], "--set") && i + 1 < argc) sets.push_back(argv[++i]);
        else {
            std::fprintf(stderr, "usage: bench_refs [--iterations N] [--set KEY=VALUE]...\n");
            return 2;
        }
    }
    const char* designs[] = {"atomic", "percpu", "percpu_ref"};
    const unsigned counts[] = {1, 2, 4, 8, 16, 32};
    std::printf("CPUs sharing one channel; ns of reference handling per get+put pair (slowdown of 1 us of work)\n");
    std::printf("%-6s", "CPUs");
    for (const char* d : designs) std::printf(" %22s", d);
    std::printf("\n");
    for (unsigned n : counts) {
        std::printf("%-6u", n);
        for (const char* d : designs) {
            int fd[2];
            if (pipe(fd) != 0) return 1;
            pid_t pid = fork();
            if (pid == 0) {
                close(fd[0]);
                point r = measure(d, n, iters, sets);
                if (write(fd[1], &r, sizeof r) != sizeof r) _exit(1);
                _exit(0);
            }
            close(fd[1]);
            point r;
            bool ok = read(fd[0], &r, sizeof r) == sizeof r;
            close(fd[0]);
            waitpid(pid, nullptr, 0);
            if (ok) std::printf(" %11.1f ns (%5.1f%%)", r.ns_per_pair, 100.0 * r.slowdown);
            else std::printf(" %22s", "failed");
            std::fflush(stdout);
        }
        std::printf("\n");
    }
    return 0;
}
