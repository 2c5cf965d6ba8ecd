// IOH1 removed at 50 evenly spaced instants across one loaded run
// (scenarios/removal-sweep.yaml), alternately by surprise and orderly, each run in
// its own process: a safe design must come through every one with no violation,
// and 3.4 (legacy) must fail at most of them.
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <sys/wait.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace {

constexpr int INSTANTS = 50;

struct sweep {
    int failing = 0;                 // runs with at least one violation
    std::vector<std::string> broken; // runs that did not finish with a verdict
    std::vector<std::string> first_failures;
};

sweep run_sweep(const std::string& design) {
    sweep s;
    for (int i = 0; i < INSTANTS; ++i) {
        int at_us = 300 + i * 60;  // 0.30 ms .. 3.24 ms of a 4 ms run
        std::string mode = i % 2 ? "orderly" : "surprise";
        std::string out = "sweep-out/" + design + "/" + std::to_string(i);
        std::string cmd = std::string(IOATSIM_BINARY) + " run " + IOATSIM_SOURCE_DIR +
                          "/scenarios/removal-sweep.yaml --quiet --out " + out +
                          " --set software.dmaengine.design=" + design + " --set 'timeline=[{at: \"" +
                          std::to_string(at_us) + " us\", do: ioh.remove, ioh: 1, mode: " + mode + "}]' >/dev/null";
        int rc = std::system(cmd.c_str());
        std::string what = std::to_string(at_us) + " us " + mode;
        if (!WIFEXITED(rc) || WEXITSTATUS(rc) > 1) {
            s.broken.push_back(what);
            continue;
        }
        YAML::Node summary = YAML::LoadFile(out + "/summary.json");
        if (summary["violations"].as<int64_t>() > 0) {
            ++s.failing;
            if (s.first_failures.size() < 3) s.first_failures.push_back(what);
        }
    }
    return s;
}

void safe(const char* design) {
    sweep s = run_sweep(design);
    CAPTURE(s.first_failures);
    CHECK(s.broken.empty());
    CHECK(s.failing == 0);
}

}  // namespace

TEST_CASE("removal at 50 instants under atomic: no violation at any of them") { safe("atomic"); }
TEST_CASE("removal at 50 instants under percpu: no violation at any of them") { safe("percpu"); }
TEST_CASE("removal at 50 instants under percpu_ref: no violation at any of them") { safe("percpu_ref"); }
TEST_CASE("removal at 50 instants under client_callbacks: no violation at any of them") { safe("client_callbacks"); }

TEST_CASE("removal at 50 instants under legacy: it fails at most of them") {
    sweep s = run_sweep("legacy");
    CHECK(s.broken.empty());
    CHECK(s.failing > INSTANTS / 2);
    MESSAGE("legacy failed at " << s.failing << " of " << INSTANTS << " instants");
}
