// Processor sockets as hot-plug units (issue 18): socket.remove as an ACPI
// container eject (CPUs offlined and their tasks moved, the memory node
// offlined with its user pages migrated, the IIO's functions removed, _EJ0),
// socket.add back; a step that cannot complete is reported (memory held by a
// DMA buffer, pages pinned by a DMA that never ends); per-CPU counts left on
// departed CPUs still count; torture moves a removal across 50 instants.
// Facts: docs/sources/socket-hotplug.md.
#include "cli.h"

#include <doctest/doctest.h>

#include <fstream>

using cli::ioatsim;
using cli::slurp;
using cli::tmpdir;

namespace {

// Where `what` first appears in the log, or npos.
size_t at(const std::string& log, const std::string& what) { return log.find(what); }

std::string write(const tmpdir& t, const std::string& name, const std::string& text) {
    const std::string path = (t.path / name).string();
    std::ofstream(path) << text;
    return path;
}

// An x3850 X5 (IOHs apart from the sockets) with net_dma offloading from every CPU.
std::string x3850(const std::string& design, const std::string& extra, const std::string& timeline) {
    return cli::join({"name: t", "platform:", "  preset: x3850x5", "  set: {rcu.expedited: 1" + extra + "}",
                      "software:", "  os: linux",
                      "  dmaengine: {design: " + design + ", failback: true, numa_affinity: false}",
                      "  clients:",
                      "    net_dma: {interfaces: 16, link_gbps: 1, readers: 32, read_size: 131072, copybreak: 65536}",
                      "    async_tx: {threads: 4}",
                      "run: {until: 12 ms}", "timeline:"}) + timeline;
}

}  // namespace

TEST_CASE("socket.remove offlines the socket's CPUs and memory, removes its IIO functions and ejects it, and socket.add brings them back") {
    tmpdir t;
    const std::string out = (t.path / "o").string();
    auto r = ioatsim("run " + cli::scenario("socket-remove.yaml") + " --quiet --out " + out, t);
    CHECK(r.status == 0);
    const std::string log = slurp(cli::fs::path(out) / "log.txt");
    // The sequence, in the order 3.10's acpi_scan_hot_remove takes it.
    const std::vector<std::string> order = {
        "acpi ACPI0004:02: eject request", "CPU 16 is now offline", "CPU 23 is now offline", "Offlined Pages",
        "ioatdma 0000:80:04.7: Removing dma and dca services", "ioatdma 0000:80:04.0: Removing dma and dca services",
        "acpi ACPI0004:02: ejected", "acpi ACPI0004:02: hot add", "CPU16 has been hot-added",
        "ioatdma 0000:80:04.0: enabling device", "Booting Node 2 Processor 16"};
    size_t prev = 0;
    for (const std::string& line : order) {
        INFO(line);
        const size_t p = log.find(line, prev);
        REQUIRE(p != std::string::npos);
        prev = p;
    }
    // No other socket's CPUs or functions were touched.
    CHECK(at(log, "CPU 15 is now offline") == std::string::npos);
    CHECK(at(log, "ioatdma 0000:40:04.0: Removing") == std::string::npos);
    const auto s = cli::summary(out);
    REQUIRE(s["os_operations"].size() == 2);
    CHECK(s["os_operations"][0]["what"] == "socket.remove of socket 2");
    CHECK(s["os_operations"][0]["done"] == true);
    CHECK(s["os_operations"][1]["done"] == true);
    CHECK(s["os_operations"][0]["failed"].is_null());
    CHECK(s["removal"]["completed"] == true);
    // The action met the IIO's bound functions: eight IOAT, two root ports.
    CHECK(s["timeline"][0]["bound"] == 10);
    CHECK(s["violations"] == 0);
}

TEST_CASE("a socket's memory holding a DMA buffer cannot go offline: the eject fails and the OS brings the CPUs back") {
    tmpdir t;
    const std::string out = (t.path / "o").string();
    // dmatest's buffers kmalloc'd on node 2: unmovable memory on the socket.
    auto r = ioatsim("run " + cli::scenario("socket-remove.yaml") +
                         " --quiet --set software.clients.dmatest.buffer_node=2 --set 'timeline=[{at: 3 ms, do: "
                         "socket.remove, socket: 2}]' --out " + out, t);
    CHECK(r.status == 1);
    const auto s = cli::summary(out);
    CHECK(s["counters"]["violations.removal_failed"] == 1);
    CHECK(s["os_operations"][0]["done"] == true);
    CHECK(s["os_operations"][0]["failed"].get<std::string>().find("unmovable pages of dmatest") != std::string::npos);
    CHECK(s["removal"]["completed"] == false);  // it ended, but in failure
    const std::string log = slurp(cli::fs::path(out) / "log.txt");
    const size_t failed = at(log, "acpi ACPI0004:02: Offline failed.");
    REQUIRE(failed != std::string::npos);
    CHECK(at(log, "CPU 23 is now offline") < failed);
    CHECK(log.find("Booting Node 2 Processor 16", failed) != std::string::npos);  // rolled back
    CHECK(at(log, "ioatdma 0000:80:04.0: Removing") == std::string::npos);      // never trimmed
    CHECK(at(log, "ejected") == std::string::npos);
    CHECK(log.find("memory of node 2: ", failed) != std::string::npos);
    CHECK(log.find("unmovable pages of dmatest", failed) != std::string::npos);
}

TEST_CASE("user pages pinned by a DMA that never completes keep the socket's memory from going offline") {
    tmpdir t;
    const std::string out = (t.path / "o").string();
    // IOH1 lost by surprise: readers on socket 2 wait for ever on its channels,
    // their user buffers (on node 2) pinned. prep_null without fail-back.
    const std::string sc = write(t, "pin.yaml", cli::join({"name: pin", "platform: {preset: x3850x5}", "software:",
        "  os: linux", "  dmaengine: {design: prep_null, failback: false, numa_affinity: true}", "  clients:",
        "    net_dma: {interfaces: 16, link_gbps: 1, readers: 32, read_size: 131072, copybreak: 65536}",
        "run: {until: 12 ms}", "timeline:", "  - {at: 1.5 ms, do: ioh.remove, ioh: 1, mode: surprise}",
        "  - {at: 3 ms, do: socket.remove, socket: 2}"}));
    auto r = ioatsim("run " + sc + " --quiet --out " + out, t);
    CHECK(r.status == 1);
    const auto s = cli::summary(out);
    CHECK(s["os_operations"][1]["done"] == false);
    const std::string log = slurp(cli::fs::path(out) / "log.txt");
    CHECK(log.find("socket.remove of socket 2, requested at 0.003000 s, has not finished (at: offline memory of "
                   "node 2)") != std::string::npos);
    CHECK(log.find("in offline_pages: node 2") != std::string::npos);
    CHECK(s["counters"]["memory.offline_passes"].get<int64_t>() > 10);  // retried, as __offline_pages does
    CHECK(s["counters"]["memory.pages_migrated"].get<int64_t>() > 0);   // what was not pinned moved
}

TEST_CASE("per-CPU counts left on the departed CPUs still count when a removal sums them (percpu, bigref)") {
    for (const char* design : {"percpu", "client_callbacks"}) {
        INFO(design);
        tmpdir t;
        const std::string out = (t.path / "o").string();
        // Socket 3's readers take channel uses there, move when their CPUs go,
        // and drop them elsewhere; IOH1's removal then sums every CPU's count.
        const std::string sc = write(t, "fold.yaml", x3850(design, ", check.hung_after: 20 ms",
                                                           "  - {at: 2 ms, do: socket.remove, socket: 3}\n"
                                                           "  - {at: 5 ms, do: ioh.remove, ioh: 1, mode: orderly}\n"));
        auto r = ioatsim("run " + sc + " --quiet --out " + out, t);
        CHECK(r.status == 0);
        const auto s = cli::summary(out);
        CHECK(s["counters"]["percpu.offline_counts_summed"].get<int64_t>() > 0);
        CHECK(s["counters"]["memory.pages_migrated"].get<int64_t>() == 8 * 32);  // socket 3's readers' buffers
        CHECK(s["removal"]["completed"] == true);
    }
}

TEST_CASE("socket keys are checked: socket 0 and sockets the platform lacks are refused with exit status 2") {
    tmpdir t;
    for (const char* bad : {"0", "4"}) {
        auto r = ioatsim("run " + cli::scenario("socket-remove.yaml") + " --quiet --set 'timeline=[{at: 3 ms, do: "
                         "socket.remove, socket: " + std::string(bad) + "}]' --out " + (t.path / bad).string(), t);
        CHECK(r.status == 2);
        CHECK(r.err.find("socket: ") != std::string::npos);
        CHECK(!cli::fs::exists(t.path / bad / "summary.json"));
    }
}

TEST_CASE("torture moves socket.remove across 50 instants: prep_null with fail-back passes every one") {
    tmpdir t;
    std::string text = slurp(cli::scenario("socket-remove.yaml"));
    text = text.substr(0, text.find("  - {at: 7 ms, do: socket.add"));  // the removal alone
    text.replace(text.find("until: 10 ms"), 12, "until: 8 ms");
    const std::string sc = write(t, "remove.yaml", text);
    const std::string out = (t.path / "t").string();
    auto r = ioatsim("torture " + sc + " --action 0 --from 2.2ms --to 6ms --instants 50 --designs prep_null"
                     " --failback on -j 2 --out " + out, t);
    CHECK(r.status == 0);
    const std::string csv = slurp(cli::fs::path(out) / "torture.csv");
    INFO(csv);
    // design,failback,instants,pass,vacuous,fail,other,...
    const size_t row = csv.find("\nprep_null,");
    REQUIRE(row != std::string::npos);
    std::vector<std::string> f;
    std::string cell;
    for (size_t i = row + 1; i < csv.size() && csv[i] != '\n'; ++i) {
        if (csv[i] == ',') f.push_back(cell), cell.clear();
        else cell += csv[i];
    }
    REQUIRE(f.size() >= 7);
    CHECK(f[2] == "50");
    CHECK(f[3] == "50");  // passed
    CHECK(f[4] == "0");   // none vacuous: the IIO's functions were bound at every instant
    CHECK(f[5] == "0");
}
