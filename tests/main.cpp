// doctest runner for SystemC: sc_main is the entry point SystemC links against,
// so doctest's own main is disabled and run from here.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <systemc>

int sc_main(int argc, char** argv) {
    doctest::Context ctx(argc, argv);
    return ctx.run();
}
