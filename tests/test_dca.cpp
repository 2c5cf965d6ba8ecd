// DCA as Linux 3.4 has it: the IOAT functions as providers, an igb-like NIC as
// requester, CB3.0 blocking on two IOHs, X86_FEATURE_DCA and RAID, and what the
// requester does when a provider goes. Each run is its own process; the DCA
// events come from hotplug.jsonl.
#include "cli.h"

#include <doctest/doctest.h>

#include <cctype>
#include <string>
#include <vector>

using namespace cli;

namespace {

struct run_result {
    int status;
    nlohmann::json summary;
    std::string log;
    std::vector<nlohmann::json> dca;  // src "dca" trace events and unclaimed tags, in order

    int64_t counter(const std::string& name) const { return summary["counters"][name].get<int64_t>(); }
    std::vector<nlohmann::json> events(const std::string& ev) const {
        std::vector<nlohmann::json> v;
        for (const auto& e : dca)
            if (e["ev"] == ev) v.push_back(e);
        return v;
    }
    bool logged(const std::string& s) const { return log.find(s) != std::string::npos; }
};

run_result run_file(const std::string& file, const std::string& args, const tmpdir& t) {
    result r = ioatsim("run " + file + " --quiet --out " + (t.path / "o").string() + " " + args, t);
    run_result rr{r.status, summary(t.path / "o"), slurp(t.path / "o" / "log.txt"), {}};
    std::istringstream in(slurp(t.path / "o" / "hotplug.jsonl"));
    for (std::string line; std::getline(in, line);) {
        if (line.empty()) continue;
        nlohmann::json e = nlohmann::json::parse(line);
        if (e["src"] == "dca" || e["ev"] == "dca.unclaimed_tag") rr.dca.push_back(e);
    }
    return rr;
}

// A scenario on `preset` with the NIC at 01:00.0 (by default on four queues at
// 1 Gb/s), `extra` appended (cmdline, timeline) and run for 5 ms.
constexpr const char* gigabit = "queues: 4, interval: 12 us";
run_result run(const std::string& preset, const std::string& dca, const std::string& extra = "") {
    tmpdir t;
    fs::path sc = t.path / "s.yaml";
    std::ofstream(sc) << "name: s\nplatform: {preset: " << preset << "}\nsoftware:\n"
                      << "  clients:\n    dca: {" << dca << "}\n" << extra << "run: {until: 5 ms}\n";
    return run_file(sc.string(), "", t);
}

// Log lines naming DCA other than the banner and igb's "DCA enabled/disabled".
std::vector<std::string> other_dca_lines(const std::string& log) {
    std::vector<std::string> v;
    std::istringstream in(log);
    for (std::string l; std::getline(in, l);) {
        std::string low = l;
        for (char& c : low) c = char(std::tolower(static_cast<unsigned char>(c)));
        if (low.find("dca") == std::string::npos) continue;
        if (l.find("dca service started, version 1.12.1") != std::string::npos) continue;
        if (l.find("igb 0000:01:00.0: DCA enabled") != std::string::npos) continue;
        if (l.find("igb 0000:01:00.0: DCA disabled") != std::string::npos) continue;
        v.push_back(l);
    }
    return v;
}

}  // namespace

TEST_CASE("dca westmere-ep-2s: each IOAT function registers a provider and the NIC's writes carry tags") {
    run_result r = run("westmere-ep-2s", gigabit);
    CHECK(r.status == 0);
    auto reg = r.events("provider.register");
    REQUIRE(reg.size() == 8);
    for (unsigned i = 0; i < 8; ++i) {
        CHECK(reg[i]["device"] == "0000:00:16." + std::to_string(i));
        CHECK(reg[i]["provider"] == "dca" + std::to_string(i));
    }
    CHECK(r.events("notify").size() == 8);  // one DCA_PROVIDER_ADD each
    // igb probes after ioatdma: the newest provider, first on the domain's list.
    auto add = r.events("requester.add");
    REQUIRE(add.size() == 1);
    CHECK(add[0]["provider"] == "dca7");
    CHECK(add[0]["requester"] == "0000:01:00.0");
    CHECK(add[0]["slot"] == 0);
    CHECK(r.logged("igb 0000:01:00.0: DCA enabled"));
    CHECK(r.counter("igb.dca_tagged_writes") > 0);
    CHECK(r.counter("igb.dca_tagged_writes") == 2 * r.counter("igb.rx_packets"));  // frame and descriptor
    CHECK(r.counter("dca.prefetch_hints") == r.counter("igb.dca_tagged_writes"));
    CHECK(r.counter("dca.unclaimed_tags") == 0);
    CHECK(r.counter("violations.dca_stale_tag") == 0);
}

TEST_CASE("dca x3850x5: the second IOH's CB3.0 function blocks DCA for good, silently") {
    for (bool before : {false, true}) {
        CAPTURE(before);
        run_result r = run("x3850x5", std::string(gigabit) + (before ? ", before_ioatdma: true" : ""));
        CHECK(r.status == 0);
        auto reg = r.events("provider.register");
        REQUIRE(reg.size() == 8);  // IOH0's; none of IOH1's
        for (const auto& e : reg) CHECK(e["device"].get<std::string>().rfind("0000:00:16.", 0) == 0);
        auto blocked = r.events("providers.blocked");
        REQUIRE(blocked.size() == 1);
        CHECK(blocked[0]["device"] == "0000:80:16.0");
        auto gone = r.events("providers.unregistered");
        REQUIRE(gone.size() == 1);
        CHECK(gone[0]["providers"] == 8);  // no provider left registered
        CHECK(r.events("provider.unregister").empty());  // ioatdma still holds them
        CHECK(r.counter("igb.rx_packets") > 1000);
        CHECK(r.counter("violations.dca_stale_tag") == 0);
        CHECK(other_dca_lines(r.log).empty());  // dca-core prints nothing when it blocks
        if (!before) {
            // igb probes after blocking: no domain, no tag.
            CHECK(r.events("requester.add").empty());
            CHECK_FALSE(r.logged("DCA enabled"));
            CHECK(r.counter("igb.dca_tagged_writes") == 0);
        } else {
            // Added on 00:16.0's DCA_PROVIDER_ADD, told to go when IOH1 blocks.
            auto add = r.events("requester.add"), rem = r.events("requester.remove");
            REQUIRE(add.size() == 1);
            REQUIRE(rem.size() == 1);
            CHECK(add[0]["provider"] == "dca0");
            CHECK(rem[0]["t"].get<uint64_t>() >= blocked[0]["t"].get<uint64_t>());
            CHECK(r.logged("igb 0000:01:00.0: DCA disabled"));
            CHECK(r.counter("igb.dca_tagged_writes") > 0);
            CHECK(r.counter("igb.dca_tagged_writes") < 400);  // a few frames before 0.73 ms
            CHECK(r.counter("dca.unclaimed_tags") == 0);
        }
    }
}

TEST_CASE("dca clearcpuid=146 or ioat_dca_enabled=0: no provider and the NIC runs untagged") {
    for (const char* cmdline : {"clearcpuid=146", "ioatdma.ioat_dca_enabled=0"}) {
        CAPTURE(cmdline);
        run_result r = run("westmere-ep-2s", gigabit, std::string("  cmdline: \"") + cmdline + "\"\n");
        CHECK(r.status == 0);
        CHECK(r.events("provider.register").empty());
        CHECK(r.events("requester.add").empty());
        CHECK_FALSE(r.logged("DCA enabled"));
        CHECK(r.counter("igb.dca_tagged_writes") == 0);
        CHECK(r.counter("igb.rx_packets") > 1000);
    }
}

TEST_CASE("dca jasper-forest: XOR and PQ reach async_tx only with X86_FEATURE_DCA cleared") {
    // 3.4's ioat3_dma_probe drops them when the system has DCA, whatever the
    // module parameter says.
    struct boot { const char* cmdline; bool raid; size_t providers; };
    for (boot b : {boot{"clearcpuid=146", true, 0}, boot{"ioatdma.ioat_dca_enabled=1", false, 8},
                   boot{"ioatdma.ioat_dca_enabled=0", false, 0}}) {
        CAPTURE(b.cmdline);
        tmpdir t;
        run_result r = run_file(scenario("raid6-async-tx.yaml"),
                                std::string("--set software.cmdline=") + b.cmdline +
                                    (b.raid ? "" : " --set expect.async_tx.ops_dma=0 --set 'expect.async_tx.ops_cpu={min: 1}'"),
                                t);
        CHECK(r.status == 0);
        CHECK(r.events("provider.register").size() == b.providers);
        CHECK(r.counter("raid6.recoveries") == 200);
        CHECK(r.counter("raid6.failures") == 0);
        if (b.raid) {
            CHECK(r.counter("async_tx.ops_dma") == 1800);
            CHECK(r.counter("async_tx.ops_cpu") == 0);
        } else {
            CHECK(r.counter("async_tx.ops_dma") == 0);
            CHECK(r.counter("async_tx.ops_cpu") > 0);
        }
    }
}

TEST_CASE("dca-unbind: the providing function goes and igb is told and stops tagging for good") {
    tmpdir t5, t8;
    run_result r = run_file(scenario("dca-unbind.yaml"), "", t5);
    run_result longer = run_file(scenario("dca-unbind.yaml"), "--set 'run.until=8 ms'", t8);
    CHECK(r.status == 0);
    CHECK(longer.status == 0);
    auto add = r.events("requester.add");
    REQUIRE(add.size() == 1);  // never added again: 3.4's igb waits for DCA_PROVIDER_ADD
    CHECK(add[0]["provider"] == "dca7");
    // Told first, removed from dca7, then dca7 leaves the domain.
    const uint64_t at = 2'000'000'000;  // 2 ms
    std::vector<std::string> after;
    for (const auto& e : r.dca)
        if (e["t"].get<uint64_t>() >= at) after.push_back(e["ev"].get<std::string>() + " " + e.value("provider", e.value("event", "")));
    CHECK(join(after) == "notify DCA_PROVIDER_REMOVE\nrequester.remove dca7\nprovider.unregister dca7\n");
    CHECK(r.events("provider.unregister")[0]["device"] == "0000:00:16.7");
    // Tagged writes end at 2 ms: three more milliseconds of frames add none.
    CHECK(r.counter("igb.dca_tagged_writes") > 500);
    CHECK(longer.counter("igb.dca_tagged_writes") == r.counter("igb.dca_tagged_writes"));
    CHECK(longer.counter("igb.rx_packets") >= r.counter("igb.rx_packets") + 900);
    CHECK(r.counter("dca.unclaimed_tags") == 0);
    CHECK(longer.counter("violations.dca_stale_tag") == 0);
}

TEST_CASE("dca-unbind: igb added on 00:16.0's DCA_PROVIDER_ADD tags up to its own removal without a violation") {
    // igb loads first: its slot comes from the notifier, on dca0. Writes made
    // while its callback runs are not stale (the checker once said they were):
    // 64-byte frames every 2 us on eight queues put some in that microsecond.
    run_result r = run("westmere-ep-2s", "queues: 8, interval: 2 us, packet: 64, before_ioatdma: true",
                       "timeline:\n  - {at: 2 ms, do: pci.unbind, device: \"0000:00:16.0\"}\n");
    CHECK(r.status == 0);
    auto add = r.events("requester.add");
    REQUIRE(add.size() == 1);
    CHECK(add[0]["provider"] == "dca0");
    CHECK(r.events("requester.remove").size() == 1);
    CHECK(r.logged("igb 0000:01:00.0: DCA disabled"));
    CHECK(r.counter("igb.dca_tagged_writes") > 10000);
    // The only hints no function claims are frames caught between the slot's
    // release (igb's dca_remove_requester) and its DCA_CTRL write that stops
    // tagging: with a frame every 2 us, whether one lands there is phase.
    const auto rm = r.events("requester.remove");
    for (const auto& u : r.events("dca.unclaimed_tag")) {
        CHECK(u["t"].get<uint64_t>() >= 2000000000ull);
        CHECK(u["t"].get<uint64_t>() <= rm[0]["t"].get<uint64_t>());
    }
    CHECK(r.counter("dca.unclaimed_tags") <= 8);  // at most a frame per queue
    CHECK(r.counter("violations.dca_stale_tag") == 0);
}

TEST_CASE("dca-unbind: any provider's removal turns igb's DCA off and the function bound again turns it on") {
    // 00:16.0 is not the NIC's provider, yet 3.4's igb drops DCA on every
    // DCA_PROVIDER_REMOVE; dca7 stays registered.
    run_result other = run("westmere-ep-2s", gigabit, "timeline:\n  - {at: 2 ms, do: pci.unbind, device: \"0000:00:16.0\"}\n");
    CHECK(other.status == 0);
    REQUIRE(other.events("requester.remove").size() == 1);
    CHECK(other.events("requester.remove")[0]["provider"] == "dca7");
    REQUIRE(other.events("provider.unregister").size() == 1);
    CHECK(other.events("provider.unregister")[0]["provider"] == "dca0");
    CHECK(other.logged("igb 0000:01:00.0: DCA disabled"));
    CHECK(other.counter("igb.dca_tagged_writes") < 1336);  // none after 2 ms
    CHECK(other.counter("violations.dca_stale_tag") == 0);

    // 00:16.7 bound again at 3 ms: its DCA_PROVIDER_ADD brings igb back, on it.
    run_result back = run("westmere-ep-2s", gigabit,
                          "timeline:\n  - {at: 2 ms, do: pci.unbind, device: \"0000:00:16.7\"}\n"
                          "  - {at: 3 ms, do: pci.bind, device: \"0000:00:16.7\"}\n");
    CHECK(back.status == 0);
    auto add = back.events("requester.add");
    REQUIRE(add.size() == 2);
    CHECK(add[1]["provider"] == "dca7");
    CHECK(add[1]["t"].get<uint64_t>() > 3'000'000'000ull);
    CHECK(back.counter("igb.dca_tagged_writes") > other.counter("igb.dca_tagged_writes") + 500);
    CHECK(back.counter("dca.unclaimed_tags") == 0);
    CHECK(back.counter("violations.dca_stale_tag") == 0);
}

TEST_CASE("dca keep_tagging: a requester that ignores DCA_PROVIDER_REMOVE is a dca_stale_tag and the run fails") {
    tmpdir t;
    run_result r = run_file(scenario("dca-unbind.yaml"), "--set software.clients.dca.keep_tagging=true", t);
    CHECK(r.status == 1);
    CHECK(r.counter("violations.dca_stale_tag") >= 1);
    CHECK(r.logged("ioatsim: checker: dca_stale_tag: 0000:01:00.0: a write carries DCA tag 0x"));
    CHECK(r.logged("after DCA_PROVIDER_REMOVE, without adding itself again"));
    CHECK(r.counter("igb.dca_tagged_writes") > 2000);   // to the end of the run
    CHECK(r.counter("dca.unclaimed_tags") > 1000);      // its slot freed: the IOH claims none
    CHECK(r.summary["verdict"] == "fail");
}
