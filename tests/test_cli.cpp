// The ioatsim program as a user runs it: exit statuses, outputs, errors, determinism.
#include "cli.h"

#include <doctest/doctest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace fs = std::filesystem;
using namespace cli;

namespace {

fs::path write(const tmpdir& t, const std::string& name, const std::string& text) {
    fs::path p = t.path / name;
    std::ofstream(p) << text;
    return p;
}

}  // namespace

TEST_CASE("the default scenario passes end to end and writes every output") {
    tmpdir t;
    fs::path out = t.path / "out";
    result r = ioatsim("run " + scenario("default.yaml") + " --quiet --out " + out.string(), t);
    CHECK(r.status == 0);
    CHECK(r.out.find("verdict: pass") != std::string::npos);
    for (const char* f : {"log.txt", "hotplug.jsonl", "summary.json", "scenario.effective.yaml"})
        CHECK_MESSAGE(fs::file_size(out / f) > 0, f);
    nlohmann::json summary = nlohmann::json::parse(slurp(out / "summary.json"));
    CHECK(summary["counters"]["dmatest.tests"] == 1000);
    CHECK(summary["counters"]["dmatest.failures"] == 0);
    std::string log = slurp(out / "log.txt");
    CHECK(log.find("pci 0000:00:16.0: [8086:3430] type 00 class 0x088000") != std::string::npos);
    CHECK(log.find("terminating after 1000 tests, 0 failures") != std::string::npos);
    CHECK(log.rfind("[    0.0", 0) == 0);  // dmesg time stamps
}

TEST_CASE("two runs of one scenario and seed give byte-identical traces") {
    tmpdir t;
    std::string common = "run " + scenario("default.yaml") + " --quiet --trace full";
    REQUIRE(ioatsim(common + " --out " + (t.path / "a").string(), t).status == 0);
    REQUIRE(ioatsim(common + " --out " + (t.path / "b").string(), t).status == 0);
    std::string a = slurp(t.path / "a" / "trace.jsonl"), b = slurp(t.path / "b" / "trace.jsonl");
    CHECK(a.size() > 1000);
    CHECK(a == b);
    // A different seed takes different random windows.
    REQUIRE(ioatsim(common + " --set run.seed=2 --out " + (t.path / "c").string(), t).status == 0);
    CHECK(slurp(t.path / "c" / "trace.jsonl") != a);
}

TEST_CASE("a surprise IOH removal under load gives the same trace and summary twice, under every design") {
    tmpdir t;
    for (const char* d : {"legacy", "atomic", "percpu", "client_callbacks", "prep_null", "mainline", "percpu_ref"}) {
        CAPTURE(d);
        // 30 ms: the removal at 1.5 ms and what follows, not 3.4's 1.6 s of resets to the end.
        std::string common = "run " + scenario("removal-sweep.yaml") + " --quiet --set 'run.until=\"30 ms\"'" +
                             " --set software.dmaengine.design=" + d;
        int first = ioatsim(common + " --out " + (t.path / "a").string(), t).status;
        CHECK((first == 0 || first == 1));
        CHECK(ioatsim(common + " --out " + (t.path / "b").string(), t).status == first);
        std::string a = slurp(t.path / "a" / "hotplug.jsonl");
        CHECK(a.find("\"link.down\"") != std::string::npos);
        CHECK(a == slurp(t.path / "b" / "hotplug.jsonl"));
        nlohmann::json sa = summary(t.path / "a"), sb = summary(t.path / "b");
        sa.erase("wall_time_s");
        sb.erase("wall_time_s");
        CHECK(sa == sb);
    }
}

TEST_CASE("a failed expectation exits 1 and names it") {
    tmpdir t;
    result r = ioatsim("run " + scenario("default.yaml") + " --quiet --set expect.dmatest.tests=999 --out " +
                           (t.path / "o").string(), t);
    CHECK(r.status == 1);
    CHECK(r.out.find("dmatest.tests = 1000, expected 999") != std::string::npos);
    CHECK(r.out.find("verdict: fail") != std::string::npos);
}

TEST_CASE("a scenario error exits 2 with file, line and column, and writes nothing") {
    tmpdir t;
    fs::path bad = write(t, "bad.yaml", "name: bad\nrun:\n  until: 2 ms\n  seeed: 3\n");
    fs::path out = t.path / "o";
    result r = ioatsim("run " + bad.string() + " --out " + out.string(), t);
    CHECK(r.status == 2);
    CHECK(r.err.find(bad.string() + ":4:3:") != std::string::npos);
    CHECK(r.err.find("seeed") != std::string::npos);
    CHECK_FALSE(fs::exists(out));
}

TEST_CASE("bad command-line values exit 2") {
    tmpdir t;
    CHECK(ioatsim("run " + scenario("default.yaml") + " --set run.until=soon", t).status == 2);
    CHECK(ioatsim("run " + scenario("default.yaml") + " --set platform.set.ioat.xfercup=12", t).status == 2);
    CHECK(ioatsim("run", t).status == 2);
    CHECK(ioatsim("run " + scenario("default.yaml") + " --bogus", t).status == 2);
    CHECK(ioatsim("frobnicate", t).status == 2);
    CHECK(ioatsim("run /nonexistent.yaml", t).status == 2);
}

TEST_CASE("--help and --version exit 0") {
    tmpdir t;
    result h = ioatsim("--help", t);
    CHECK(h.status == 0);
    CHECK(h.out.find("ioatsim run SCENARIO") != std::string::npos);
    result v = ioatsim("--version", t);
    CHECK(v.status == 0);
    CHECK(v.out.find("ioatsim ") == 0);
}

TEST_CASE("lspci prints the x3850 X5 tree and the bound drivers") {
    tmpdir t;
    result r = ioatsim("lspci --preset x3850x5", t);
    CHECK(r.status == 0);
    CHECK(r.out.find("-+-[0000:80]-+-01.0  Intel Corporation 5520/5500/X58 I/O Hub PCI Express Root Port 1") == 0);
    CHECK(r.out.find(" \\-[0000:00]-+-01.0") != std::string::npos);
    CHECK(r.out.find("80:16.7 System peripheral [0880]: Intel Corporation 5520/5500/X58 Chipset QuickData "
                     "Technology Device [8086:342c]") != std::string::npos);
    size_t drivers = 0;
    for (size_t p = 0; (p = r.out.find("Kernel driver in use: ioatdma", p)) != std::string::npos; ++p) ++drivers;
    CHECK(drivers == 16);
    result s = ioatsim("lspci " + scenario("default.yaml"), t);
    CHECK(s.status == 0);
    CHECK(s.out.find("-[0000:00]---16.0") == 0);
    CHECK(ioatsim("lspci --preset nonesuch", t).status == 2);
    CHECK(ioatsim("lspci", t).status == 2);
}

TEST_CASE("raid6 recovery falls back to the CPU when IOAT lacks PQ, with the same results") {
    tmpdir t;
    std::string common = "run " + scenario("raid6-async-tx.yaml") + " --quiet --set platform.set.ioat.dmacapability=0x140"
                         " --set expect.async_tx.ops_dma=0 --set expect.async_tx.ops_cpu=1200";
    result r = ioatsim(common + " --out " + (t.path / "o").string(), t);
    CHECK(r.status == 0);
    CHECK(nlohmann::json::parse(slurp(t.path / "o" / "summary.json"))["counters"]["raid6.recoveries"] == 200);
}

TEST_CASE("the seed scenario prints the report's lines in the report's order, then the consequences") {
    tmpdir t;
    result r = ioatsim("run " + scenario("seed-unbind-warning.yaml") + " --quiet --out " + (t.path / "o").string(), t);
    REQUIRE(r.status == 0);
    std::string log = slurp(t.path / "o" / "log.txt");
    const char* order[] = {"ioatdma 0000:80:16.7: Removing dma and dca services",
                           "WARNING: at drivers/dma/dmaengine.c:831 dma_async_device_unregister+0xd5/0xf0()",
                           "dma_async_device_unregister called while 17 clients hold a reference",
                           "ioatdma 0000:80:16.7: dma_pool_destroy dma_desc_pool, ffff88",
                           "ioatdma 0000:80:16.7: dma_pool_destroy completion_pool, ffff88",
                           "checker: use_after_free",
                           "checker: hung",
                           "checker: leaked_pins: ioatdma holds 17 module references"};
    size_t at = 0;
    for (const char* line : order) {
        size_t p = log.find(line, at);
        CHECK_MESSAGE(p != std::string::npos, line);
        if (p != std::string::npos) at = p;
    }
    // One busy line per busy page: 256 descriptors on four pages, one completion page.
    size_t busy = 0;
    for (size_t p = 0; (p = log.find(" busy\n", p)) != std::string::npos; ++p) ++busy;
    CHECK(busy == 5);
}

TEST_CASE("compare runs each design in its own process and tables the outcomes") {
    tmpdir t;
    fs::path out = t.path / "cmp";
    result r = ioatsim("compare " + scenario("unbind-under-load.yaml") + " --designs legacy,prep_null --jobs 2 --out " +
                           out.string() + " --set 'run.until=\"12 ms\"'" +
                           " --set 'timeline=[{at: 2 ms, do: pci.unbind, device: \"0000:80:16.7\"}]'",
                       t);
    CHECK(r.status == 0);
    std::string md = slurp(out / "compare.md"), csv = slurp(out / "compare.csv");
    CHECK(md.find("| legacy | yes | fail |") != std::string::npos);  // the scenario asks for fail-back
    CHECK(md.find("| prep_null | yes | pass | none |") != std::string::npos);
    CHECK(r.out.find("| prep_null | yes | pass | none |") != std::string::npos);
    CHECK(csv.rfind("design,failback,verdict,violations,completed,failed_back,cpu,lost,in_flight_at_end", 0) == 0);
    CHECK(std::count(csv.begin(), csv.end(), '\n') == 3);
    for (const char* d : {"legacy", "prep_null"}) CHECK(fs::file_size(out / d / "summary.json") > 0);
    // The legacy run's own summary says what failed; compare only gathers it.
    CHECK(nlohmann::json::parse(slurp(out / "legacy" / "summary.json"))["counters"]["violations.leaked_pins"] == 1);
}

TEST_CASE("compare refuses an unknown design before running anything") {
    tmpdir t;
    fs::path out = t.path / "cmp";
    result r = ioatsim("compare " + scenario("unbind-under-load.yaml") + " --designs legacy,refcount --out " +
                           out.string(),
                       t);
    CHECK(r.status == 2);
    CHECK(r.err.find("--designs: unknown design \"refcount\"") != std::string::npos);
    CHECK_FALSE(fs::exists(out));
}

TEST_CASE("params lists every delay software can observe, with its value, where it was set and its source") {
    tmpdir t;
    result r = ioatsim("params --preset x3850x5", t);
    REQUIRE(r.status == 0);
    for (const char* key : {"cpu.mmio_read = 1 us", "cpu.mmio_write = 100 ns", "msi.delivery = 500 ns",
                            "cost.irq_entry = 500 ns", "cost.ioat_prep_desc", "cost.ioat_submit",
                            "cost.ioat_cleanup_desc", "cost.net_dma_syscall", "cost.cpu_relax"})
        CHECK_MESSAGE(r.out.find(std::string("\n") + key) != std::string::npos, key);
    // Every entry names a source or says it is an estimate.
    size_t entries = 0, sourced = 0;
    for (size_t p = r.out.find(" = "); p != std::string::npos; p = r.out.find(" = ", p + 1)) ++entries;
    for (size_t p = r.out.find("    source: "); p != std::string::npos; p = r.out.find("    source: ", p + 1))
        sourced += r.out.compare(p + 12, 1, "\n") != 0;
    CHECK(entries > 40);
    CHECK(sourced == entries);
    // The preset's value and line, and an override's origin.
    result j = ioatsim("params --preset jasper-forest --prefix ioat.cbver --set platform.set.ioat.xfercap=16", t);
    CHECK(j.out.find("ioat.cbver = 0x32\n    set at: ") != std::string::npos);
    CHECK(j.out.find("jasper-forest.yaml:") != std::string::npos);
    CHECK(j.out.find("ioat.xfercap") == std::string::npos);  // not under the prefix
    result x = ioatsim("params --preset minimal --prefix ioat.xfercap --set platform.set.ioat.xfercap=16", t);
    CHECK(x.out.find("ioat.xfercap = 16\n    set at: --set") != std::string::npos);
    CHECK(ioatsim("params --preset nosuch", t).status == 2);
}

TEST_CASE("summary.json splits shared-line costs into the design's references and the path, and prices the offload") {
    tmpdir t;
    auto run = [&](const std::string& design) {
        fs::path out = t.path / design;
        ioatsim("run " + scenario("unbind-under-load.yaml") + " --quiet --set software.dmaengine.design=" + design +
                    " --out " + out.string(),
                t);
        return summary(out);
    };
    nlohmann::json legacy = run("legacy"), atomic = run("atomic");
    // 3.4's path shares lines too: cookies, client_count, locks, completion words.
    CHECK(legacy["shared_lines"]["path"]["transfers"].get<int64_t>() > 1000);
    CHECK(legacy["shared_lines"]["path"]["ns_per_dma_op"].get<double>() > 0);
    CHECK(legacy["shared_lines"]["references"]["transfers"].get<int64_t>() == 0);
    CHECK(atomic["shared_lines"]["references"]["transfers"].get<int64_t>() > 100);
    const nlohmann::json& kib = legacy["offload"]["net_dma_per_kib"];
    CHECK(kib["offload_cpu_ns"].get<double>() > 0);
    CHECK(kib["cpu_copy_ns"].get<double>() == doctest::Approx(1024.0 / 5.0));
    CHECK(kib["gain_ns"].get<double>() ==
          doctest::Approx(kib["cpu_copy_ns"].get<double>() - kib["offload_cpu_ns"].get<double>()));
}
