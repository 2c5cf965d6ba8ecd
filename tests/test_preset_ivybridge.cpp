// The ivybridge-ex-4s preset (issue 18): four sockets, each with its integrated
// I/O as IOH n on node n, the IIO's IOAT functions at BB:04.0-7 with the IVB
// IDs, ioatdma binding them as the driver that knows them does (64-byte copy
// alignment, so net_dma gets no channel), and the checks on ioh.integrated and
// ioat.device. Facts: docs/sources/socket-hotplug.md 4, platform/params.cpp.
#include "cli.h"
#include "models/core/report.h"
#include "models/cpu/cpu.h"
#include "models/ioat/regs.h"
#include "models/ioh/ioh.h"
#include "platform/params.h"
#include "platform/platform.h"
#include "platform/scenario.h"
#include "sw/dmaengine/dmaengine.h"
#include "sw/drivers/ioat/ioatdma.h"
#include "sw/kernel/kernel.h"
#include "sw/pci/pci.h"

#include "tests/booted.h"

#include <doctest/doctest.h>
#include <systemc>

#include <map>
#include <set>

using namespace ioatsim;

namespace {

std::string resolve_error(const std::string& yaml) {
    try {
        params::resolve(parse_scenario(yaml, "t.yaml", {}));
    } catch (const input_error& e) {
        return e.what();
    }
    return "";
}

int64_t counter(const std::string& c) { return sim_report().get(c); }

const std::string ivb = "name: t\nplatform: {preset: ivybridge-ex-4s}\n";

// net_dma alone (dmatest would hold every channel privately): 2 readers x 3
// reads of 128 KiB, each over the copybreak, so each would be offloaded if a
// channel were found.
std::string net_dma_on(const std::string& set) {
    return "name: t\nplatform: {preset: ivybridge-ex-4s" + set + "}\n"
           "software: {clients: {net_dma: {interfaces: 1, readers: 2, read_size: 131072, copybreak: 65536, "
           "reads: 3}}}\n";
}

}  // namespace

TEST_CASE("ivybridge-ex-4s: each socket's IIO has IVB0-7 at BB:04.0-7 with CB3.2 on its own node and ioatdma binds all 32") {
    booted b(ivb + "software: {clients: {dmatest: {threads_per_chan: 1, iterations: 4, test_buf_size: 16384}}}\n");
    b.run_until_idle();
    b.plat.finish();
    REQUIRE(b.plat.ioh_count() == 4);
    CHECK(b.plat.cpu_count() == 32);
    const uint8_t bus_of[] = {0x00, 0x40, 0x80, 0xc0};
    for (unsigned i = 0; i < 4; ++i) {
        CAPTURE(i);
        CHECK(b.plat.ioh(i).cfg().bus_lo == bus_of[i]);
        CHECK(b.plat.ioh(i).cfg().node == i);        // the IIO is its socket's
        CHECK(b.plat.cpu(8 * i).node() == i);        // socket i's first CPU
        CHECK(b.plat.ioh(i).ioat_count() == 8);
        for (unsigned f = 0; f < 8; ++f)
            CHECK(b.plat.ioh(i).ioat(f).reg(ioat::CBVER, 1) == 0x32);
    }
    std::map<uint8_t, std::set<unsigned>> fns;  // bus -> functions of device 4
    unsigned bound = 0;
    for (sw::pci_dev* d : b.plat.pci()->devices()) {
        if (d->class_code != 0x088000) continue;
        CAPTURE(d->name);
        CHECK((d->devfn >> 3) == 4);
        CHECK(d->device == 0x0e20 + (d->devfn & 7));
        CHECK(d->node == unsigned(d->bus / 0x40));    // the host bridge's node, as the driver sees it
        fns[d->bus].insert(d->devfn & 7);
        REQUIRE(d->driver != nullptr);
        CHECK(std::string(d->driver->name) == "ioatdma");
        auto* dev = static_cast<sw::ioatdma_device*>(d->drvdata);
        REQUIRE(dev != nullptr);
        CHECK(dev->version() == 0x32);                // CBVER as the driver read it
        CHECK(dev->node == int(d->node));
        CHECK(dev->copy_align == 6);                  // is_xeon_cb32 in the driver that knows IVB
        ++bound;
    }
    CHECK(bound == 32);
    CHECK(fns.size() == 4);
    for (uint8_t bus : bus_of) CHECK(fns[bus] == std::set<unsigned>{0, 1, 2, 3, 4, 5, 6, 7});
    CHECK(b.plat.dma()->device_list().size() == 32);
    // dmatest ran on every channel, copies 64-byte aligned, and all verified.
    CHECK(counter("dmatest.tests") == 32 * 4);
    CHECK(counter("dmatest.failures") == 0);
    CHECK(sim_report().violations() == 0);
}

TEST_CASE("ivybridge-ex-4s: net_dma finds no channel as the IVB devices' copy_align refuses 1 byte at offset 1") {
    booted b(net_dma_on(""));
    b.run_until_idle();
    b.plat.finish();
    CHECK(counter("net_dma.reads") == 6);
    CHECK(counter("net_dma.bytes_offloaded") == 0);
    CHECK(counter("net_dma.cpu_copy_bytes") == 6 * 131072);
    CHECK(counter("violations.copy_corrupt") == 0);
}

TEST_CASE("ivybridge-ex-4s with the 5520's TBG IDs: the same engines with no alignment and net_dma offloads") {
    booted b(net_dma_on(", set: {ioat.device_ids: 0}"));
    b.run_until_idle();
    b.plat.finish();
    for (sw::dma_device* d : b.plat.dma()->device_list()) CHECK(d->copy_align == 0);
    CHECK(counter("net_dma.reads") == 6);
    CHECK(counter("net_dma.bytes_offloaded") == 6 * 131072);
    CHECK(counter("net_dma.cpu_copy_bytes") == 0);
}

TEST_CASE("ivybridge-ex-4s: ioh.integrated needs ioh.count equal to sockets and is refused on the key the scenario set") {
    CHECK(resolve_error("name: t\nplatform: {preset: ivybridge-ex-4s, set: {ioh.count: 2}}\n") ==
          "t.yaml:2:43: platform.set.ioh.count: ioh.integrated is 1: IOH n is the integrated I/O of socket n, so "
          "ioh.count (2) must equal sockets (4)");
    CHECK(resolve_error("name: t\nplatform: {preset: x3850x5, set: {ioh.integrated: 1}}\n") ==
          "t.yaml:2:35: platform.set.ioh.integrated: ioh.integrated is 1: IOH n is the integrated I/O of socket n, "
          "so ioh.count (2) must equal sockets (4)");
    CHECK(resolve_error("name: t\nplatform: {preset: x3850x5, set: {ioh.integrated: 2}}\n")
              .find("platform.set.ioh.integrated: 2 is out of range (must be 0..1: 0 or 1)") != std::string::npos);
    CHECK(resolve_error(ivb).empty());
}

TEST_CASE("ivybridge-ex-4s: ioat.device on a root port's device number is refused and ioat.device_ids 3 is out of range") {
    CHECK(resolve_error("name: t\nplatform: {preset: ivybridge-ex-4s, set: {ioh.root_ports: 3}}\n") ==
          "t.yaml:2:43: platform.set.ioh.root_ports: ioat.device 4 is the device number of root port 2 "
          "(ioh.root_ports 3 take devices 1, then 3 upwards)");
    CHECK(resolve_error("name: t\nplatform: {preset: x3850x5, set: {ioat.device: 3}}\n")
              .rfind("t.yaml:2:35: platform.set.ioat.device: ioat.device 3 is the device number of root port 1", 0) ==
          0);
    CHECK(resolve_error("name: t\nplatform: {preset: x3850x5, set: {ioat.device: 32}}\n")
              .find("ioat.device: 32 is out of range (must be 0x0..0x1f: a PCI device number is 5 bits)") !=
          std::string::npos);
    CHECK(resolve_error("name: t\nplatform: {preset: x3850x5, set: {ioat.device_ids: 3}}\n")
              .find("(must be 0..2: 0 (TBG), 1 (JSF) or 2 (IVB))") != std::string::npos);
}

TEST_CASE("ivybridge-ex-4s: ioatsim run exits 2 naming ioh.integrated when ioh.count differs from sockets") {
    cli::tmpdir t;
    const cli::fs::path s = t.path / "s.yaml";
    std::ofstream(s) << "name: s\nplatform:\n  preset: ivybridge-ex-4s\n  set: {sockets: 2}\nsoftware: {os: none}\n";
    cli::result r = cli::ioatsim("run " + s.string() + " --quiet --out " + (t.path / "out").string(), t);
    CHECK(r.status == 2);
    CHECK(r.err.find(s.string() + ":4:9: platform.set.sockets: ioh.integrated is 1") != std::string::npos);
    CHECK(r.err.find("ioh.count (4) must equal sockets (2)") != std::string::npos);
}
