// A platform built from scenario text and booted in this process (one per
// test process: SystemC elaborates one design).
#pragma once
#include "platform/params.h"
#include "platform/platform.h"
#include "platform/scenario.h"
#include "sw/kernel/kernel.h"

#include <systemc>

#include <string>

namespace ioatsim {

struct booted {
    scenario sc;
    params p;
    platform plat;
    explicit booted(const std::string& yaml)
        : sc(parse_scenario(yaml, "t.yaml", {})), p(params::resolve(sc)), plat(sc, p) {}
    // Boots and runs until the software is idle (at most one simulated second).
    void run_until_idle() {
        plat.kernel()->set_idle_callback([] { sc_core::sc_stop(); });
        plat.boot();
        sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_SEC));
    }
};

}  // namespace ioatsim
