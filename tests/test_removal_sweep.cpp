// IOH1 removed at 25 evenly spaced instants across one loaded run
// (scenarios/removal-sweep.yaml), alternately by surprise and orderly, each run in
// its own process: a design with fail-back must pass every one (no violation,
// the removal finished inside the run), and 3.4 (legacy) must fail at most of
// them.
#include "cli.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace cli;

namespace {

constexpr int INSTANTS = 25;

struct sweep {
    int failing = 0;                 // runs whose verdict is fail
    std::vector<std::string> broken; // runs that did not finish with a verdict
    std::vector<std::string> first_failures;
};

// `until`: the run's length, when not the scenario's.
sweep run_sweep(const std::string& design, bool failback, const std::string& until = "") {
    sweep s;
    tmpdir t;
    for (int i = 0; i < INSTANTS; ++i) {
        int at_us = 300 + i * 180;  // 0.30 ms .. 4.62 ms, while the load runs
        std::string mode = i % 2 ? "orderly" : "surprise";
        result r = ioatsim("run " + scenario("removal-sweep.yaml") + " --quiet --out " + (t.path / "o").string() +
                               " --set software.dmaengine.design=" + design +
                               " --set software.dmaengine.failback=" + (failback ? "true" : "false") +
                               (until.empty() ? "" : " --set 'run.until=" + until + "'") +
                               " --set 'timeline=[{at: \"" +
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
    sweep s = run_sweep(design, true);
    INFO(join(s.first_failures));
    CHECK(s.broken.empty());
    CHECK(s.failing == 0);
}

}  // namespace

TEST_CASE("removal at 25 instants under atomic with fail-back: every run passes") { safe("atomic"); }
TEST_CASE("removal at 25 instants under percpu with fail-back: every run passes") { safe("percpu"); }
TEST_CASE("removal at 25 instants under client_callbacks with fail-back: every run passes") { safe("client_callbacks"); }
TEST_CASE("removal at 25 instants under prep_null with fail-back: every run passes") { safe("prep_null"); }

TEST_CASE("removal at 25 instants under legacy: it fails at most of them") {
    // 20 ms is enough to see 3.4 fail; a shorter run can only fail less. The
    // full run would spend its 1.8 s simulating readers that spin for ever.
    sweep s = run_sweep("legacy", false, "20 ms");
    CHECK(s.broken.empty());
    CHECK(s.failing > INSTANTS / 2);
    MESSAGE("legacy failed at " << s.failing << " of " << INSTANTS << " instants");
}
