// A sweep's plan: values as lists and ranges, axes and their keys, the grid's
// order and folders, shards, and the CSV and shell quoting the tables and
// scripts use.
#include "tools/sweep_emit.h"
#include "tools/sweep_plan.h"
#include "tools/sweep_results.h"

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

using namespace ioatsim;
using namespace ioatsim::sweep;

namespace {

std::vector<std::string> values(const std::string& text, bool* log = nullptr) {
    bool l = false;
    auto v = expand_values(text, l, "--axis k=" + text);
    if (log) *log = l;
    return v;
}

std::string error_of(const std::string& text) {
    try {
        values(text);
    } catch (const input_error& e) {
        return e.what();
    }
    return "";
}

std::string scenario_file(const char* name) { return std::string(IOATSIM_SOURCE_DIR) + "/scenarios/" + name; }

}  // namespace

TEST_CASE("a list keeps its values as written, and commas inside brackets or quotes do not split") {
    CHECK(values("50ns,152ns,300ns") == std::vector<std::string>{"50ns", "152ns", "300ns"});
    CHECK(values(" a , b ") == std::vector<std::string>{"a", "b"});
    CHECK(values("[1, 2],{a: 1, b: 2},\"x,y\"") == std::vector<std::string>{"[1, 2]", "{a: 1, b: 2}", "\"x,y\""});
    CHECK(values("0000:80:16.7") == std::vector<std::string>{"0000:80:16.7"});
    CHECK(error_of("a,,b").find("an empty value") != std::string::npos);
    CHECK(error_of("a,b,a").find("\"a\" is given twice") != std::string::npos);
}

TEST_CASE("a range of times is exact to the picosecond, in the first end's unit, both ends included") {
    bool log = true;
    CHECK(values("50ns..2000ns:8", &log) ==
          std::vector<std::string>{"50ns", "328.571ns", "607.143ns", "885.714ns", "1164.286ns", "1442.857ns",
                                   "1721.429ns", "2000ns"});
    CHECK_FALSE(log);
    CHECK(values("1 us..2 ms:3") == std::vector<std::string>{"1 us", "1000.5 us", "2000 us"});
    CHECK(values("100ps..102ps:3") == std::vector<std::string>{"100ps", "101ps", "102ps"});
}

TEST_CASE("a log range is geometric, integers stay integers, reals keep six digits") {
    bool log = false;
    CHECK(values("1..1024:11:log", &log) ==
          std::vector<std::string>{"1", "2", "4", "8", "16", "32", "64", "128", "256", "512", "1024"});
    CHECK(log);
    CHECK(values("10ns..1000ns:3:log") == std::vector<std::string>{"10ns", "100ns", "1000ns"});
    CHECK(values("0..10:3") == std::vector<std::string>{"0", "5", "10"});
    CHECK(values("0.5..1.5:3") == std::vector<std::string>{"0.5", "1", "1.5"});
    CHECK(values("1.0..2:3") == std::vector<std::string>{"1", "1.5", "2"});  // one end real: reals
}

TEST_CASE("a bad range names what is wrong with it") {
    CHECK(error_of("1..2:1").find("the count \"1\" must be a whole number 2..") != std::string::npos);
    CHECK(error_of("1..2").find("a range is FIRST..LAST:COUNT") != std::string::npos);
    CHECK(error_of("1..2:x").find("the count \"x\"") != std::string::npos);
    CHECK(error_of("50ns..2000:4").find("different units") != std::string::npos);
    CHECK(error_of("0..8:4:log").find("both ends above zero") != std::string::npos);
    CHECK(error_of("1..8:4:lin").find("not log") != std::string::npos);
    CHECK(error_of("x..8:4").find("\"x\" is not a number") != std::string::npos);
    CHECK(error_of("1..3:5").find("twice once rounded") != std::string::npos);
    CHECK(error_of("1.5ps..3ps:2").find("not a whole number of picoseconds") != std::string::npos);
    CHECK(error_of("1..3:5").find("--axis k=1..3:5") == 0);  // names the option as given
}

TEST_CASE("an axis is KEY=VALUES, and a platform parameter alone stands for platform.set.KEY") {
    axis a = parse_axis("coherence.atomic_one_hop=50ns,152ns");
    CHECK(a.name == "coherence.atomic_one_hop");
    CHECK(a.key == "platform.set.coherence.atomic_one_hop");
    CHECK(a.values.size() == 2);
    axis b = parse_axis("software.clients.net_dma.read_size=4096,65536");
    CHECK(b.key == "software.clients.net_dma.read_size");
    CHECK(parse_axis("timeline.0.at=1ms..3ms:3").values == std::vector<std::string>{"1ms", "2ms", "3ms"});
    CHECK_THROWS_WITH_AS(parse_axis("novalues"), doctest::Contains("expected KEY=VALUES"), input_error);
    CHECK_THROWS_AS(parse_axis("=1,2"), input_error);
}

TEST_CASE("shards are I/N, 1-based, and split the points between them exactly once") {
    unsigned i = 0, n = 0;
    parse_shard("2/3", i, n);
    CHECK(i == 2);
    CHECK(n == 3);
    for (const char* bad : {"0/3", "4/3", "3", "1/0", "a/b", "1/2x"})
        CHECK_THROWS_WITH_AS(parse_shard(bad, i, n), doctest::Contains("--shard"), input_error);
    std::vector<int> owners(10, 0);
    for (unsigned s = 1; s <= 3; ++s)
        for (size_t p = 0; p < owners.size(); ++p) owners[p] += in_shard(p, s, 3);
    CHECK(owners == std::vector<int>(10, 1));
    CHECK(in_shard(7, 1, 1));
}

TEST_CASE("the grid has designs outermost and seeds innermost, each point its own folder and overrides") {
    plan_request r;
    r.scenario = scenario_file("default.yaml");
    r.sets = {"run.until=2 ms"};
    r.designs = {"legacy", "atomic"};
    r.axes = {"ioat.desc_overhead=100ns,290ns,400ns"};
    r.seeds = 2;
    checked_plan cp = make_plan(r);
    const plan& p = cp.p;
    REQUIRE(p.points.size() == 12);
    REQUIRE(cp.scenarios.size() == 12);
    CHECK(p.axes[0].name == "design");
    CHECK(p.points[0].values == std::vector<std::string>{"legacy", "100ns"});
    CHECK(p.points[1].values == std::vector<std::string>{"legacy", "100ns"});
    CHECK(p.points[1].seed == 2);
    CHECK(p.points[2].values == std::vector<std::string>{"legacy", "290ns"});
    CHECK(p.points[11].values == std::vector<std::string>{"atomic", "400ns"});
    CHECK(p.points[11].seed == 2);
    CHECK(p.points[11].dir == "points/0011-atomic-400ns-s2");
    CHECK(p.points[3].sets == std::vector<std::string>{"run.until=2 ms", "software.dmaengine.design=legacy",
                                                       "platform.set.ioat.desc_overhead=290ns", "run.seed=2"});
    // The overrides reached the scenarios.
    CHECK(cp.scenarios[11].dmaengine.design == sw::dma_design::atomic);
    CHECK(cp.scenarios[11].seed == 2);
    std::set<std::string> dirs;
    for (const point& pt : p.points) dirs.insert(pt.dir);
    CHECK(dirs.size() == 12);
    // Its JSON reads back as the same campaign, and another axis is another one.
    CHECK(plan::from_json(p.to_json(), "x").same_campaign(p));
    r.axes = {"ioat.desc_overhead=100ns,290ns"};
    CHECK_FALSE(make_plan(r).p.same_campaign(p));
}

TEST_CASE("bad axes are refused while the plan is made, naming the option and the point") {
    plan_request r;
    r.scenario = scenario_file("default.yaml");
    r.designs = {"legacy", "refcount"};
    CHECK_THROWS_WITH_AS(make_plan(r), doctest::Contains("--designs: unknown design \"refcount\""), input_error);
    r.designs = {};
    r.axes = {"ioat.xfercap=10,40"};
    CHECK_THROWS_WITH_AS(make_plan(r), doctest::Contains("sweep point 1 (ioat.xfercap=40, seed 1)"), input_error);
    r.axes = {"software.clients.dmatest.no_such_option=1,2"};
    CHECK_THROWS_WITH_AS(make_plan(r), doctest::Contains("no_such_option"), input_error);
    r.axes = {"run.seed=1,2"};
    r.seeds = 2;
    CHECK_THROWS_WITH_AS(make_plan(r), doctest::Contains("already swept by --seeds"), input_error);
    r.seeds = 1;
    r.axes = {"ioat.xfercap=10,12", "platform.set.ioat.xfercap=14"};
    CHECK_THROWS_WITH_AS(make_plan(r), doctest::Contains("already an axis"), input_error);
}

TEST_CASE("CSV fields quote what needs it and split back, and shell words survive quoting") {
    for (const std::string& s : {std::string("plain"), std::string("a,b"), std::string("say \"hi\""), std::string("")}) {
        auto back = csv_split(csv_field(s) + "," + csv_field("x"));
        REQUIRE(back.size() == 2);
        CHECK(back[0] == s);
        CHECK(back[1] == "x");
    }
    CHECK(shell_quote("/usr/bin/ioatsim") == "/usr/bin/ioatsim");
    CHECK(shell_quote("run.until=2 ms") == "'run.until=2 ms'");
    CHECK(shell_quote("it's") == "'it'\\''s'");
}
