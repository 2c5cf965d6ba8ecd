// IOH1 removed at every 20 us of the first millisecond of
// scenarios/boot-removal.yaml, by surprise and orderly, under atomic with
// fail-back: during PCI enumeration, the IOAT driver's probe and the clients'
// start. A run passes with the removal finished, the OS told of it when the
// platform raised it, and the clients' work done on the surviving IOH0 -- or,
// for a surprise removal, it is one of 3.4's boot failures: the stall (channels
// of the gone IOH still listed fail to start after a 200 ms reset each, and the
// removal's grace period waits behind them) or the oops of a probe whose DCA
// set-up follows an all-ones register offset. Each run is its own process.
#include "cli.h"

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

using namespace cli;

namespace {

struct outcome {
    std::vector<std::string> failed;
    int stalls = 0, oopses = 0;  // surprise removals that met one of 3.4's boot failures
};

// The OS's first word of the removal: the eject request, or the device gone.
double learned_us(const std::string& log, bool surprise) {
    size_t p = log.find(surprise ? "device gone (surprise removal)" : "eject request");
    if (p == std::string::npos) return -1;
    size_t line = log.rfind('\n', p);
    line = line == std::string::npos ? 0 : line + 1;
    return std::stod(log.substr(line + 1, 14)) * 1e6;  // "[    0.000130] ..."
}

// The checker kinds of a log: "ioatsim: checker: KIND: ...".
std::set<std::string> kinds(const std::string& log) {
    std::set<std::string> k;
    const std::string tag = "ioatsim: checker: ";
    for (size_t p = log.find(tag); p != std::string::npos; p = log.find(tag, p + 1)) {
        size_t b = p + tag.size(), e = log.find(':', b);
        k.insert(log.substr(b, e - b));
    }
    return k;
}

// 3.4's failures when IOH1 goes by surprise while its functions are probed or
// their channels first allocated: nothing but these kinds, and either the stall
// (a start that failed on the gone IOH, dmaengine_get reporting it) or the oops
// of ioat3_dca_init following DCAOFFSET's all-ones beyond the BAR, in init.
const char* boot_failure(const std::string& log) {
    const std::set<std::string> allowed = {"boot_incomplete", "hung", "no_progress", "removal_incomplete", "oops"};
    std::set<std::string> k = kinds(log);
    for (const std::string& x : k)
        if (!allowed.count(x)) return nullptr;
    if (!k.count("oops") && log.find("failed to start channel chanerr: 0xffffffff") != std::string::npos &&
        log.find("dmaengine: failed to get dma") != std::string::npos)
        return "stall";
    if (k.count("oops") &&
        log.find("checker: oops: init in ioat3_dca_init: unable to handle kernel paging request") != std::string::npos &&
        log.find("outside every live ioremap") != std::string::npos)
        return "oops";
    return nullptr;
}

result run_at(const tmpdir& t, const fs::path& out, int at_us, bool surprise) {
    return ioatsim("run " + scenario("boot-removal.yaml") + " --quiet --out " + out.string() +
                       " --set 'timeline=[{at: \"" + std::to_string(at_us) + " us\", do: ioh.remove, ioh: 1, " +
                       "mode: " + (surprise ? "surprise" : "orderly") + "}]'",
                   t);
}

outcome sweep(int from_us, int to_us) {
    outcome o;
    tmpdir t;
    for (int at = from_us; at <= to_us; at += 20)
        for (bool surprise : {true, false}) {
            const std::string what = std::to_string(at) + " us " + (surprise ? "surprise" : "orderly");
            fs::path out = t.path / std::to_string(at);
            result r = run_at(t, out, at, surprise);
            std::string log = r.status <= 1 ? slurp(out / "log.txt") : "";
            if (const char* f = r.status == 1 && surprise ? boot_failure(log) : nullptr) {
                ++(std::string(f) == "stall" ? o.stalls : o.oopses);
                continue;
            }
            if (r.status != 0) {
                o.failed.push_back(what + ": exit " + std::to_string(r.status) + " " + r.out.substr(0, 300));
                continue;
            }
            nlohmann::json s = summary(out);
            double learned = learned_us(log, surprise);
            if (!s["removal"]["completed"].get<bool>()) o.failed.push_back(what + ": removal not completed");
            if (learned < at || learned > at + 20)
                o.failed.push_back(what + ": the OS learned of it at " + std::to_string(learned) + " us");
            for (const char* c : {"dmatest", "net_dma", "async_tx"})
                if (s["clients"][c]["work_done"].get<int64_t>() == 0) o.failed.push_back(what + ": " + c + " did nothing");
            if (s["clients"]["dmatest"]["copies"]["completed"].get<int64_t>() == 0)
                o.failed.push_back(what + ": no DMA copy on IOH0");
        }
    return o;
}

void check(int from_us, int to_us) {
    outcome o = sweep(from_us, to_us);
    INFO(join(o.failed));
    CHECK(o.failed.empty());
    MESSAGE("surprise removals between " << from_us << " and " << to_us << " us that stalled the boot: " << o.stalls
                                          << ", that oopsed in ioat3_dca_init: " << o.oopses);
}

}  // namespace

TEST_CASE("boot-time removal from 0 to 180 us passes (IOH0 enumeration)") { check(0, 180); }
TEST_CASE("boot-time removal from 200 to 380 us passes (IOH1 enumeration: the removal waits for the scan)") {
    check(200, 380);
}
TEST_CASE("boot-time removal from 400 to 580 us passes (pciehp, IOH0's probe)") { check(400, 580); }
TEST_CASE("boot-time removal from 600 to 780 us passes or is one of 3.4's boot failures (IOH1's probe)") { check(600, 780); }
TEST_CASE("boot-time removal from 800 to 1000 us passes or is one of 3.4's boot failures (clients starting)") {
    check(800, 1000);
}

TEST_CASE("a surprise removal during IOH1's probe costs each function still to probe a channel reset's 200 ms") {
    tmpdir t;
    result s = run_at(t, t.path / "s", 720, true);
    REQUIRE(s.status == 0);
    std::string log = slurp(t.path / "s" / "log.txt");
    // ioat2_enumerate_channels: the reset times out, no channel is left, the
    // probe fails (-ENODEV, quietly); the removal takes each device lock as
    // init lets go of it, while init goes on to probe the next function.
    CHECK(log.find("0000:80:16.1: channel enumeration error") != std::string::npos);
    CHECK(log.find("0000:80:16.7: channel enumeration error") != std::string::npos);
    nlohmann::json sum = summary(t.path / "s");
    CHECK(sum["removal"]["completed"].get<bool>());
    CHECK(sum["removal"]["latency_us"].get<double>() >= 200000);
    result o = run_at(t, t.path / "o", 720, false);
    CHECK(o.status == 0);
}

TEST_CASE("clients starting on the gone IOH1 stall the boot as 3.4 does") {
    tmpdir t;
    result s = run_at(t, t.path / "s", 880, true);
    std::string log = slurp(t.path / "s" / "log.txt");
    CHECK(s.status == 1);
    CHECK(boot_failure(log) == std::string("stall"));
    // The removal's grace period waits behind init's failing channel starts.
    CHECK(log.find("checker: hung: kacpi_hotplug") != std::string::npos);
    CHECK(log.find("in synchronize_rcu") != std::string::npos);
}
