// The verdict: every violation kind expect does not name must be zero; expect
// names any number of summary.json by its path; liveness (hung tasks, removals
// that never finish, a boot that never ends, clients without progress) fails a
// run by default; copies add up; summary.json says how to reproduce the run;
// compare's exit status follows its designs' verdicts.
#include "cli.h"
#include "tests/booted.h"
#include "sw/kernel/memory_watch.h"
#include "platform/scenario.h"
#include "platform/verdict.h"

#include <doctest/doctest.h>

using namespace cli;
using ioatsim::expectations;
using ioatsim::parse_scenario;
using nlohmann::json;

namespace {

const json sample = json::parse(R"({
  "counters": {"violations.hung": 2, "violations.copy_lost": 0, "dmatest.tests": 10},
  "violations": 2,
  "removal": {"completed": true, "latency_us": 120.5, "freed_latency_us": null},
  "copies": {"lost": 0, "submitted": 7}
})");

expectations expect(const std::string& yaml) { return parse_scenario("name: x\nexpect:\n" + yaml, "t.yaml", {}).expect; }

bool passes(const std::string& yaml, const json& summary = sample) {
    for (auto& o : ioatsim::evaluate(expect(yaml), summary, {"[    0.000001] dmatest: Started 1 threads"}))
        if (!o.ok) return false;
    return true;
}

// ioatsim run SCENARIO --quiet --out T/o ARGS
result run_into_o(const tmpdir& t, const std::string& name, const std::string& args) {
    return cli::ioatsim("run " + scenario(name) + " --quiet --out " + (t.path / "o").string() + " " + args, t);
}

fs::path write(const tmpdir& t, const std::string& name, const std::string& text) {
    fs::path p = t.path / name;
    std::ofstream(p) << text;
    return p;
}

}  // namespace

TEST_CASE("a violation fails the run unless expect names its kind, under any other expectation") {
    CHECK_FALSE(passes("  dmatest.tests: 10\n"));
    CHECK_FALSE(passes("  violations: 2\n"));  // the total does not excuse a kind
    CHECK(passes("  violations.hung: 2\n"));
    CHECK(passes("  violations.hung: {min: 1}\n"));
    CHECK_FALSE(passes("  violations.hung: 1\n"));
    json other = sample;
    other["counters"]["violations.copy_lost"] = 1;
    CHECK_FALSE(passes("  violations.hung: 2\n", other));  // naming one kind leaves the others at zero
}

TEST_CASE("expect takes any number or boolean of summary.json by its dotted path, and counters by name") {
    CHECK(passes("  violations.hung: 2\n  removal.completed: true\n  removal.latency_us: {max: 200}\n"
                 "  copies.lost: 0\n  dmatest.tests: {min: 5, max: 10}\n"));
    CHECK_FALSE(passes("  violations.hung: 2\n  removal.completed: false\n"));
    CHECK_FALSE(passes("  violations.hung: 2\n  removal.latency_us: {max: 100}\n"));
    CHECK_FALSE(passes("  violations.hung: 2\n  removal.freed_latency_us: {max: 1e9}\n"));  // no value: never freed
    CHECK(passes("  violations.hung: 2\n  log_contains: [\"Started [0-9]+ threads\"]\n  log_not_contains: [BUG]\n"));
    CHECK_FALSE(passes("  violations.hung: 2\n  log_not_contains: [Started]\n"));
}

TEST_CASE("an expect path that summary.json does not have is an input error listing the paths") {
    try {
        ioatsim::check_expect_paths(expect("  copies.lots: 0\n"), sample);
        FAIL("no error");
    } catch (const ioatsim::input_error& e) {
        std::string m = e.what();
        CHECK(m.rfind("t.yaml:3:3: expect: no number \"copies.lots\" in summary.json (known: ", 0) == 0);
        for (const char* p : {"copies.lost", "removal.completed", "removal.latency_us", "violations", "violations.hung",
                              "dmatest.tests"})
            CHECK_MESSAGE(m.find(p) != std::string::npos, p);
    }
    CHECK_NOTHROW(ioatsim::check_expect_paths(expect("  removal.freed_latency_us: 0\n"), sample));
}

TEST_CASE("a run with a violation its expect does not name exits 1 and says which") {
    tmpdir t;
    result r = run_into_o(t, "seed-unbind-warning.yaml", "--set 'expect={clients.net_dma.copies.submitted: {min: 1000}}'");
    CHECK(r.status == 1);
    CHECK(r.out.find("expectation failed: violations.use_after_free = ") != std::string::npos);
    json s = summary(t.path / "o");
    CHECK(s["verdict"] == "fail");
    CHECK(s["violations"].get<int>() > 0);
}

TEST_CASE("a removal that has not finished when the run ends fails it, unless expected") {
    tmpdir t;
    const std::string run = "run " + scenario("removal-sweep.yaml") + " --quiet --out " + (t.path / "o").string() +
                            " --set software.dmaengine.design=atomic --set 'run.until=\"8 ms\"'" +
                            " --set 'timeline.0.at=\"7.9 ms\"'";
    result r = cli::ioatsim(run, t);
    CHECK(r.status == 1);
    CHECK(slurp(t.path / "o" / "log.txt").find("checker: removal_incomplete: ioh.remove of IOH 1 (surprise), "
                                               "requested at 0.007900 s, has not finished") != std::string::npos);
    CHECK(summary(t.path / "o")["removal"]["completed"] == false);
    CHECK(cli::ioatsim(run + " --set expect.violations.removal_incomplete=1", t).status == 0);
}

TEST_CASE("a removal after the load has ended runs to its end: the run does not stop before the OS hears of it") {
    // dmatest is the last client to finish, at about 11.6 ms; the surprise
    // removal reaches the OS after the timeline is done and software is idle.
    tmpdir t;
    result r = run_into_o(t, "removal-sweep.yaml", "--set software.dmaengine.design=atomic --set 'timeline.0.at=\"11.7 ms\"'");
    CHECK(r.status == 0);
    json s = summary(t.path / "o");
    CHECK(s["clients"]["dmatest"]["work_done"] == 300);  // the load was over
    CHECK(s["removal"]["completed"] == true);
    CHECK(s["os_operations"][0]["done"] == true);
    CHECK(s["sim_time_ps"].get<uint64_t>() > 1'000'000'000'000ull);  // 3.4's resets of the gone functions: 1.6 s
}

TEST_CASE("a configured client that does no work fails the run, naming it") {
    tmpdir t;
    fs::path sc = write(t, "idle.yaml", "name: idle\nsoftware:\n  clients:\n    dmatest: {device: \"0000:80:16.0\"}\n"
                                        "run: {until: 1 ms}\n");
    result r = cli::ioatsim("run " + sc.string() + " --quiet --out " + (t.path / "o").string(), t);
    CHECK(r.status == 1);
    CHECK(slurp(t.path / "o" / "log.txt").find("checker: no_progress: dmatest finished no work in the whole run") !=
          std::string::npos);
}

TEST_CASE("a boot that does not finish fails the run, naming the step") {
    tmpdir t;
    // The removal lands in ioatdma's probe of IOH1: 3.4 spins 200 ms on the
    // reset of the next function's channel.
    result r = cli::ioatsim("run " + scenario("boot-removal.yaml") + " --quiet --out " + (t.path / "o").string() +
                           " --set 'run.until=\"5 ms\"' --set 'timeline.0.at=\"720 us\"'",
                       t);
    CHECK(r.status == 1);
    CHECK(slurp(t.path / "o" / "log.txt").find("checker: boot_incomplete: init has not finished \"ioatdma init\"") !=
          std::string::npos);
}

TEST_CASE("copies add up in every loaded scenario, in all and per client") {
    for (const char* name : {"ioh-remove-surprise.yaml", "seed-unbind-warning.yaml", "unbind-under-load.yaml"}) {
        tmpdir t;
        CHECK(cli::ioatsim("run " + scenario(name) + " --quiet --out " + (t.path / "o").string(), t).status == 0);
        json s = summary(t.path / "o");
        CHECK(s["copies"]["submitted"].get<int64_t>() > 0);
        std::vector<json> ledgers = {s["copies"]};
        for (auto& [client, v] : s["clients"].items()) ledgers.push_back(v["copies"]);
        for (const json& c : ledgers) {
            CAPTURE(name);
            CHECK(c["submitted"] == c["completed"].get<int64_t>() + c["failed_back"].get<int64_t>() +
                                        c["lost"].get<int64_t>() + c["in_flight_at_end"].get<int64_t>());
        }
    }
}

TEST_CASE("summary.json holds what it takes to reproduce the run") {
    tmpdir t;
    REQUIRE(cli::ioatsim("run " + scenario("default.yaml") + " --quiet --out " + (t.path / "o").string() +
                        " --set run.seed=7 --set platform.set.coherence.atomic_one_hop=\"200 ns\"",
                    t)
                .status == 0);
    json s = summary(t.path / "o");
    CHECK(s["program"]["name"] == "ioatsim");
    CHECK(s["program"]["version"].get<std::string>().size() > 0);
    CHECK(s["seed"] == 7);
    CHECK(s["params"]["preset"] == "minimal");
    CHECK(s["params"]["platform"]["coherence.atomic_one_hop"] == "200 ns");
    CHECK(s["params"]["platform"]["ioat.xfercap"] == "20");  // the scenario's own override
    CHECK(s["params"]["platform"]["dram.latency"] == "160 ns");  // a default
    CHECK(s["params"]["run"]["seed"] == 7);
    CHECK(s["params"]["software"]["design"] == "legacy");
    CHECK(s["clients"]["dmatest"]["options"]["iterations"] == 1000);
    CHECK(s["clients"]["dmatest"]["options"]["test_buf_size"] == 16384);
    CHECK(s["throughput"]["whole_run_gbytes_per_s"].get<double>() > 0);
}

TEST_CASE("the action event of the trace names what it acts on") {
    tmpdir t;
    REQUIRE(cli::ioatsim("run " + scenario("ioh-hotplug-os.yaml") + " --quiet --out " + (t.path / "o").string(), t).status == 0);
    std::string trace = slurp(t.path / "o" / "hotplug.jsonl");
    CHECK(trace.find("\"do\":\"ioh.remove\",\"ev\":\"action\",\"ioh\":1,\"mode\":\"surprise\",\"src\":\"timeline\"") !=
          std::string::npos);
    CHECK(trace.find("\"target\":\"IOH 1 (surprise)\"") != std::string::npos);
    CHECK(trace.find("\"cpu\":31,\"do\":\"cpu.offline\"") != std::string::npos);
}

TEST_CASE("bad timelines are input errors naming file, line and column") {
    tmpdir t;
    auto error = [&](const std::string& timeline) {
        fs::path sc = write(t, "s.yaml", "name: s\nplatform: {preset: x3850x5}\nrun: {until: 2 ms}\ntimeline:\n" + timeline);
        result r = cli::ioatsim("run " + sc.string() + " --quiet --out " + (t.path / "o").string(), t);
        CHECK(r.status == 2);
        CHECK_FALSE(fs::exists(t.path / "o" / "summary.json"));
        return r.err;
    };
    CHECK(error("  - {at: 2 ms, do: ioh.remove, ioh: 1, mode: orderly}\n").find(
              "s.yaml:5:10: timeline: at 2 ms is not before run.until: the action would never happen") != std::string::npos);
    CHECK(error("  - {at: 1 ms, do: ioh.remove, ioh: 2, mode: orderly}\n").find(
              "s.yaml:5:37: ioh: 2 does not exist (this platform has IOHs 0-1)") != std::string::npos);
    CHECK(error("  - {at: 1 ms, do: cpu.offline, cpu: 32}\n").find(
              "s.yaml:5:38: cpu: 32 does not exist (this platform has CPUs 0-31)") != std::string::npos);
    std::string dev = error("  - {at: 1 ms, do: pci.unbind, device: \"0000:80:17.0\"}\n");
    CHECK(dev.find("s.yaml:5:40: device: no function at 0000:80:17.0 (this platform has ") != std::string::npos);
    CHECK(dev.find("0000:80:16.7") != std::string::npos);
}

TEST_CASE("compare exits 1 when a design fails that may not, and 0 when only expected ones fail") {
    tmpdir t;
    const std::string cmp = "compare " + scenario("unbind-under-load.yaml") + " --designs legacy,prep_null -j 2 --out " +
                            (t.path / "c").string() + " --set 'run.until=\"12 ms\"'" +
                            " --set 'timeline=[{at: 2 ms, do: pci.unbind, device: \"0000:80:16.7\"}]'";
    CHECK(cli::ioatsim(cmp, t).status == 0);  // legacy fails, as expected by default
    result r = cli::ioatsim(cmp + " --expect-fail ''", t);
    CHECK(r.status == 1);
    CHECK(r.out.find("legacy: failed, and is not in --expect-fail") != std::string::npos);
    CHECK(cli::ioatsim(cmp + " --expect-fail nosuch", t).status == 2);
}

TEST_CASE("each command prints its own usage and options with --help") {
    tmpdir t;
    for (const char* cmd : {"run", "compare", "lspci"}) {
        result r = cli::ioatsim(std::string(cmd) + " --help", t);
        CHECK(r.status == 0);
        CHECK(r.out.find(std::string("usage: ioatsim ") + cmd) == 0);
        CHECK(r.out.find("--set") != std::string::npos);
    }
}

// Boots `yaml`, flips bits `mask` of byte 5 of the first CPU write of `len`
// bytes in DRAM, runs until idle, and checks that the client fails the run
// with one copy_corrupt and a log line holding `names`.
static void flip_byte_5(const std::string& yaml, uint64_t len, uint8_t mask, const std::string& names) {
    ioatsim::booted m(yaml);
    ioatsim::sw::kernel& k = *m.plat.kernel();
    bool flipped = false;
    ioatsim::sw::set_cpu_write_watch(k, [&](uint64_t pa, uint64_t n) {
        if (flipped || n != len) return;
        flipped = true;  // before the write below, which the watch sees too
        uint8_t b = k.load<uint8_t>(pa + 5);
        k.store<uint8_t>(pa + 5, uint8_t(b ^ mask));
    });
    m.run_until_idle();
    CHECK(flipped);
    CHECK(k.rep().get("violations.copy_corrupt") == 1);
    bool named = false;
    for (const std::string& l : k.rep().log_lines()) named = named || l.find(names) != std::string::npos;
    CHECK(named);
}

TEST_CASE("dmatest checks every byte of both buffers: a source byte flipped before the copy is reported where it is") {
    // The first pattern fill of the source buffer has its sixth byte flipped;
    // dmatest's check of that test names srcbuf[0x5].
    flip_byte_5("name: t\nplatform: {preset: minimal}\n"
                "software: {clients: {dmatest: {iterations: 3, test_buf_size: 16384}}}\n",
                16384, 0x10, "srcbuf[0x5] overwritten! Expected");
}

TEST_CASE("net_dma checks every byte a read delivers: a byte flipped in an skb is copy_corrupt at its offset") {
    // The first segment the NIC writes has its sixth byte flipped before the
    // channel copies it to the reader's buffer (reads above copybreak are offloaded).
    flip_byte_5("name: t\nplatform: {preset: x3850x5}\n"
                "software: {clients: {net_dma: {interfaces: 1, readers: 1, reads: 2, read_size: 16384, copybreak: 4096}}}\n",
                1448, 0xff, "checker: copy_corrupt: reader0: read 0 differs at byte 5");
}
