// The timelines of a run: trace.perfetto.json holds to the Chrome JSON trace
// format's nesting rules, signals.vcd is a well-formed VCD, both are the same
// bytes twice, and neither changes the run they show.
#include "cli.h"

#include <doctest/doctest.h>

#include <map>
#include <set>
#include <tuple>

namespace fs = std::filesystem;
using namespace cli;
using nlohmann::json;

namespace {

struct perfetto_counts {
    size_t slices = 0, x = 0, async = 0, flows = 0, counters = 0, global_instants = 0;
    std::set<std::string> threads;
};

// The rules a viewer relies on: B/E balanced and nested per thread (with X
// slices among them), async b/e matched by (cat, name, id), flows s/f matched
// by id, counters numeric.
perfetto_counts check_perfetto(const json& doc) {
    perfetto_counts n;
    REQUIRE(doc.is_object());
    REQUIRE(doc["traceEvents"].is_array());
    using track = std::pair<int64_t, int64_t>;
    struct interval { double b, e; };
    std::map<track, std::vector<double>> open;       // B timestamps
    std::map<track, std::vector<interval>> slices;  // closed B/E and X
    std::map<std::tuple<std::string, std::string, int64_t>, double> async_open;
    std::map<int64_t, std::pair<int, int>> flows;    // id -> (s, f)
    std::map<int64_t, double> flow_start;
    for (const json& e : doc["traceEvents"]) {
        const std::string ph = e.at("ph").get<std::string>();
        if (ph == "M") {
            if (e["name"] == "thread_name") n.threads.insert(e["args"]["name"].get<std::string>());
            continue;
        }
        REQUIRE(e.at("ts").is_number());
        const double ts = e["ts"].get<double>();
        const track tr{e.at("pid").get<int64_t>(), e.value("tid", int64_t(0))};
        if (ph == "B") {
            open[tr].push_back(ts);
        } else if (ph == "E") {
            REQUIRE_MESSAGE(!open[tr].empty(), "E without B on pid/tid " << tr.first << "/" << tr.second);
            CHECK(ts >= open[tr].back());
            slices[tr].push_back({open[tr].back(), ts});
            open[tr].pop_back();
            ++n.slices;
        } else if (ph == "X") {
            CHECK(e.at("dur").get<double>() >= 0);
            slices[tr].push_back({ts, ts + e["dur"].get<double>()});
            ++n.x;
        } else if (ph == "b" || ph == "e") {
            auto key = std::make_tuple(e.at("cat").get<std::string>(), e.at("name").get<std::string>(),
                                       e.at("id").get<int64_t>());
            if (ph == "b") {
                CHECK_MESSAGE(!async_open.count(key), "async id opened twice");
                async_open[key] = ts;
            } else {
                REQUIRE_MESSAGE(async_open.count(key), "async e without b");
                CHECK(ts >= async_open[key]);
                async_open.erase(key);
                ++n.async;
            }
        } else if (ph == "s" || ph == "f") {
            int64_t id = e.at("id").get<int64_t>();
            (ph == "s" ? flows[id].first : flows[id].second)++;
            if (ph == "s") flow_start[id] = ts;
            else CHECK(ts >= flow_start[id]);
        } else if (ph == "C") {
            for (auto& [k, v] : e.at("args").items()) CHECK(v.is_number());
            ++n.counters;
        } else if (ph == "i") {
            n.global_instants += e.value("s", "t") == "g";
        } else {
            FAIL("unexpected phase " << ph);
        }
    }
    for (auto& [tr, v] : open) CHECK_MESSAGE(v.empty(), "B without E on pid/tid " << tr.first << "/" << tr.second);
    CHECK(async_open.empty());
    for (auto& [id, c] : flows) {
        CHECK(c.first == 1);
        CHECK(c.second == 1);
    }
    n.flows = flows.size();
    // Slices of one thread nest: each starts after the enclosing one and ends
    // within it (to a picosecond: ts + dur is a sum of decimals).
    const double ps = 1e-6;
    for (auto& [tr, v] : slices) {
        std::sort(v.begin(), v.end(), [](const interval& a, const interval& b) { return a.b < b.b || (a.b == b.b && a.e > b.e); });
        std::vector<double> ends;
        for (const interval& s : v) {
            while (!ends.empty() && s.b >= ends.back() - ps) ends.pop_back();
            if (!ends.empty()) CHECK_MESSAGE(s.e <= ends.back() + ps, "overlapping slices on pid/tid " << tr.first << "/" << tr.second);
            ends.push_back(s.e);
        }
    }
    return n;
}

struct vcd {
    std::map<std::string, std::string> id_of;  // "ioh1.link_up" -> id
    std::map<std::string, std::vector<std::pair<uint64_t, std::string>>> changes;  // id -> (time, value)
};

// Header blocks, scopes, variables, then time stamps that only grow and value
// changes of declared variables.
vcd parse_vcd(const std::string& text) {
    vcd v;
    std::istringstream in(text);
    std::string tok;
    std::vector<std::string> scope;
    std::set<std::string> blocks;
    bool defs = true;
    uint64_t now = 0;
    bool timed = false;
    while (in >> tok) {
        if (defs) {
            if (tok == "$scope") {
                std::string kind, name;
                in >> kind >> name >> tok;
                scope.push_back(name);
            } else if (tok == "$upscope") {
                REQUIRE(!scope.empty());
                scope.pop_back();
                in >> tok;
            } else if (tok == "$var") {
                std::string type, id, name;
                int width = 0;
                in >> type >> width >> id >> name;
                while (in >> tok && tok != "$end") CHECK(tok.front() == '[');  // a vector's bit range
                CHECK(width >= 1);
                std::string full;
                for (size_t i = 1; i < scope.size(); ++i) full += scope[i] + ".";  // below the top "SystemC" scope
                v.id_of[full + name] = id;
            } else if (tok == "$enddefinitions") {
                in >> tok;
                defs = false;
                CHECK(scope.empty());
            } else if (tok[0] == '$') {
                blocks.insert(tok);
                while (in >> tok && tok != "$end") {}
            } else {
                FAIL("unexpected token in the header: " << tok);
            }
            continue;
        }
        if (tok == "$comment" || tok == "$dumpvars" || tok == "$end") {
            if (tok == "$comment") while (in >> tok && tok != "$end") {}
            continue;
        }
        if (tok[0] == '#') {
            uint64_t t = std::stoull(tok.substr(1));
            CHECK_MESSAGE((!timed || t > now), "time " << t << " after " << now);
            now = t;
            timed = true;
            continue;
        }
        std::string value, id;
        if (tok[0] == 'b') {
            value = tok.substr(1);
            in >> id;
        } else {
            value = tok.substr(0, 1);
            id = tok.substr(1);
        }
        v.changes[id].push_back({now, value});
    }
    CHECK(blocks.count("$date"));
    CHECK(blocks.count("$version"));
    CHECK(blocks.count("$timescale"));
    CHECK_FALSE(defs);
    std::set<std::string> ids;
    for (auto& [name, id] : v.id_of) ids.insert(id);
    for (auto& [id, c] : v.changes) CHECK_MESSAGE(ids.count(id), "a change of undeclared " << id);
    return v;
}

std::string value_at(const vcd& v, const std::string& name, uint64_t t) {
    std::string last = "?";
    auto id = v.id_of.find(name);
    REQUIRE_MESSAGE(id != v.id_of.end(), "no variable " << name);
    for (auto& [when, value] : v.changes.at(id->second))
        if (when <= t) last = value;
    return last;
}

}  // namespace

TEST_CASE("trace.perfetto.json of a surprise removal under load passes the format's nesting rules") {
    tmpdir t;
    result r = ioatsim("run " + scenario("removal-sweep.yaml") + " --quiet --perfetto --out " + (t.path / "o").string(), t);
    REQUIRE((r.status == 0 || r.status == 1));
    json doc = json::parse(slurp(t.path / "o" / "trace.perfetto.json"));
    perfetto_counts n = check_perfetto(doc);
    // Every time the kernel put a task on a CPU (counted in hotplug.jsonl) is one running slice.
    size_t switches = 0;
    std::istringstream lines(slurp(t.path / "o" / "hotplug.jsonl"));
    for (std::string l; std::getline(lines, l);) {
        json e = json::parse(l);
        if (e.contains("activity"))
            for (auto& [src, counts] : e["activity"].items()) switches += counts.value("sched.in", size_t(0));
    }
    CHECK(n.slices == switches);
    CHECK(n.async > 1000);        // descriptors
    CHECK(n.flows > 10);          // doorbell to completion interrupt
    CHECK(n.counters > 10);       // GB/s and in flight
    CHECK(n.x > 100);             // doorbells and interrupts
    CHECK(n.global_instants >= 1);  // the removal
    CHECK(n.threads.count("cpu0 tasks"));
    CHECK(n.threads.count("cpu0 doorbells and interrupts"));
    bool removal = false, dropped = false;
    for (const json& e : doc["traceEvents"]) {
        removal = removal || (e["ph"] == "i" && e["name"] == "ioh.remove IOH 1 (surprise)");
        dropped = dropped || (e["ph"] == "b" && e["args"].contains("dropped"));
    }
    CHECK(removal);
    CHECK(dropped);  // descriptors in flight when the IOH went
    // Microseconds with the trace's picoseconds as six decimals.
    CHECK(slurp(t.path / "o" / "trace.perfetto.json").find("\"ts\":1500.000000") != std::string::npos);
}

TEST_CASE("signals.vcd parses, shows the removal, is the same bytes twice, and the timelines do not change the run") {
    tmpdir t;
    const std::string common = "run " + scenario("removal-sweep.yaml") + " --quiet --out ";
    REQUIRE(ioatsim(common + (t.path / "a").string() + " --vcd --perfetto", t).status <= 1);
    REQUIRE(ioatsim(common + (t.path / "b").string() + " --vcd --perfetto", t).status <= 1);
    REQUIRE(ioatsim(common + (t.path / "c").string(), t).status <= 1);
    const std::string text = slurp(t.path / "a" / "signals.vcd");
    CHECK(text == slurp(t.path / "b" / "signals.vcd"));
    CHECK(slurp(t.path / "a" / "trace.perfetto.json") == slurp(t.path / "b" / "trace.perfetto.json"));
    CHECK(slurp(t.path / "a" / "hotplug.jsonl") == slurp(t.path / "c" / "hotplug.jsonl"));
    CHECK(text.rfind("$date\n    (omitted", 0) == 0);
    vcd v = parse_vcd(text);
    const uint64_t removal = 1'500'000'000;  // 1.5 ms, in the file's picoseconds
    CHECK(value_at(v, "ioh1.link_up", removal - 1) == "1");
    CHECK(value_at(v, "ioh1.link_up", removal) == "0");
    CHECK(value_at(v, "ioh0.link_up", removal) == "1");
    CHECK(value_at(v, "removal_in_progress", removal - 1) == "0");
    CHECK(value_at(v, "removal_in_progress", removal) == "1");
    CHECK(value_at(v, "cpu0.online", removal) == "1");
    CHECK(v.changes.at(v.id_of.at("ioh0.ioat0.chan0.dmacount")).size() > 10);  // doorbells
    CHECK(v.id_of.count("ioh1.ioat7.chan0.state"));
}
