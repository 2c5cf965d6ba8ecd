// What each design does to the driver and the clients of one IOAT function that
// is unbound under dmatest: whether prep fails afterwards, how long the removal
// takes, and whether the memory is freed. Each run is its own process.
#include "cli.h"

#include <doctest/doctest.h>

using namespace cli;

namespace {

struct unbound {
    int status;
    nlohmann::json summary;
    std::string log;
};

// minimal: one IOAT function, dmatest on it; unbound at 1 ms, run to 250 ms so
// that a thread sleeping 100 ms after a prep error wakes twice.
unbound unbind_under_dmatest(const std::string& design, const std::string& extra = "") {
    tmpdir t;
    fs::path sc = t.path / "s.yaml";
    std::ofstream(sc) << "name: s\nplatform: {preset: minimal}\nsoftware:\n  dmaengine: {design: " << design << extra
                      << "}\n  clients:\n    dmatest: {threads_per_chan: 1}\nrun: {until: 250 ms}\ntimeline:\n"
                         "  - {at: 1 ms, do: pci.unbind, device: \"0000:00:16.0\"}\n";
    result r = ioatsim("run " + sc.string() + " --quiet --out " + (t.path / "o").string(), t);
    return {r.status, summary(t.path / "o"), slurp(t.path / "o" / "log.txt")};
}

}  // namespace

TEST_CASE("prep_null: after removal every prep of the channel fails, and its memory stays") {
    unbound u = unbind_under_dmatest("prep_null");
    CHECK(u.summary["counters"]["dmatest.prep_errors"].get<int>() >= 2);
    CHECK(u.log.find("dma0chan0-copy0: #") != std::string::npos);
    CHECK(u.log.find("prep error") != std::string::npos);
    CHECK(u.summary["removal"]["completed"] == true);
    CHECK(u.summary["removal"]["latency_us"].get<double>() < 100);  // nothing waited for
    CHECK(u.summary["removal"]["freed_latency_us"].is_null());     // dmatest still holds the channel
    CHECK(u.summary["counters"]["violations.use_after_free"] == 0);
}

TEST_CASE("mainline: the channel is shut down first, prep fails, and the memory waits for the last reference") {
    unbound u = unbind_under_dmatest("mainline");
    CHECK(u.summary["counters"]["dmatest.prep_errors"].get<int>() >= 2);
    CHECK(u.summary["removal"]["latency_us"].get<double>() < 100);
    CHECK(u.summary["removal"]["freed_latency_us"].is_null());
    CHECK(u.summary["counters"]["violations.use_after_free"] == 0);
}

TEST_CASE("percpu_ref: the submission gate is killed and its grace period waited for before shutdown") {
    unbound u = unbind_under_dmatest("percpu_ref");
    CHECK(u.summary["counters"]["dmatest.prep_errors"].get<int>() >= 2);
    CHECK(u.summary["removal"]["latency_us"].get<double>() >= 3000);  // one normal grace period
    CHECK(u.log.find("dmatest") != std::string::npos);
    CHECK(u.summary["counters"]["violations.use_after_free"] == 0);
}

TEST_CASE("atomic: the removal waits for dmatest's copy, whose callback only the 100 ms watchdog brings") {
    // 3.4's ioat_dma_remove turns interrupts off before unregister, and the 2012
    // unregister then waits for the use dmatest holds across its copy.
    unbound u = unbind_under_dmatest("atomic");
    CHECK(u.status == 1);
    // Unbound at 1 ms, waiting from the unregister (4 ms, after a grace period)
    // to the watchdog's callback at 101 ms.
    CHECK(u.log.find("checker: hung: unbind (cpu") != std::string::npos);
    CHECK(u.log.find(") was blocked for 97.") != std::string::npos);
    CHECK(u.log.find("in dma_async_device_unregister: the uses of dma0chan0 from 0.004000 s") != std::string::npos);
    CHECK(u.log.find("dma0chan0-copy0: dma0chan0 is going away, stopping") != std::string::npos);
    CHECK(u.summary["counters"]["dmatest.prep_errors"] == 0);
    CHECK(u.summary["removal"]["latency_us"].get<double>() >= 100000);
    CHECK(u.summary["removal"]["freed_latency_us"].is_number());
}

TEST_CASE("legacy: the unbound channel's pools are destroyed under dmatest") {
    unbound u = unbind_under_dmatest("legacy");
    CHECK(u.status == 1);
    CHECK(u.summary["counters"]["violations.pool_busy_at_destroy"].get<int>() >= 1);
}

TEST_CASE("fail-back is an option: the era's default, or what the scenario says") {
    CHECK(unbind_under_dmatest("mainline").summary["params"]["software"]["failback"] == false);
    CHECK(unbind_under_dmatest("percpu_ref").summary["params"]["software"]["failback"] == true);
    CHECK(unbind_under_dmatest("atomic", ", failback: true").summary["params"]["software"]["failback"] == true);
}

// dmatest ends its 16 tests after the unbind and gives its channel back: 3.4's
// dma_release_channel reaches the module through dev->driver, NULL since the
// unbind, and the thread dies in the oops; v5.6 keeps the module in the
// dma_device.
static unbound release_after_unbind(const std::string& design) {
    tmpdir t;
    fs::path sc = t.path / "s.yaml";
    std::ofstream(sc) << "name: s\nplatform: {preset: minimal}\nsoftware:\n  dmaengine: {design: " << design
                      << "}\n  clients:\n    dmatest: {threads_per_chan: 1, iterations: 16}\nrun: {until: 500 ms}\n"
                         "timeline:\n  - {at: 1 ms, do: pci.unbind, device: \"0000:00:16.0\"}\n";
    result r = ioatsim("run " + sc.string() + " --quiet --out " + (t.path / "o").string(), t);
    return {r.status, summary(t.path / "o"), slurp(t.path / "o" / "log.txt")};
}

TEST_CASE("legacy and prep_null: dma_release_channel after unbind oopses on the NULL driver, mainline does not") {
    for (const char* d : {"legacy", "prep_null"}) {
        INFO(d);
        unbound u = release_after_unbind(d);
        CHECK(u.status == 1);
        CHECK(u.summary["counters"]["violations.oops"] == 1);
        CHECK(u.log.find("BUG: unable to handle kernel NULL pointer dereference in dma_chan_to_owner (dma0chan0: "
                         "0000:00:16.0 has no driver)") != std::string::npos);
        CHECK(u.log.find("Process dma0chan0-copy0 killed") != std::string::npos);
    }
    unbound m = release_after_unbind("mainline");
    CHECK(m.status == 0);
    CHECK(m.summary["counters"]["violations.oops"] == 0);
    CHECK(m.log.find("dma0chan0-copy0: terminating after 16 tests") != std::string::npos);
}
