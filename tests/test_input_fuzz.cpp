// The scenario loader under seeded mutation (tests/scenario_fuzzer.h): every
// mutated scenario loads or is an input error; nothing else, no crash, no hang.
// Bounded here; bench/fuzz_scenario runs it longer.
#include "scenario_fuzzer.h"

#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <string>

namespace {

void campaign(uint64_t seed, long executions) {
    const std::string scratch = "/tmp/ioatsim-fuzz-" + std::to_string(::getpid()) + ".yaml";
    ioatsim::fuzz::scenario_fuzzer f(seed, scratch);
    ioatsim::fuzz::stats st;
    f.run(executions, st);
    std::remove(scratch.c_str());
    MESSAGE(st.executions << " executions from " << f.seed_count() << " scenarios: " << st.loaded << " loaded, "
                          << st.refused << " refused, " << st.findings.size() << " findings");
    for (const auto& x : st.findings) {
        std::string sets;
        for (const auto& s : x.overrides) sets += " --set '" + s + "'";
        FAIL_CHECK(x.what << "\n--- input" << sets << " ---\n" << x.input.substr(0, 4000));
    }
    CHECK(st.executions == executions);
    CHECK(f.seed_count() >= 10);
    // Both ways out were taken, or the fuzz proved nothing.
    CHECK(st.loaded > executions / 20);
    CHECK(st.refused > executions / 5);
}

}  // namespace

TEST_CASE("fuzz: mutated scenarios load or are input errors (seed 1)") { campaign(1, 2500); }

TEST_CASE("fuzz: mutated scenarios load or are input errors (seed 0x5CE7A210)") { campaign(0x5CE7A210, 2500); }
