// Scenario parsing: every field, every kind of error with its position, --set overrides.
#include "platform/scenario.h"

#include "platform/params.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

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
          "t.yaml:3:3: unknown key \"untill\" in run (known: until, seed, quantum, poll_skip)");
    CHECK(error_of("name: x\nnmae: y\n") ==
          "t.yaml:2:1: unknown key \"nmae\" at top level (known: name, description, platform, "
          "software, run, timeline, expect)");
    CHECK(error_of("name: x\nsoftware:\n  clients:\n    iperf: {}\n") ==
          "t.yaml:4:5: unknown key \"iperf\" in software.clients (known: dmatest, net_dma, async_tx, dca)");
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
    std::string designs;
    for (const char* d : sw::dma_design_names) designs += (designs.empty() ? "" : ", ") + std::string(d);
    CHECK(error_of("name: x\nsoftware: {dmaengine: {design: fancy}}\n") ==
          "t.yaml:2:32: software.dmaengine.design: expected one of " + designs + ", got \"fancy\"");
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
    CHECK(error_of("") == "t.yaml:1:1: missing required key \"name\" (the scenario is empty)");
    CHECK(error_of("# only a comment\n") == "t.yaml:1:1: missing required key \"name\" (the scenario is empty)");
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
          "--set run.untill=2 ms: unknown key \"untill\" in run (known: until, seed, quantum, poll_skip)");
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
    CHECK_THROWS_WITH_AS(load_scenario("/nonexistent/s.yaml", {}),
                         "/nonexistent/s.yaml: cannot read file: No such file or directory", input_error);
}

// --- Hostile input: every value checked before anything is built ---------------

namespace {

// The input_error of loading and resolving the platform, or "".
std::string resolve_error(const std::string& text, const std::vector<std::string>& overrides = {},
                          const std::string& presets = presets_dir()) {
    try {
        params::resolve(parse(text, overrides), presets);
    } catch (const input_error& e) {
        return e.what();
    }
    return "";
}

struct scratch {  // a folder of its own, removed afterwards
    std::filesystem::path path;
    scratch() {
        char tmpl[] = "/tmp/ioatsim-scenario-XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~scratch() { std::filesystem::remove_all(path); }
    std::string write(const std::string& name, const std::string& text) const {
        std::ofstream(path / name, std::ios::binary) << text;
        return (path / name).string();
    }
};

}  // namespace

TEST_CASE("a name that is not a plain file name is refused at its position") {
    for (const char* bad : {"../../x", "a/b", ".", "..", "/abs"}) {
        CAPTURE(bad);
        CHECK(error_of(std::string("description: d\nname: \"") + bad + "\"\n") ==
              std::string("t.yaml:2:7: name: \"") + bad + "\" is not a plain file name (it names the output folder "
              "out/NAME: no \"/\", not \".\" or \"..\", no control characters, at most 255 bytes)");
    }
    CHECK(error_of("name: \"a\\tb\"\n").find("is not a plain file name") != std::string::npos);
    CHECK(error_of("name: " + std::string(256, 'n') + "\n").find("at most 255 bytes") != std::string::npos);
    CHECK(error_of("name: x\n", {"name=../../x"}).rfind("--set name=../../x: name: ", 0) == 0);
    CHECK(parse("name: ..x.y-z_1\n").name == "..x.y-z_1");
}

TEST_CASE("an unknown preset is blamed on the scenario's platform.preset, with the presets known") {
    CHECK(resolve_error("name: x\nplatform:\n  preset: nosuch\n") ==
          "t.yaml:3:11: platform.preset: no preset \"nosuch\" (known: ivybridge-ex-4s, jasper-forest, minimal, westmere-ep-2s, westmere-ex-8s, x3850x5)");
    CHECK(resolve_error("name: x\n", {"platform.preset=nosuch"}).rfind("--set platform.preset=nosuch: platform.preset: ",
                                                                       0) == 0);
    // A preset is a name in platform/presets, never a path.
    CHECK(error_of("name: x\nplatform: {preset: ../../scenarios/default}\n") ==
          "t.yaml:2:20: platform.preset: \"../../scenarios/default\" is not a preset name (a file name in "
          "platform/presets/, without .yaml)");
}

TEST_CASE("a bad value in a preset is blamed on the preset file's line and column") {
    scratch d;
    d.write("big.yaml", "description: too big\nsockets: 2\ncores_per_socket: 4294967297\n");
    d.write("octal.yaml", "sockets: 010\n");
    d.write("time.yaml", "\ndram.latency:   18446744073709551615 ps\n");
    const std::string dir = d.path.string();
    CHECK(resolve_error("name: x\nplatform: {preset: big}\n", {}, dir) ==
          dir + "/big.yaml:3:19: cores_per_socket: 4294967297 is out of range (must be 1..16: the APIC ID holds "
                "the core in 4 bits (socket << 4 | core))");
    CHECK(resolve_error("name: x\nplatform: {preset: octal}\n", {}, dir) ==
          dir + "/octal.yaml:1:10: sockets: \"010\" has a leading zero (integers are decimal, never octal: write 10)");
    CHECK(resolve_error("name: x\nplatform: {preset: time}\n", {}, dir).rfind(
              dir + "/time.yaml:2:17: dram.latency: 18446744073709551615 ps is out of range (must be <= 1000 s", 0) == 0);
}

TEST_CASE("platform integers are range-checked before any narrowing") {
    const std::string pre = "name: x\nplatform:\n  set:\n    ";
    CHECK(resolve_error(pre + "sockets: 4294967297\n") ==
          "t.yaml:4:5: platform.set.sockets: 4294967297 is out of range (must be 1..8: the largest glueless "
          "Nehalem-EX/Westmere-EX machine; one NUMA node each)");
    CHECK(resolve_error(pre + "sockets: 18446744073709551617\n").find("is out of range (must be 1..8") !=
          std::string::npos);
    CHECK(resolve_error(pre + "sockets: -4294967295\n").find("is out of range (must be 1..8") != std::string::npos);
    CHECK(resolve_error(pre + "ioat.xfercap: 200\n") ==
          "t.yaml:4:5: platform.set.ioat.xfercap: 200 is out of range (must be 0..31: XFERCAP[4:0] is log2 of the "
          "bytes per descriptor; 0 means 32 GB)");
    CHECK(resolve_error(pre + "ioh.ioat_functions: 0\n") ==
          "t.yaml:4:5: platform.set.ioh.ioat_functions: 0 is out of range (must be 1..8: device 0x16 functions 0-7; "
          "at least one, since the root complex decodes its BAR window to them)");
    CHECK(resolve_error(pre + "ioh.count: 5\n").find("ioh.count: 5 is out of range (must be 1..4") != std::string::npos);
    CHECK(resolve_error(pre + "ioh.root_ports: 9\n").find("(must be 0..8") != std::string::npos);
    CHECK(resolve_error(pre + "ioat.cbver: 0x100\n").find("ioat.cbver: 0x100 is out of range (must be 0x0..0xff") !=
          std::string::npos);
    CHECK(resolve_error(pre + "ioat.dmacapability: 0x100000000\n").find("(must be 0x0..0xffffffff") != std::string::npos);
    CHECK(resolve_error(pre + "dram.size_mib: 9223372036854775807\n").find("(must be 64..65536") != std::string::npos);
    CHECK(resolve_error(pre + "ioat.xfercap: 0\n") == "");
    CHECK(resolve_error(pre + "ioat.xfercap: 31\n") == "");
    CHECK(resolve_error(pre + "ioat.dmacapability: 0xffffffff\n") == "");
}

TEST_CASE("platform integers are decimal, hex only for register values, never octal") {
    const std::string pre = "name: x\nplatform:\n  set:\n    ";
    CHECK(resolve_error(pre + "cores_per_socket: 010\n") ==
          "t.yaml:4:5: platform.set.cores_per_socket: \"010\" has a leading zero (integers are decimal, never octal: "
          "write 10)");
    CHECK(resolve_error(pre + "sockets: 0x2\n") ==
          "t.yaml:4:5: platform.set.sockets: expected a decimal integer, got \"0x2\" (1..8: the largest glueless "
          "Nehalem-EX/Westmere-EX machine; one NUMA node each)");
    CHECK(resolve_error(pre + "ioat.cbver: 030\n").find("\"030\" has a leading zero (integers are decimal, never "
                                                         "octal: write 30, or 0x... for hex)") != std::string::npos);
    CHECK(resolve_error(pre + "sockets: \" 2\"\n").find("expected a decimal integer") != std::string::npos);
    CHECK(resolve_error(pre + "sockets: +2\n").find("expected a decimal integer") != std::string::npos);
    const params p = params::resolve(parse(pre + "ioat.cbver: 0x32\n    cores_per_socket: 10\n    sockets: 0\n",
                                           {"platform.set.sockets=2"}));
    CHECK(p.integer("ioat.cbver") == 0x32);
    CHECK(p.integer("cores_per_socket") == 10);
    CHECK(p.integer("sockets") == 2);
    CHECK(p.where("cores_per_socket").str() == "t.yaml:5:5");
}

TEST_CASE("platform times and rates have stated limits") {
    const std::string pre = "name: x\nplatform:\n  set:\n    ";
    CHECK(resolve_error(pre + "pcie.completion_timeout: 18446744073709551615 ps\n") ==
          "t.yaml:4:5: platform.set.pcie.completion_timeout: 18446744073709551615 ps is out of range (must be <= "
          "1000 s: the simulated clock holds 2^64 ps (213 days) and sums of times must stay far below that)");
    CHECK(resolve_error(pre + "check.hung_after: 1000 s\n") == "");
    CHECK(resolve_error(pre + "check.hung_after: 1000.000000000001 s\n").find("is out of range") != std::string::npos);
    CHECK(resolve_error(pre + "ioat.bandwidth_gbps: 1e-300\n") ==
          "t.yaml:4:5: platform.set.ioat.bandwidth_gbps: 1e-300 is out of range (must be 0.001..1000: 1 MB/s to "
          "1 TB/s: slower overflows the simulated clock, faster takes no time)");
    CHECK(resolve_error(pre + "cpu.memcpy_gbps: 1e300\n").find("is out of range (must be 0.001..1000") !=
          std::string::npos);
    CHECK(resolve_error(pre + "cpu.byte_loop_gbps: 1e999\n").find("expected a number, got \"1e999\"") !=
          std::string::npos);
    for (const char* bad : {"nan", "inf", "0x1p3", "", "-5"}) {
        CAPTURE(bad);
        CHECK_FALSE(resolve_error(pre + "ioat.bandwidth_gbps: \"" + bad + "\"\n").empty());
    }
    CHECK(resolve_error(pre + "ioat.bandwidth_gbps: 0.001\n") == "");
}

TEST_CASE("scenario times are at most 1000 s") {
    CHECK(error_of("name: x\nrun:\n  until: 18446744073709551615 ps\n") ==
          "t.yaml:3:10: run.until: 18446744073709551615 ps is out of range (must be <= 1000 s: the simulated clock "
          "holds 2^64 ps (213 days) and sums of times must stay far below that)");
    CHECK(error_of("name: x\nrun: {until: 1001 s}\n").find("run.until: 1001 s is out of range") != std::string::npos);
    CHECK(error_of("name: x\nrun: {quantum: 2000 s}\n").find("run.quantum: 2000 s is out of range") !=
          std::string::npos);
    CHECK(error_of("name: x\nsoftware: {clients: {dmatest: {timeout: 18446744073709551615 ps}}}\n")
              .find("software.clients.dmatest.timeout: 18446744073709551615 ps is out of range") != std::string::npos);
    CHECK(error_of("name: x\nrun: {until: 1000 s}\ntimeline:\n  - {at: 18446744073709551615 ps, do: a}\n")
              .find("timeline[0].at: 18446744073709551615 ps is out of range") != std::string::npos);
    CHECK(parse("name: x\nrun: {until: 1000 s}\n").until_ps == max_time_ps);
}

TEST_CASE("more client tasks than the host can give is an input error at the largest share") {
    CHECK(resolve_error("name: x\nsoftware:\n  clients:\n    dmatest: {threads_per_chan: 100000}\n") ==
          "t.yaml:4:33: software.clients.dmatest.threads_per_chan: 100000 simulated tasks (dmatest: 100000 per "
          "channel x 1 channel) is over the limit of 8192 client tasks (each is a SystemC thread with its own stack "
          "and guard page; the host gives about 32000 in all)");
    // x3850x5: 16 channels, 32 CPUs.
    const std::string x = "name: x\nplatform: {preset: x3850x5}\nsoftware:\n  clients:\n";
    CHECK(resolve_error(x + "    dmatest: {threads_per_chan: 512}\n") == "");
    CHECK(resolve_error(x + "    dmatest: {threads_per_chan: 513}\n").find(
              "8208 simulated tasks (dmatest: 513 per channel x 16 channels = 8208)") != std::string::npos);
    CHECK(resolve_error(x + "    dmatest: {threads_per_chan: 100000, max_channels: 1}\n").find(
              "100000 per channel x 1 channel") != std::string::npos);
    CHECK(resolve_error(x + "    dmatest: {threads_per_chan: 8000, device: \"0000:80:16.0\"}\n") == "");
    const std::string e = resolve_error(x + "    dmatest: {threads_per_chan: 100}\n    net_dma: {readers: 4096}\n"
                                            "    async_tx: {threads: 4096}\n");
    CAPTURE(e);
    CHECK(e.rfind("t.yaml:6:24: software.clients.net_dma.readers: 9792 simulated tasks (dmatest: 100 per channel x "
                  "16 channels = 1600; net_dma: 4096 readers; async_tx: 4096 threads) is over the limit", 0) == 0);
    // Clients do not run without an OS.
    CHECK(resolve_error("name: x\nsoftware:\n  os: none\n  clients:\n    dmatest: {threads_per_chan: 100000}\n") == "");
}

TEST_CASE("load_scenario refuses what is not a regular file of at most 1 MiB, unread") {
    auto load_error = [](const std::string& path) -> std::string {
        try {
            load_scenario(path, {});
        } catch (const input_error& e) {
            return e.what();
        }
        return "";
    };
    const std::string not_file = ": not a regular file (a scenario is a YAML file of at most 1 MiB)";
    CHECK(load_error("/dev/zero") == "/dev/zero" + not_file);
    CHECK(load_error("/tmp") == "/tmp" + not_file);
    scratch d;
    const std::string big = d.write("big.yaml", "name: big\ndescription: \"" + std::string(1 << 20, 'x') + "\"\n");
    CHECK(load_error(big) == big + ": 1048602 bytes is over the 1 MiB a scenario may have");
    const std::string fifo = (d.path / "fifo").string();
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    CHECK(load_error(fifo) == fifo + not_file);  // refused without opening: opening would block
    CHECK(load_scenario(d.write("ok.yaml", "name: ok\n"), {}).name == "ok");
}
