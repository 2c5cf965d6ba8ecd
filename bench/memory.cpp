// Peak memory against simulated time: runs a scenario (default
// ioh-remove-surprise) to a short and a long end, each in its own process, and
// prints each run's peak resident set and the ratio. Traces stream to disk, so
// a run ten times longer should need about the same memory. Asserts nothing.
//   usage: bench_memory [SCENARIO] [--short "10 ms"] [--long "100 ms"] [--set KEY=VALUE]...
// The default scenario, ioh-remove-surprise, keeps only its removal (its re-add
// at 30 ms would not fit the short run).
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct sample { long rss_kb; double wall_s; int status; };

sample run(const std::string& scenario, const std::string& until, const std::vector<std::string>& sets) {
    std::string out = "/tmp/bench-memory-" + std::to_string(getpid());
    std::string set = "run.until=" + until;
    pid_t pid = fork();
    if (pid == 0) {
        if (!std::freopen("/dev/null", "w", stdout)) _exit(127);
        std::vector<const char*> argv = {"ioatsim", "run", scenario.c_str(), "--quiet", "--out", out.c_str(),
                                         "--set", set.c_str()};
        for (const std::string& s : sets) {
            argv.push_back("--set");
            argv.push_back(s.c_str());
        }
        argv.push_back(nullptr);
        execv(IOATSIM_BINARY, const_cast<char* const*>(argv.data()));
        _exit(127);
    }
    int status = 0;
    rusage ru{};
    timespec t0{}, t1{};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    wait4(pid, &status, 0, &ru);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    std::string rm = "rm -rf " + out;
    if (std::system(rm.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", out.c_str());
    return {ru.ru_maxrss, double(t1.tv_sec - t0.tv_sec) + double(t1.tv_nsec - t0.tv_nsec) / 1e9,
            WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

}  // namespace

int main(int argc, char** argv) {
    std::string scenario = std::string(IOATSIM_SOURCE_DIR) + "/scenarios/ioh-remove-surprise.yaml";
    std::string shorter = "10 ms", longer = "100 ms";
    std::vector<std::string> sets;
    bool own = false;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--short") && i + 1 < argc) shorter = argv[++i];
        else if (!std::strcmp(argv[i], "--long") && i + 1 < argc) longer = argv[++i];
        else if (!std::strcmp(argv[i], "--set") && i + 1 < argc) sets.push_back(argv[++i]);
        else scenario = argv[i], own = true;
    }
    if (!own) sets.push_back("timeline=[{at: 2.2 ms, do: ioh.remove, ioh: 1, mode: surprise}]");
    sample a = run(scenario, shorter, sets), b = run(scenario, longer, sets);
    std::printf("scenario: %s\n", scenario.c_str());
    std::printf("run.until %-8s peak RSS %8ld KB  wall %6.2f s  exit %d\n", shorter.c_str(), a.rss_kb, a.wall_s, a.status);
    std::printf("run.until %-8s peak RSS %8ld KB  wall %6.2f s  exit %d\n", longer.c_str(), b.rss_kb, b.wall_s, b.status);
    std::printf("ratio of peaks: %.2f\n", a.rss_kb ? double(b.rss_kb) / double(a.rss_kb) : 0.0);
    return 0;
}
