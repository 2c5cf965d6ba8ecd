// The platform as a whole, in-process: what each preset enumerates, removal as a
// state seen through the fabric, and CPUs going offline.
#include "models/cpu/cpu.h"
#include "models/ioh/ioh.h"
#include "platform/params.h"
#include "platform/platform.h"
#include "platform/scenario.h"
#include "sw/kernel/kernel.h"
#include "sw/pci/pci.h"

#include "tests/booted.h"

#include <doctest/doctest.h>
#include <systemc>

#include <set>

using namespace ioatsim;

namespace {

void check_enumeration(const std::string& preset, unsigned buses, unsigned ioat_per_bus, unsigned ports_per_bus) {
    booted b("name: t\nplatform: {preset: " + preset + "}\n");
    b.run_until_idle();
    auto devs = b.plat.pci()->devices();
    CHECK(devs.size() == buses * (ioat_per_bus + ports_per_bus));
    std::set<std::string> names;
    std::vector<std::pair<uint64_t, uint64_t>> bars;
    unsigned ioat = 0;
    for (auto* d : devs) {
        CHECK(names.insert(d->name).second);
        CHECK(d->vendor == 0x8086);
        if (d->class_code == 0x088000) {
            ++ioat;
            unsigned fn = d->devfn & 7;
            CHECK((d->devfn >> 3) == 0x16);
            CHECK(d->device == models::ioat_device_id(fn));
            CHECK(d->resource_len[0] == 16384);
            CHECK(d->driver != nullptr);
            bars.push_back({d->resource_start[0], d->resource_start[0] + d->resource_len[0]});
        } else {
            CHECK(d->class_code == 0x060400);
        }
    }
    CHECK(ioat == buses * ioat_per_bus);
    std::sort(bars.begin(), bars.end());
    for (size_t i = 1; i < bars.size(); ++i) CHECK(bars[i - 1].second <= bars[i].first);
}

}  // namespace

TEST_CASE("minimal enumerates one IOAT function at 0000:00:16.0") {
    check_enumeration("minimal", 1, 1, 0);
}

TEST_CASE("westmere-ep-2s enumerates eight IOAT functions and two root ports on bus 0") {
    check_enumeration("westmere-ep-2s", 1, 8, 2);
}

TEST_CASE("x3850x5 enumerates 32 CPUs and two IOHs on buses 0x00 and 0x80") {
    check_enumeration("x3850x5", 2, 8, 2);
}

TEST_CASE("x3850x5 places IOH1 on bus 0x80 near node 2 and numbers 32 CPUs over 4 nodes") {
    booted b("name: t\nplatform: {preset: x3850x5}\nsoftware: {os: none}\n");
    CHECK(b.plat.cpu_count() == 32);
    CHECK(b.plat.cpu(31).node() == 3);
    CHECK(b.plat.ioh_count() == 2);
    CHECK(b.plat.ioh(1).cfg().bus_lo == 0x80);
    CHECK(b.plat.ioh(1).cfg().node == 2);
    CHECK(b.plat.find_function("0000:80:16.7") != nullptr);
    CHECK(b.plat.find_function("0000:40:16.0") == nullptr);
}

// A read issued before the removal whose completion is lost waits out the
// completion timeout and fails; one issued after is refused at once.
TEST_CASE("a read in flight at a surprise removal fails after the completion timeout") {
    booted b("name: t\nplatform: {preset: x3850x5, set: {pcie.completion_timeout: 2 ms}}\n"
             "software: {os: none}\n");
    uint64_t bar = b.plat.find_function("0000:80:16.0")->config().bar_address(0);
    sc_core::sc_time done_at, second_at;
    uint64_t v1 = 0, v2 = 0;
    bool ok1 = true, ok2 = true;
    sc_core::sc_spawn([&] {
        sc_core::sc_time d;
        ok1 = b.plat.cpu(0).io_read(bar + 0x88, 8, v1, d);
        done_at = sc_core::sc_time_stamp();
        sc_core::sc_time d2;
        ok2 = b.plat.cpu(0).io_read(bar + 0x88, 8, v2, d2);
        second_at = sc_core::sc_time_stamp();
    });
    sc_core::sc_spawn([&] {
        sc_core::wait(sc_core::sc_time(10, sc_core::SC_NS));  // inside the read's 30 ns register access
        b.plat.ioh_remove(1, true);
    });
    sc_core::sc_start(sc_core::sc_time(10, sc_core::SC_MS));
    CHECK_FALSE(ok1);
    CHECK(v1 == ~0ull);
    CHECK(done_at >= sc_core::sc_time(2, sc_core::SC_MS));
    CHECK_FALSE(ok2);
    CHECK(v2 == ~0ull);
    CHECK(second_at == done_at);  // refused at once: the link is known to be down
}

TEST_CASE("an offline CPU accepts no interrupt and its tasks move") {
    booted b("name: t\nplatform: {preset: westmere-ep-2s}\n");
    sw::kernel& k = *b.plat.kernel();
    unsigned ran_on = 99;
    int handled = 0;
    b.plat.boot();
    k.kthread_run("test", 0, [&] {
        int v = k.request_irq(3, "test", [&] { ++handled; });
        REQUIRE(k.cpu_down(3) == 0);
        CHECK_FALSE(k.cpu_online(3));
        CHECK(k.num_online_cpus() == 11);
        // The interrupt moved: a message to CPU 3's old vector is refused by its APIC.
        b.plat.cpu(3).deliver(uint8_t(v));
        k.msleep(1);
        CHECK(handled == 0);
        CHECK(k.cpu_down(3) == -22);
    });
    k.kthread_run("pinned", 3, [&] {
        k.msleep(2);
        ran_on = k.smp_processor_id();
    });
    sc_core::sc_start(sc_core::sc_time(10, sc_core::SC_MS));
    CHECK(ran_on != 3);
    CHECK(ran_on < 12);
}

TEST_CASE("pciehp reports the slot's attention button and card presence") {
    booted b("name: t\nplatform: {preset: westmere-ep-2s}\n");
    b.plat.boot();
    sc_core::sc_spawn([&] {
        sc_core::wait(sc_core::sc_time(1, sc_core::SC_MS));
        b.plat.ioh(0).port(0).press_attention_button();
        sc_core::wait(sc_core::sc_time(1, sc_core::SC_MS));
        b.plat.ioh(0).port(1).set_presence(true);
    });
    sc_core::sc_start(sc_core::sc_time(5, sc_core::SC_MS));
    std::string log;
    for (auto& l : sim_report().log_lines()) log += l + "\n";
    CHECK(log.find("pciehp 0000:00:01.0:pcie04: Button pressed on Slot(1)") != std::string::npos);
    CHECK(log.find("pciehp 0000:00:03.0:pcie04: Card present on Slot(3)") != std::string::npos);
    CHECK(log.find("Button pressed on Slot(3)") == std::string::npos);
}
