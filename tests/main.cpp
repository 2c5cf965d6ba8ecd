// doctest runner for SystemC: sc_main is the entry point SystemC links against,
// so doctest's own main is disabled and run from here. Each TEST_CASE runs in its
// own process (doctest_discover_tests), as SystemC elaborates one design per process.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <systemc>

#include <cstdlib>

// SystemC prints its banner before sc_main runs; only the environment stops it.
static const int banner_off = setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);

int sc_main(int argc, char** argv) {
    // A SystemC warning or error in a model is a test failure, not noise.
    sc_core::sc_report_handler::set_actions(sc_core::SC_WARNING, sc_core::SC_THROW);
    sc_core::sc_report_handler::set_actions(sc_core::SC_ERROR, sc_core::SC_THROW);
    sc_core::sc_report_handler::set_actions("/IEEE_Std_1666/deprecated", sc_core::SC_DO_NOTHING);
    doctest::Context ctx(argc, argv);
    return ctx.run();
}
