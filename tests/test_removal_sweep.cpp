// IOH1 removed at 50 evenly spaced instants across one loaded run
// (scenarios/removal-sweep.yaml), alternately by surprise and orderly, each run in
// its own process: a safe design must pass every one (no violation, the removal
// finished inside the run), and 3.4 (legacy) must fail at most of them.
#include "cli.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace cli;

namespace {

constexpr int INSTANTS = 50;

struct sweep {
    int failing = 0;                 // runs whose verdict is fail
    std::vector<std::string> broken; // runs that did not finish with a verdict
    std::vector<std::string> first_failures;
};

sweep run_sweep(const std::string& design) {
    sweep s;
    tmpdir t;
    for (int i = 0; i < INSTANTS; ++i) {
        int at_us = 300 + i * 45;  // 0.30 ms .. 2.51 ms of a 4 ms run: the slowest removal (1.2 ms) ends inside it
        std::string mode = i % 2 ? "orderly" : "surprise";
        result r = ioatsim("run " + scenario("removal-sweep.yaml") + " --quiet --out " + (t.path / "o").string() +
                               " --set software.dmaengine.design=" + design + " --set 'timeline=[{at: \"" +
                               std::to_string(at_us) + " us\", do: ioh.remove, ioh: 1, mode: " + mode + "}]'",
                           t);
        std::string what = std::to_string(at_us) + " us " + mode;
        if (r.status != 0 && r.status != 1) {
            s.broken.push_back(what);
            continue;
        }
        if (r.status == 1) {
            ++s.failing;
            if (s.first_failures.size() < 3) s.first_failures.push_back(what);
        }
    }
    return s;
}

void safe(const char* design) {
    sweep s = run_sweep(design);
    INFO(join(s.first_failures));
    CHECK(s.broken.empty());
    CHECK(s.failing == 0);
}

}  // namespace

TEST_CASE("removal at 50 instants under atomic: every run passes") { safe("atomic"); }
TEST_CASE("removal at 50 instants under percpu: every run passes") { safe("percpu"); }
TEST_CASE("removal at 50 instants under percpu_ref: every run passes") { safe("percpu_ref"); }
TEST_CASE("removal at 50 instants under client_callbacks: every run passes") { safe("client_callbacks"); }

TEST_CASE("removal at 50 instants under legacy: it fails at most of them") {
    sweep s = run_sweep("legacy");
    CHECK(s.broken.empty());
    CHECK(s.failing > INSTANTS / 2);
    MESSAGE("legacy failed at " << s.failing << " of " << INSTANTS << " instants");
}
