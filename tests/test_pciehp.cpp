// pciehp owns one slot per hot-plug port from probe to remove: unbinding the port
// frees it, binding again makes a new one, and nothing outlives its port.
#include "models/ioh/ioh.h"
#include "models/pcie/root_port.h"
#include "platform/params.h"
#include "platform/platform.h"
#include "platform/scenario.h"
#include "sw/kernel/kernel.h"
#include "sw/pci/pciehp.h"

#include <doctest/doctest.h>
#include <systemc>

using namespace ioatsim;

TEST_CASE("pciehp frees a port's slot when the port is unbound, and makes a new one on bind") {
    const scenario sc = parse_scenario("name: t\nplatform: {preset: westmere-ep-2s}\n", "t.yaml", {});
    const params p = params::resolve(sc);
    platform plat(sc, p);
    plat.boot();
    size_t booted = 0, unbound = 0, rebound = 0;
    auto log = [] {
        std::string all;
        for (auto& l : sim_report().log_lines()) all += l + "\n";
        return all;
    };
    std::string while_unbound;
    sc_core::sc_spawn([&] {
        sc_core::wait(sc_core::sc_time(1, sc_core::SC_MS));
        booted = sw::pciehp_live_slots();
        plat.pci_unbind("0000:00:01.0");
        sc_core::wait(sc_core::sc_time(1, sc_core::SC_MS));
        unbound = sw::pciehp_live_slots();
        plat.ioh(0).port(0).press_attention_button();  // no slot, no driver: nothing to report
        sc_core::wait(sc_core::sc_time(1, sc_core::SC_MS));
        while_unbound = log();
        plat.pci_bind("0000:00:01.0");
        sc_core::wait(sc_core::sc_time(1, sc_core::SC_MS));
        rebound = sw::pciehp_live_slots();
    });
    sc_core::sc_start(sc_core::sc_time(5, sc_core::SC_MS));
    CHECK(booted == 2);   // westmere-ep-2s: two root ports with a slot each
    CHECK(unbound == 1);
    CHECK(rebound == 2);
    CHECK(while_unbound.find("Button pressed") == std::string::npos);
    // Bound again, the new slot reports what the port latched meanwhile.
    const std::string all = log();
    CHECK(all.find("pciehp 0000:00:01.0:pcie04: Slot #1") != all.rfind("pciehp 0000:00:01.0:pcie04: Slot #1"));
    CHECK(all.find("pciehp 0000:00:01.0:pcie04: Button pressed on Slot(1)") != std::string::npos);
}
