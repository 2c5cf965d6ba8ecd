// Scenario parsing: every field, every kind of error with its position, --set overrides.
#include "platform/scenario.h"

#include <doctest/doctest.h>

using namespace ioatsim;

namespace {

scenario parse(const std::string& text, const std::vector<std::string>& overrides = {}) {
    return parse_scenario(text, "t.yaml", overrides);
}

// The input_error message, or "" when the text parses.
std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
    try {
        parse(text, overrides);
    } catch (const input_error& e) {
        return e.what();
    }
    return "";
}

const char* const full = R"(name: full
description: every field set
platform:
  preset: two-ioh
  set:
    ioat.xfercap: 12
    ioat:
      channels: 4
      dca: {enabled: true}
software:
  os: none
  dmaengine:
    design: legacy
  clients:
    dmatest:
      enabled: false
      threads_per_chan: 2
      iterations: 10
      test_buf_size: 4096
      max_channels: 3
      timeout: 500 ms
      seed: 7
run:
  until: 2 ms
  seed: 42
  quantum: 250 ns
timeline:
  - {at: 1 ms, do: pci.unbind, bdf: "0000:00:04.0"}
  - {at: 150 us, do: cpu.offline, cpu: 1}
expect:
  dmatest.failures: 0
  dmatest.completed: {min: 10}
  log_contains: ["dmatest: .* done", "unbound"]
  log_not_contains: [BUG]
)";

}  // namespace

TEST_CASE("a full scenario is parsed into every field") {
    const scenario s = parse(full);
    CHECK(s.file == "t.yaml");
    CHECK(s.name == "full");
    CHECK(s.description == "every field set");
    CHECK(s.preset == "two-ioh");
    REQUIRE(s.platform_set.size() == 3);
    CHECK(s.platform_set[0].key == "ioat.xfercap");
    CHECK(s.platform_set[0].value == "12");
    CHECK(s.platform_set[0].pos.str() == "t.yaml:6:5");
    CHECK(s.platform_set[1].key == "ioat.channels");
    CHECK(s.platform_set[1].value == "4");
    CHECK(s.platform_set[2].key == "ioat.dca.enabled");
    CHECK(s.platform_set[2].value == "true");
    CHECK(s.os == "none");
    CHECK(s.dmaengine.design == sw::dma_design::legacy);
    CHECK_FALSE(s.dmatest.enabled);
    CHECK(s.dmatest.threads_per_chan == 2);
    CHECK(s.dmatest.iterations == 10);
    CHECK(s.dmatest.test_buf_size == 4096);
    CHECK(s.dmatest.max_channels == 3);
    CHECK(s.dmatest.timeout == 500'000'000'000ull);
    CHECK(s.dmatest.seed == 7);
    CHECK(s.until_ps == 2'000'000'000ull);
    CHECK(s.seed == 42);
    CHECK(s.quantum_ps == 250'000);
    REQUIRE(s.timeline.size() == 2);
    CHECK(s.timeline[0].action == "cpu.offline");
    CHECK(s.timeline[0].at_ps == 150'000'000);
    CHECK(s.timeline[0].args["cpu"].as<int>() == 1);
    CHECK(s.timeline[0].pos.str() == "t.yaml:29:5");
    CHECK(s.timeline[1].action == "pci.unbind");
    CHECK(s.timeline[1].args["bdf"].as<std::string>() == "0000:00:04.0");
    REQUIRE(s.expect.values.size() == 2);
    CHECK(s.expect.values[0].path == "dmatest.failures");
    CHECK(s.expect.values[0].min == 0);
    CHECK(s.expect.values[0].max == 0);
    CHECK(s.expect.values[0].pos.str() == "t.yaml:31:3");
    CHECK(s.expect.values[1].path == "dmatest.completed");
    REQUIRE(s.expect.log_contains.size() == 2);
    CHECK(s.expect.log_contains[0].pattern == "dmatest: .* done");
    CHECK(s.expect.log_contains[1].pos.str() == "t.yaml:33:38");
    REQUIRE(s.expect.log_not_contains.size() == 1);
    CHECK(s.expect.log_not_contains[0].pattern == "BUG");
    CHECK_FALSE(s.expect.empty());
}

TEST_CASE("a minimal scenario keeps the defaults") {
    const scenario s = parse("name: m\n");
    CHECK(s.preset == "minimal");
    CHECK(s.os == "linux");
    CHECK(s.dmaengine.design == sw::dma_design::legacy);
    CHECK_FALSE(s.dmatest.enabled);
    CHECK(s.until_ps == 10'000'000'000ull);
    CHECK(s.seed == 1);
    CHECK(s.quantum_ps == 1'000'000);
    CHECK(s.timeline.empty());
    CHECK(s.expect.empty());
}

TEST_CASE("a dmatest section enables dmatest unless it says otherwise") {
    CHECK(parse("name: m\nsoftware: {clients: {dmatest: {iterations: 1}}}\n").dmatest.enabled);
    CHECK(parse("name: m\nsoftware:\n  clients:\n    dmatest:\n").dmatest.enabled);
    CHECK_FALSE(parse("name: m\nsoftware: {clients: {}}\n").dmatest.enabled);
}

TEST_CASE("an unknown key names its line, column and the known keys") {
    CHECK(error_of("name: x\nrun:\n  untill: 2 ms\n") ==
          "t.yaml:3:3: unknown key \"untill\" in run (known: until, seed, quantum)");
    CHECK(error_of("name: x\nnmae: y\n") ==
          "t.yaml:2:1: unknown key \"nmae\" at top level (known: name, description, platform, "
          "software, run, timeline, expect)");
    CHECK(error_of("name: x\nsoftware:\n  clients:\n    iperf: {}\n") ==
          "t.yaml:4:5: unknown key \"iperf\" in software.clients (known: dmatest, net_dma, async_tx)");
}

TEST_CASE("a bad time names its line and the reason") {
    CHECK(error_of("name: x\nrun:\n  until: 2 parsecs\n") ==
          "t.yaml:3:10: run.until: bad time \"2 parsecs\": unknown unit \"parsecs\"");
    CHECK(error_of("name: x\nrun: {quantum: 0 ns}\n") == "t.yaml:2:16: run.quantum: must be greater than 0");
    CHECK(error_of("name: x\ntimeline:\n  - {at: 5, do: x}\n") ==
          "t.yaml:3:10: timeline[0].at: bad time \"5\": missing unit (ps, ns, us, ms, s)");
}

TEST_CASE("a value of the wrong type names its line") {
    CHECK(error_of("name: x\nsoftware:\n  clients:\n    dmatest:\n      iterations: ten\n") ==
          "t.yaml:5:19: software.clients.dmatest.iterations: expected an integer, got \"ten\"");
    CHECK(error_of("name: {a: 1}\n") == "t.yaml:1:7: name: expected a string, got a map");
    CHECK(error_of("name: x\nrun: [1]\n") == "t.yaml:2:6: run: expected a map, got a list");
    CHECK(error_of("name: x\nrun:\n  seed:\n") == "t.yaml:3:3: run.seed: expected an integer, got nothing");
    CHECK(error_of("name: x\nsoftware: {clients: {dmatest: {enabled: maybe}}}\n") ==
          "t.yaml:2:41: software.clients.dmatest.enabled: expected true or false, got \"maybe\"");
    CHECK(error_of("name: x\nsoftware: {os: windows}\n") ==
          "t.yaml:2:16: software.os: expected one of linux, none, got \"windows\"");
    CHECK(error_of("name: x\nsoftware: {dmaengine: {design: fancy}}\n") ==
          "t.yaml:2:32: software.dmaengine.design: expected one of legacy, atomic, percpu, percpu_ref, client_callbacks, got \"fancy\"");
}

TEST_CASE("integers reject fractions, booleans and out-of-range values") {
    const std::string pre = "name: x\nrun:\n  seed: ";
    CHECK(error_of(pre + "1.5\n") == "t.yaml:3:9: run.seed: expected an integer, got \"1.5\"");
    CHECK(error_of(pre + "true\n") == "t.yaml:3:9: run.seed: expected an integer, got \"true\"");
    CHECK(error_of(pre + "-1\n") == "t.yaml:3:9: run.seed: -1 is out of range (must be >= 0)");
    CHECK(error_of(pre + "99999999999999999999\n") ==
          "t.yaml:3:9: run.seed: 99999999999999999999 is out of range (must be <= 9223372036854775807)");
    CHECK(error_of("name: x\nsoftware: {clients: {dmatest: {test_buf_size: 16777217}}}\n") ==
          "t.yaml:2:47: software.clients.dmatest.test_buf_size: 16777217 is out of range "
          "(must be <= 16777216)");
    CHECK(error_of("name: x\nsoftware: {clients: {dmatest: {threads_per_chan: 0}}}\n").find(
              "threads_per_chan: 0 is out of range (must be >= 1)") != std::string::npos);
    CHECK(parse(pre + "+5\n").seed == 5);
}

TEST_CASE("a missing or empty name is rejected") {
    CHECK(error_of("description: no name\n") == "t.yaml:1:1: missing required key \"name\"");
    CHECK(error_of("") == "t.yaml: missing required key \"name\"");
    CHECK(error_of("name: \"\"\n") == "t.yaml:1:7: name: must not be empty");
    CHECK(error_of("- a\n- b\n") == "t.yaml:1:1: a scenario must be a map, got a list");
}

TEST_CASE("a duplicate key is an error at its second occurrence") {
    CHECK(error_of("name: x\nrun:\n  seed: 1\n  seed: 2\n") ==
          "t.yaml:4:3: duplicate key \"seed\" (first at line 3)");
    CHECK(error_of("name: x\ntimeline:\n  - {at: 1 us, do: a, cpu: 1, cpu: 2}\n") ==
          "t.yaml:3:31: duplicate key \"cpu\" (first at line 3)");
    CHECK(error_of("name: x\nplatform:\n  set:\n    ioat.xfercap: 1\n    ioat: {xfercap: 2}\n") ==
          "t.yaml:5:12: duplicate key \"ioat.xfercap\" in platform.set");
}

TEST_CASE("a YAML syntax error is reported at its position") {
    CHECK(error_of("name: x\nrun: {until: 2 ms\nseed: 1\n") ==
          "t.yaml:3:5: end of map flow not found");
    CHECK(error_of("name: [a\n").rfind("t.yaml:", 0) == 0);
}

TEST_CASE("a platform.set value must be a scalar") {
    CHECK(error_of("name: x\nplatform:\n  set:\n    ioat.xfercap: [1, 2]\n") ==
          "t.yaml:4:19: platform.set.ioat.xfercap: expected a value, got a list");
}

TEST_CASE("--set overrides an existing value") {
    const scenario s = parse("name: x\nrun:\n  until: 1 ms\n  seed: 3\n", {"run.until=2 ms", "name=y"});
    CHECK(s.until_ps == 2'000'000'000ull);
    CHECK(s.seed == 3);
    CHECK(s.name == "y");
    CHECK(to_yaml(s.effective) == "name: y\nrun:\n  until: 2 ms\n  seed: 3\n");
}

TEST_CASE("--set creates missing keys and sections") {
    const scenario s = parse("name: x\nrun:\n", {"software.clients.dmatest.iterations=5", "run.seed=9"});
    CHECK(s.dmatest.enabled);
    CHECK(s.dmatest.iterations == 5);
    CHECK(s.seed == 9);
    CHECK(to_yaml(s.effective) ==
          "name: x\nrun:\n  seed: 9\nsoftware:\n  clients:\n    dmatest:\n      iterations: 5\n");
}

TEST_CASE("--set under platform.set takes the rest of the path as one dotted key") {
    const scenario s = parse("name: x\nplatform:\n  set:\n    ioat:\n      xfercap: 10\n      channels: 2\n",
                             {"platform.set.ioat.xfercap=12", "platform.set.cpu.count=4"});
    REQUIRE(s.platform_set.size() == 3);
    CHECK(s.platform_set[0].key == "ioat.channels");
    CHECK(s.platform_set[1].key == "ioat.xfercap");
    CHECK(s.platform_set[1].value == "12");
    CHECK(s.platform_set[1].pos.str() == "--set platform.set.ioat.xfercap=12");
    CHECK(s.platform_set[2].key == "cpu.count");
    CHECK(s.platform_set[2].value == "4");
}

TEST_CASE("--set of a dotted platform.set key replaces it in place") {
    const scenario s = parse("name: x\nplatform:\n  set:\n    a.b: 1\n    c: 2\n", {"platform.set.a.b=3"});
    REQUIRE(s.platform_set.size() == 2);
    CHECK(s.platform_set[0].key == "a.b");
    CHECK(s.platform_set[0].value == "3");
    CHECK(s.platform_set[1].key == "c");
}

TEST_CASE("--set under expect names one path") {
    const scenario s = parse("name: x\n", {"expect.dmatest.failures=0", "expect.dmatest.completed={min: 3}"});
    REQUIRE(s.expect.values.size() == 2);
    CHECK(s.expect.values[0].path == "dmatest.failures");
    CHECK(s.expect.values[0].min == 0);
    CHECK(s.expect.values[0].max == 0);
    CHECK(s.expect.values[0].pos.str() == "--set expect.dmatest.failures=0");
    CHECK(s.expect.values[1].path == "dmatest.completed");
    CHECK(s.expect.values[1].has_min);
    CHECK(s.expect.values[1].min == 3);
    CHECK_FALSE(s.expect.values[1].has_max);
}

TEST_CASE("--set indexes into a list by number") {
    const char* text = "name: x\ntimeline:\n  - {at: 1 us, do: a}\n  - {at: 2 us, do: b}\n";
    const scenario s = parse(text, {"timeline.0.at=3 us"});
    REQUIRE(s.timeline.size() == 2);
    CHECK(s.timeline[0].action == "b");
    CHECK(s.timeline[1].action == "a");
    CHECK(s.timeline[1].at_ps == 3'000'000);
    CHECK(error_of(text, {"timeline.2.at=1 us"}) ==
          "--set timeline.2.at=1 us: timeline has no entry \"2\" (2 entries)");
}

TEST_CASE("an error in a --set value points at the override") {
    CHECK(error_of("name: x\nrun:\n  until: 1 ms\n", {"run.until=2 parsecs"}) ==
          "--set run.until=2 parsecs: run.until: bad time \"2 parsecs\": unknown unit \"parsecs\"");
    CHECK(error_of("name: x\n", {"run.untill=2 ms"}) ==
          "--set run.untill=2 ms: unknown key \"untill\" in run (known: until, seed, quantum)");
    CHECK(error_of("name: x\n", {"expect.c={min: a}"}) ==
          "--set expect.c={min: a}: expect.c.min: expected a number, got \"a\"");
    CHECK(error_of("name: x\n", {"run.seed=[1"}).rfind("--set run.seed=[1: bad value: ", 0) == 0);
    CHECK(error_of("name: x\n", {"name.first=a"}) == "--set name.first=a: name is not a map");
}

TEST_CASE("a malformed --set is rejected by name") {
    CHECK(error_of("name: x\n", {"run.seed"}) == "--set run.seed: expected KEY=VALUE");
    CHECK(error_of("name: x\n", {"=5"}) == "--set =5: empty key");
    CHECK(error_of("name: x\n", {"run..seed=5"}) == "--set run..seed=5: empty key component");
}

TEST_CASE("parse_time_ps accepts a number and a unit") {
    CHECK(parse_time_ps("25us") == 25'000'000);
    CHECK(parse_time_ps("25 us") == 25'000'000);
    CHECK(parse_time_ps("1.5 ms") == 1'500'000'000);
    CHECK(parse_time_ps("20 ps") == 20);
    CHECK(parse_time_ps("100 ns") == 100'000);
    CHECK(parse_time_ps("3 s") == 3'000'000'000'000ull);
    CHECK(parse_time_ps("0.001 ns") == 1);
    CHECK(parse_time_ps("2.000 ps") == 2);  // trailing zeros add no precision
    CHECK_THROWS_AS(parse_time_ps("2.500 ps"), std::invalid_argument);
}

TEST_CASE("parse_time_ps rejects malformed times") {
    CHECK_THROWS_WITH_AS(parse_time_ps("5"), "missing unit (ps, ns, us, ms, s)", std::invalid_argument);
    CHECK_THROWS_WITH_AS(parse_time_ps("5 parsecs"), "unknown unit \"parsecs\"", std::invalid_argument);
    CHECK_THROWS_WITH_AS(parse_time_ps("-1 ms"), "negative time", std::invalid_argument);
    CHECK_THROWS_WITH_AS(parse_time_ps("1.5 ps"), "not a whole number of picoseconds", std::invalid_argument);
    CHECK_THROWS_WITH_AS(parse_time_ps("20000000 s"), "too large", std::invalid_argument);
    CHECK_THROWS_AS(parse_time_ps("ms"), std::invalid_argument);
    CHECK_THROWS_AS(parse_time_ps(""), std::invalid_argument);
    CHECK_THROWS_AS(parse_time_ps("1e3 ms"), std::invalid_argument);
    CHECK(parse_time_ps("18446744073709551615 ps") == UINT64_MAX);
    CHECK_THROWS_AS(parse_time_ps("18446744073709551616 ps"), std::invalid_argument);
}

TEST_CASE("expect values are an exact number, true or false, or a {min, max} range") {
    const scenario s = parse("name: x\nexpect:\n  a: 5\n  b: {min: 1, max: 9.5}\n  c: {max: -2}\n  d.e: true\n"
                             "  f: 9007199254740993\n");
    REQUIRE(s.expect.values.size() == 5);
    CHECK(s.expect.values[0].min == 5);
    CHECK(s.expect.values[0].max == 5);
    CHECK(s.expect.values[1].min == 1);
    CHECK(s.expect.values[1].max == 9.5L);
    CHECK_FALSE(s.expect.values[2].has_min);
    CHECK(s.expect.values[2].max == -2);
    CHECK(s.expect.values[3].path == "d.e");
    CHECK(s.expect.values[3].is_bool);
    CHECK(s.expect.values[3].want);
    CHECK(s.expect.values[4].min == 9007199254740993.0L);  // past a double's 53 bits, still exact
    CHECK(error_of("name: x\nexpect:\n  a: 1e99999\n") == "t.yaml:3:6: expect.a: expected a number, got \"1e99999\"");
    CHECK(error_of("name: x\nexpect:\n  a: nan\n") == "t.yaml:3:6: expect.a: expected a number, got \"nan\"");
    CHECK(error_of("name: x\nexpect:\n  a: {}\n") == "t.yaml:3:6: expect.a: expected min and/or max");
    CHECK(error_of("name: x\nexpect:\n  a: {min: 3, max: 2}\n") == "t.yaml:3:6: expect.a: min 3 > max 2");
    CHECK(error_of("name: x\nexpect:\n  a: {mn: 3}\n") ==
          "t.yaml:3:7: unknown key \"mn\" in expect.a (known: min, max)");
    CHECK(error_of("name: x\nexpect:\n  a: [1]\n") ==
          "t.yaml:3:6: expect.a: expected a number, true/false or a map {min, max}, got a list");
}

TEST_CASE("an invalid log pattern is an error at its position") {
    const std::string e = error_of("name: x\nexpect:\n  log_not_contains:\n    - ok\n    - \"a(b\"\n");
    CHECK(e.rfind("t.yaml:5:7: expect.log_not_contains[1]: invalid regular expression \"a(b\": ", 0) == 0);
    CHECK(error_of("name: x\nexpect:\n  log_contains: [\"(a*)\\\\1\"]\n") ==
          "t.yaml:3:18: expect.log_contains[0]: invalid regular expression \"(a*)\\1\": back-references are not supported");
    CHECK(error_of("name: x\nexpect:\n  log_contains: oops\n") ==
          "t.yaml:3:17: expect.log_contains: expected a list, got \"oops\"");
}

TEST_CASE("the timeline is sorted by time, stably, and needs at and do") {
    const scenario s = parse("name: x\ntimeline:\n  - {at: 2 us, do: c}\n  - {at: 1 us, do: a}\n"
                             "  - {at: 2000 ns, do: d}\n  - {at: 1 us, do: b}\n");
    REQUIRE(s.timeline.size() == 4);
    CHECK(s.timeline[0].action == "a");
    CHECK(s.timeline[1].action == "b");
    CHECK(s.timeline[2].action == "c");
    CHECK(s.timeline[3].action == "d");
    CHECK(error_of("name: x\ntimeline:\n  - {at: 1 us, do: a}\n  - {at: 2 us}\n") ==
          "t.yaml:4:5: timeline[1]: missing required key \"do\"");
    CHECK(error_of("name: x\ntimeline:\n  - {do: a}\n") == "t.yaml:3:5: timeline[0]: missing required key \"at\"");
    CHECK(error_of("name: x\ntimeline:\n  - a\n") ==
          "t.yaml:3:5: timeline[0]: expected a map {at, do, ...}, got \"a\"");
}

TEST_CASE("to_yaml emits the effective scenario in block style and document order") {
    const scenario s = parse("name: x\nrun: {until: 2 ms, seed: 4}\nexpect: {log_not_contains: [BUG, \"1\"]}\n",
                             {"expect.c={min: 1}"});
    CHECK(to_yaml(s.effective) ==
          "name: x\nrun:\n  until: 2 ms\n  seed: 4\nexpect:\n  log_not_contains:\n    - BUG\n    - \"1\"\n"
          "  c:\n    min: 1\n");
    CHECK(to_yaml(s.effective) == to_yaml(parse(to_yaml(s.effective)).effective));
}

TEST_CASE("load_scenario of a missing file is an input_error") {
    CHECK_THROWS_WITH_AS(load_scenario("/nonexistent/s.yaml", {}), "/nonexistent/s.yaml: cannot read file",
                         input_error);
}
