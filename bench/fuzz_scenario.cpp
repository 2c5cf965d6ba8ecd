// A longer campaign of the scenario loader fuzzer (tests/scenario_fuzzer.h): prints
// executions per second, how many loaded and how many were refused, the slowest
// input's time, and each finding (an exception other than input_error), whose
// input it also writes to fuzz-finding-N.yaml. A crash or hang leaves the input
// in the scratch file it names. Asserts nothing; exit status 1 when it found
// something.
//   usage: bench_fuzz_scenario [--executions N] [--seed S]
#include "tests/scenario_fuzzer.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

int main(int argc, char** argv) {
    long executions = 100000;
    uint64_t seed = 1;
    for (int i = 1; i < argc; ++i) {
        const bool more = i + 1 < argc;
        if (!std::strcmp(argv[i], "--executions") && more) executions = std::strtol(argv[++i], nullptr, 0);
        else if (!std::strcmp(argv[i], "--seed") && more) seed = std::strtoull(argv[++i], nullptr, 0);
        else {
            std::fprintf(stderr, "usage: bench_fuzz_scenario [--executions N] [--seed S]\n");
            return 2;
        }
    }
    const std::string scratch = "/tmp/ioatsim-fuzz-" + std::to_string(::getpid()) + ".yaml";
    ioatsim::fuzz::scenario_fuzzer f(seed, scratch);
    ioatsim::fuzz::stats st;
    std::printf("seed %llu, %zu seed scenarios, scratch %s\n", (unsigned long long)seed, f.seed_count(),
                scratch.c_str());
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    double slowest = 0;
    long slowest_at = -1;
    for (long i = 0; i < executions; ++i) {
        auto [text, sets] = f.next();
        const auto a = clock::now();
        f.execute(text, sets, st);
        const double s = std::chrono::duration<double>(clock::now() - a).count();
        if (s > slowest) {
            slowest = s;
            slowest_at = i;
        }
        if ((i + 1) % 20000 == 0) std::printf("  %ld executions, %zu findings\n", i + 1, st.findings.size());
    }
    const double wall = std::chrono::duration<double>(clock::now() - t0).count();
    std::remove(scratch.c_str());
    std::printf("executions %ld in %.1f s: %.0f per second; loaded %ld, refused %ld; slowest %.1f ms (execution "
                "%ld); findings %zu\n",
                st.executions, wall, double(st.executions) / wall, st.loaded, st.refused, slowest * 1e3, slowest_at,
                st.findings.size());
    for (size_t i = 0; i < st.findings.size(); ++i) {
        const std::string file = "fuzz-finding-" + std::to_string(i) + ".yaml";
        std::ofstream(file, std::ios::binary) << st.findings[i].input;
        std::string sets;
        for (const auto& s : st.findings[i].overrides) sets += " --set '" + s + "'";
        std::printf("finding %zu: %s (input: %s%s)\n", i, st.findings[i].what.c_str(), file.c_str(), sets.c_str());
    }
    return st.findings.empty() ? 0 : 1;
}
