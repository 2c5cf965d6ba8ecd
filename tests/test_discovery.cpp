// Finding names without reading C++: ioatsim list (presets, scenarios,
// actions, counters, designs, each described), ioatsim params with units and
// defaults, and docs/parameters.md as generated from it.
#include "cli.h"

#include <doctest/doctest.h>

#include <map>
#include <set>

using namespace cli;

namespace {

// NAME  description, per line of `ioatsim list KIND`.
std::map<std::string, std::string> listed(const std::string& kind, const tmpdir& t) {
    result r = ioatsim("list " + kind, t);
    REQUIRE(r.status == 0);
    std::map<std::string, std::string> m;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) {
        const size_t gap = line.find("  ");
        REQUIRE(gap != std::string::npos);
        m[line.substr(0, gap)] = line.substr(line.find_first_not_of(' ', gap));
    }
    return m;
}

std::set<std::string> files(const std::string& dir) {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".yaml") names.insert(e.path().stem().string());
    return names;
}

}  // namespace

TEST_CASE("list names every preset, scenario and design with a line of description") {
    tmpdir t;
    const std::string src = IOATSIM_SOURCE_DIR;
    for (auto [kind, dir] : {std::pair<std::string, std::string>{"presets", src + "/platform/presets"},
                             {"scenarios", src + "/scenarios"}}) {
        CAPTURE(kind);
        auto m = listed(kind, t);
        std::set<std::string> names;
        for (auto& [n, d] : m) {
            names.insert(n);
            CHECK_MESSAGE(d.size() > 10, n);
            CHECK(d.find('\n') == std::string::npos);
            CHECK(d.size() <= 112);
        }
        CHECK(names == files(dir));
    }
    CHECK(listed("presets", t)["minimal"] ==
          "One socket with two CPUs and one IOH (bus 0x00) carrying one IOAT function.");
    auto designs = listed("designs", t);
    CHECK(designs.size() == 7);
    for (const char* d : {"legacy", "atomic", "percpu", "client_callbacks", "prep_null", "mainline", "percpu_ref"})
        CHECK_MESSAGE(designs.count(d), d);
    result bad = ioatsim("list widgets", t);
    CHECK(bad.status == 2);
    CHECK(bad.err.find("\"widgets\" is not presets, scenarios, actions, counters or designs") != std::string::npos);
}

TEST_CASE("list actions is exactly what the timeline accepts") {
    tmpdir t;
    // The timeline names what it accepts when given what it does not.
    result r = ioatsim("run " + scenario("default.yaml") + " --quiet --out " + (t.path / "o").string() +
                           " --set 'timeline=[{at: 1 ms, do: nosuch.action}]'", t);
    REQUIRE(r.status == 2);
    const size_t k = r.err.find("(known: ");
    REQUIRE(k != std::string::npos);
    std::set<std::string> known;
    std::istringstream in(r.err.substr(k + 8, r.err.find(')', k) - k - 8));
    for (std::string n; std::getline(in, n, ',');) known.insert(n.substr(n.find_first_not_of(' ')));
    std::set<std::string> names;
    for (auto& [n, d] : listed("actions", t)) {
        names.insert(n);
        CHECK(d.size() > 10);
    }
    CHECK(known.size() > 10);
    CHECK(names == known);
}

TEST_CASE("list counters describes every counter runs report") {
    tmpdir t;
    auto counters = listed("counters", t);
    for (auto& [n, d] : counters) CHECK_MESSAGE(d.find("no description") == std::string::npos, n);
    // Runs with every client: dmatest, net_dma, async_tx (removal-sweep's load, cut short) and the DCA requester.
    const std::string runs[] = {
        "run " + scenario("removal-sweep.yaml") + " --set 'run.until=\"3 ms\"' --set 'timeline=[]'",
        "run " + scenario("dca-unbind.yaml"),
        "run " + scenario("iommu-errant-dma.yaml") + " --set 'run.until=\"3 ms\"'",  // the DMA-mapping layer's
    };
    size_t seen = 0;
    for (const std::string& run : runs) {
        CAPTURE(run);
        result r = ioatsim(run + " --quiet --trace none --out " + (t.path / "o").string(), t);
        REQUIRE((r.status == 0 || r.status == 1));
        const nlohmann::json s = summary(t.path / "o");
        for (auto& [name, v] : s["counters"].items()) {
            CHECK_MESSAGE(counters.count(name), name);
            ++seen;
        }
    }
    CHECK(seen > 60);
}

TEST_CASE("params lists every parameter with its default and unit, alone or for a preset") {
    tmpdir t;
    result r = ioatsim("params", t);
    REQUIRE(r.status == 0);
    size_t entries = 0, units = 0, defaults = 0;
    for (size_t p = r.out.find(" = "); p != std::string::npos; p = r.out.find(" = ", p + 1)) ++entries;
    for (size_t p = r.out.find("\n    unit: "); p != std::string::npos; p = r.out.find("\n    unit: ", p + 1))
        units += r.out.compare(p + 11, 1, "\n") != 0;
    for (size_t p = r.out.find("\n    default: "); p != std::string::npos; p = r.out.find("\n    default: ", p + 1))
        ++defaults;
    CHECK(entries > 40);
    CHECK(units == entries);
    CHECK(defaults == entries);
    CHECK(r.out.find("sockets = 1\n    set at: default\n") != std::string::npos);
    CHECK(r.out.find("dram.bandwidth_gbps = 15\n") != std::string::npos);
    result x = ioatsim("params --preset x3850x5 --prefix dram.", t);
    CHECK(x.out.find("dram.latency = 160 ns\n    set at: ") != std::string::npos);
    CHECK(x.out.find("    unit: time\n    default: 160 ns\n") != std::string::npos);
    CHECK(x.out.find("dram.size_mib = ") != std::string::npos);
    CHECK(x.out.find("    unit: MiB\n") != std::string::npos);
    CHECK(x.out.find("    unit: GB/s\n") != std::string::npos);
    result f = ioatsim("params --prefix ioat.", t);
    CHECK(f.out.find("ioat.cbver = 0x30\n") != std::string::npos);
    CHECK(f.out.find("    unit: register value\n") != std::string::npos);
    CHECK(f.out.find("    unit: 0 or 1\n") != std::string::npos);
    CHECK(f.out.find("    unit: log2 of bytes\n") != std::string::npos);
}

TEST_CASE("docs/parameters.md is what tools/docs-parameters writes from ioatsim params") {
    tmpdir t;
    const std::string src = IOATSIM_SOURCE_DIR;
    const std::string cmd = "IOATSIM=" + std::string(IOATSIM_BINARY) + " " + src + "/tools/docs-parameters >" +
                            (t.path / "params.md").string();
    REQUIRE(std::system(cmd.c_str()) == 0);
    const std::string made = slurp(t.path / "params.md");
    CHECK(made.find("| `coherence.atomic_one_hop` | ") != std::string::npos);
    INFO("regenerate with: tools/docs-parameters > docs/parameters.md");
    CHECK(made == slurp(src + "/docs/parameters.md"));
}
