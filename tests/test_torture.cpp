// ioatsim torture: instants forked from a shared prefix give what separate runs
// give, byte for byte; outcomes are classified (vacuous never a pass); bad
// windows are refused; --minimize shrinks a legacy failure to a scenario that
// still fails with the same violation.
#include "cli.h"

#include <doctest/doctest.h>

using cli::ioatsim;
using cli::slurp;
using cli::tmpdir;

namespace {
nlohmann::json without_wall(nlohmann::json s) {
    s.erase("wall_time_s");
    return s;
}
}  // namespace

TEST_CASE("a forked instant's hotplug.jsonl and summary.json and log equal a separate run's") {
    tmpdir t;
    const std::string out = (t.path / "t").string();
    // 25 us apart, up to the removal's own instant: each a fork of one prefix.
    auto r = ioatsim("torture " + cli::scenario("removal-sweep.yaml") +
                         " --action 0 --from 1.45ms --to 1.5ms --instants 3 --designs legacy,prep_null"
                         " --trace hotplug -j 2 --out " + out, t);
    REQUIRE(r.status <= 1);
    for (const char* pt : {"0001-legacy-1475000ns-s1", "0005-prep_null-1500000ns-s1"}) {
        const std::string design = std::string(pt).find("legacy") != std::string::npos ? "legacy" : "prep_null";
        const std::string at = std::string(pt).find("1475000") != std::string::npos ? "1475000 ns" : "1500000 ns";
        tmpdir s;
        auto sep = ioatsim("run " + cli::scenario("removal-sweep.yaml") + " --quiet --trace hotplug --set software.dmaengine.design=" +
                               design + " --set 'timeline.0.at=" + at + "' --out " + (s.path / "run").string(), s);
        REQUIRE(sep.status <= 1);
        const cli::fs::path forked = cli::fs::path(out) / "points" / pt;
        CHECK(slurp(forked / "hotplug.jsonl") == slurp(s.path / "run" / "hotplug.jsonl"));
        CHECK(slurp(forked / "log.txt") == slurp(s.path / "run" / "log.txt"));
        CHECK(without_wall(cli::summary(forked)) == without_wall(cli::summary(s.path / "run")));
        CHECK(slurp(forked / "hotplug.jsonl").size() > 1000);
    }
    const std::string table = slurp(cli::fs::path(out) / "torture.csv");
    CHECK(table.find("legacy,on,3,") != std::string::npos);
    CHECK(table.find("prep_null,on,3,") != std::string::npos);
}

TEST_CASE("an instant before the IOH's driver is bound is vacuous and never a pass and a rerun resumes") {
    tmpdir t;
    const std::string out = (t.path / "t").string();
    // At 1 ns the IOAT functions are not probed yet: nothing to act on.
    auto r = ioatsim("torture " + cli::scenario("removal-sweep.yaml") +
                         " --action 0 --from 1ns --to 1ns --instants 1 --designs prep_null --set run.until=5ms"
                         " --out " + out, t);
    cli::fs::path point;
    for (auto& e : cli::fs::directory_iterator(cli::fs::path(out) / "points")) point = e.path();
    const auto s = cli::summary(point);
    CHECK(s["timeline"][0]["bound"] == 0);
    const std::string table = slurp(cli::fs::path(out) / "torture.csv");
    if (s["verdict"] == "pass") CHECK(table.find("prep_null,on,1,0,1,0,0") != std::string::npos);
    else CHECK(r.status == 1);
    auto again = ioatsim("torture " + cli::scenario("removal-sweep.yaml") +
                             " --action 0 --from 1ns --to 1ns --instants 1 --designs prep_null --set run.until=5ms"
                             " --out " + out, t);
    CHECK(again.status == r.status);
    CHECK(slurp(cli::fs::path(out) / "torture.csv") == table);
}

TEST_CASE("a window crossing a neighbouring action or a missing action or no instants are refused") {
    tmpdir t;
    const std::string sc = cli::scenario("ioh-remove-surprise.yaml");
    auto crossing = ioatsim("torture " + sc + " --action 0 --from 1ms --to 31ms --instants 3", t);
    CHECK(crossing.status == 2);
    CHECK(crossing.err.find("crosses timeline.1") != std::string::npos);
    auto missing = ioatsim("torture " + sc + " --action 5 --from 1ms --to 2ms --instants 3", t);
    CHECK(missing.status == 2);
    CHECK(missing.err.find("--action") != std::string::npos);
    auto neither = ioatsim("torture " + sc + " --action 0 --from 1ms --to 2ms", t);
    CHECK(neither.status == 2);
    CHECK(neither.err.find("--instants or --step") != std::string::npos);
}

TEST_CASE("--minimize shrinks a legacy failure and the scenario it writes fails with the same violation") {
    tmpdir t;
    const std::string out = (t.path / "m").string();
    auto r = ioatsim("torture " + cli::scenario("removal-sweep.yaml") + " --action 0 --from 1.5ms --to 1.5ms --instants 1"
                         " --designs legacy --minimize 1.5ms --out " + out, t);
    INFO(r.out, r.err);
    REQUIRE(r.status == 0);
    const std::string first = r.out.substr(r.out.find("fails with ") + 11);
    const std::string kind = first.substr(0, first.find(';'));
    CHECK(r.out.find("kept") != std::string::npos);
    tmpdir s;
    auto run = ioatsim("run " + (cli::fs::path(out) / "minimal.yaml").string() + " --quiet --out " + (s.path / "run").string(), s);
    CHECK(run.status == 1);
    CHECK(cli::summary(s.path / "run")["counters"]["violations." + kind].get<int64_t>() > 0);
}
