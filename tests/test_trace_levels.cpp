// Trace levels: hotplug.jsonl holds the behaviour of removal, compact, with the
// per-descriptor activity as counts; full keeps every event; none writes no trace.
#include "cli.h"
#include "models/core/report.h"
#include "models/core/trace_kinds.h"

#include <doctest/doctest.h>

#include <set>

namespace fs = std::filesystem;
using namespace cli;
using nlohmann::json;
using namespace ioatsim;

namespace {

std::vector<json> lines(const fs::path& p) {
    std::vector<json> out;
    std::istringstream in(slurp(p));
    std::string l;
    while (std::getline(in, l)) out.push_back(json::parse(l));
    return out;
}

}  // namespace

TEST_CASE("hotplug.jsonl of ioh-remove-surprise is under 200 KB: state changes as lines, descriptors as counts") {
    tmpdir t;
    result r = cli::ioatsim("run " + scenario("ioh-remove-surprise.yaml") + " --quiet --out " + (t.path / "o").string(), t);
    REQUIRE((r.status == 0 || r.status == 1));
    const fs::path h = t.path / "o" / "hotplug.jsonl";
    CHECK(fs::file_size(h) < 200 * 1024);
    CHECK_FALSE(fs::exists(t.path / "o" / "trace.jsonl"));
    std::set<std::string> evs;
    uint64_t desc_counted = 0, last_t = 0;
    bool action = false, end = false, removal_narrated = false;
    for (const json& e : lines(h)) {
        CHECK(e["t"].get<uint64_t>() >= last_t);  // time order
        last_t = e["t"].get<uint64_t>();
        evs.insert(e["ev"].get<std::string>());
        if (e.contains("activity"))
            for (auto& [src, counts] : e["activity"].items())
                if (counts.contains("desc")) desc_counted += counts["desc"].get<uint64_t>();
        if (e["src"] == "timeline" && e["ev"] == "action" && e["do"] == "ioh.remove") {
            action = true;
            CHECK(e["activity"].size() > 10);  // every channel and CPU busy before the removal
        }
        if (e["src"] == "run" && e["ev"] == "end") end = true;
        if (e["ev"] == "printk" && e["msg"] == "device gone (surprise removal)") removal_narrated = true;
    }
    CHECK(action);
    CHECK(end);
    CHECK(removal_narrated);
    CHECK(evs.count("link.down"));
    CHECK(evs.count("power.off"));
    CHECK_FALSE(evs.count("desc"));  // never a line per descriptor
    CHECK_FALSE(evs.count("irq"));
    CHECK_FALSE(evs.count("sched.in"));
    json s = summary(t.path / "o");
    CHECK(desc_counted > 1000);  // and each one counted
}

TEST_CASE("--trace full adds trace.jsonl with every event, --trace none writes neither, and the hotplug lines do not change") {
    tmpdir t;
    std::string common = "run " + scenario("removal-sweep.yaml") + " --quiet --out ";
    REQUIRE(cli::ioatsim(common + (t.path / "h").string(), t).status <= 1);
    REQUIRE(cli::ioatsim(common + (t.path / "f").string() + " --trace full", t).status <= 1);
    REQUIRE(cli::ioatsim(common + (t.path / "n").string() + " --trace none", t).status <= 1);
    CHECK(slurp(t.path / "h" / "hotplug.jsonl") == slurp(t.path / "f" / "hotplug.jsonl"));
    CHECK_FALSE(fs::exists(t.path / "n" / "hotplug.jsonl"));
    CHECK_FALSE(fs::exists(t.path / "n" / "trace.jsonl"));
    CHECK(summary(t.path / "n")["verdict"] == summary(t.path / "h")["verdict"]);
    // Every event as it was traced (read as text: a removal's flood of URs makes millions).
    const std::string full = slurp(t.path / "f" / "trace.jsonl");
    auto count = [&](const std::string& what) {
        size_t n = 0;
        for (size_t at = full.find(what); at != std::string::npos; at = full.find(what, at + 1)) ++n;
        return n;
    };
    // summary.json is written before the run's `end` line.
    CHECK(count("\n") == summary(t.path / "f")["trace_events"].get<size_t>() + 1);
    CHECK(count("\"ev\":\"desc\"") > 100);
    CHECK(count("\"counts\":") == 0);  // raw events only
    // Every line of the log is an event, but the checker's own (traced as violations).
    const std::string log = slurp(t.path / "f" / "log.txt");
    CHECK(count("\"ev\":\"printk\"") + count("\"ev\":\"oops\"") + count("\"ev\":\"violation\"") ==
          size_t(std::count(log.begin(), log.end(), '\n')));
    // A run left in the folder at another level is not taken for this one's.
    REQUIRE(cli::ioatsim(common + (t.path / "f").string() + " --trace hotplug", t).status <= 1);
    CHECK_FALSE(fs::exists(t.path / "f" / "trace.jsonl"));
    CHECK(cli::ioatsim(common + (t.path / "x").string() + " --trace some", t).status == 2);
}

TEST_CASE("a line carries the counts of its source since its previous line, and phase lines carry everything") {
    tmpdir t;
    report& r = sim_report();
    r.open_traces(trace_level::hotplug, (t.path / "h.jsonl").string(), "");
    r.trace(10, "ioh0.ioat0.chan0", "desc", json_obj().set("len", 64));
    r.trace(20, "ioh0.ioat0.chan0", "desc", json_obj().set("len", 64));
    r.trace(25, "cpu1", "irq", json_obj().set("vector", 48));
    r.trace(30, "ioh0.ioat0.chan0", "reset");
    r.trace(40, "timeline", "action", json_obj().set("do", "ioh.remove"));
    r.trace(50, "ioh0.ioat0.chan0", "desc", json_obj().set("len", 64));
    r.log(60, "ioatdma 0000:00:16.0: Removing dma and dca services");
    r.log(61, "WARNING: at drivers/dma/dmaengine.c:831 dma_async_device_unregister+0xd5/0xf0()");
    r.close_traces(true);
    std::vector<json> l = lines(t.path / "h.jsonl");
    REQUIRE(l.size() == 5);
    CHECK(l[0]["ev"] == "reset");
    CHECK(l[0]["counts"] == json{{"desc", 2}});
    CHECK(l[1]["activity"] == json{{"cpu1", {{"irq", 1}}}, {"ioh0.ioat0.chan0", {{"desc", 2}}}});
    CHECK(l[2]["src"] == "ioatdma 0000:00:16.0");
    CHECK(l[2]["msg"] == "Removing dma and dca services");
    CHECK(l[3]["ev"] == "oops");
    CHECK(l[3]["src"] == "kernel");
    CHECK(l[4]["ev"] == "end");
    CHECK(l[4]["activity"] == json{{"ioh0.ioat0.chan0", {{"desc", 1}}}});
}

TEST_CASE("printk lines are events named by their prefix, and text numbers are masked for behaviour") {
    auto p = parse_printk("ioatdma 0000:80:16.7: Removing dma and dca services");
    CHECK(p.src == "ioatdma 0000:80:16.7");
    CHECK(p.msg == "Removing dma and dca services");
    CHECK(parse_printk("pciehp 0000:80:01.0:pcie04: Slot #17 AttnBtn+").src == "pciehp 0000:80:01.0:pcie04");
    CHECK(parse_printk("dmaengine: dma8chan0: no users left").src == "dmaengine");
    CHECK(parse_printk("dma_async_device_unregister called while 17 clients hold a reference").src == "kernel");
    CHECK(parse_printk("BUG: double free of dma_chan dma3chan0").ev == "oops");
    CHECK(parse_printk("BUG: double free of dma_chan dma3chan0").src == "kernel");
    CHECK(parse_printk("ioatdma 0000:80:16.7: BUG: completion address").ev == "oops");
    CHECK(parse_printk("CPU 3 is now offline").ev == "printk");
    CHECK(mask_numbers("no users left after 3012 us, dropping 17 client references (status 0).") ==
          "no users left after # us, dropping # client references (status #).");
    CHECK(mask_numbers("dma8chan0 on 0000:80:16.7 at 0x1f from 0.002345 s, cpu3") ==
          "dma8chan0 on 0000:80:16.7 at 0x1f from # s, cpu#");  // the task's CPU: the scheduler's
    CHECK(mask_numbers("-5 and +2.5 but not 3. or v1.2") == "# and # but not #. or v1.2");
}

TEST_CASE("the table classifies every kind, what no row names is a line, and every row is documented") {
    CHECK_FALSE(classify("ioh1.ioat7.chan0", "desc").line);
    CHECK(classify("ioh1.ioat7.chan0", "reset").line);
    CHECK_FALSE(classify("tcp_recvmsg", "printk", "dma_cookie < 0").line);
    CHECK_FALSE(classify("dma0chan0-copy0", "printk", "#12: prep error").line);
    CHECK(classify("dma0chan0-copy0", "printk", "dma0chan0 is going away, stopping").line);
    CHECK(classify("checker", "violation").unordered);
    CHECK(classify("timeline", "action").phase);
    CHECK(classify("somewhere", "something.new").line);
    CHECK(is_figure(classify("ioatdma 0000:80:16.7", "terminate_all"), "failed_back"));
    CHECK_FALSE(is_figure(classify("ioatdma 0000:80:16.7", "terminate_all"), "src"));
    const std::string doc = slurp(fs::path(IOATSIM_SOURCE_DIR) / "docs" / "trace-format.md");
    for (const trace_kind& k : trace_kinds()) {
        if (std::string(k.ev) == "*") continue;
        CAPTURE(k.ev);
        CHECK(doc.find("`" + std::string(k.ev) + "`") != std::string::npos);
    }
}
