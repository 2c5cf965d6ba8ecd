// The seeded fuzz cases of the IOAT function (the fuzzer and what it checks:
// ioat_fuzzer.h), each its own process.
#include "ioat_fuzzer.h"

#include <doctest/doctest.h>

#include <sstream>

namespace {

void fuzz(const knobs& k) {
    bench b("tb", k.cfg);
    fuzzer f(b, k);
    b.body = [&] { f.run(); };
    sc_core::sc_start();
    std::ostringstream s;
    s << "rounds " << f.rounds_run << ", simulated " << sc_core::sc_time_stamp().to_seconds() * 1e3
      << " ms, descriptors " << f.completed_max << ", rounds ending ACTIVE/DONE/SUSPENDED/HALTED "
      << f.status_seen[0] << "/" << f.status_seen[1] << "/" << f.status_seen[2] << "/" << f.status_seen[3]
      << ", with CHANERR " << f.errors_seen << " (bits seen 0x" << std::hex << f.chanerr_bits_seen
      << std::dec << "), interrupt messages " << b.msi.got.size();
    MESSAGE(s.str());
    CHECK(f.rounds_run == k.rounds);
    // The fuzz must have exercised both paths, or it proves nothing.
    CHECK(f.completed_max > k.rounds);
    CHECK(f.errors_seen > 0);
}

}  // namespace

TEST_CASE("fuzz: mixed descriptors, commands and register writes (seed 0x1005)") {
    knobs k;
    k.seed = 0x1005;
    k.rounds = 12000;
    fuzz(k);
}

TEST_CASE("fuzz: error-heavy descriptors, bad addresses, lengths and ops (seed 0xBAD5EED)") {
    knobs k;
    k.seed = 0xBAD5EED;
    k.rounds = 12000;
    k.bad = 0.3;
    fuzz(k);
}

TEST_CASE("fuzz: command storms at short random intervals (seed 0xC0FFEE)") {
    knobs k;
    k.seed = 0xC0FFEE;
    k.rounds = 12000;
    k.max_actions = 12;
    k.max_gap_us = 3;
    k.cmd_share = 0.6;
    k.reg_share = 0.2;
    fuzz(k);
}

TEST_CASE("fuzz: interrupt configuration and register traffic (seed 0x1A7E)") {
    knobs k;
    k.seed = 0x1A7E;
    k.rounds = 12000;
    k.max_actions = 10;
    k.cmd_share = 0.15;
    k.reg_share = 0.7;
    fuzz(k);
}

TEST_CASE("fuzz: small XFERCAP and no PQ in DMACAPABILITY (seed 0x5EED12)") {
    knobs k;
    k.seed = 0x5EED12;
    k.rounds = 12000;
    k.cfg.xfercap = 12;
    k.cfg.dmacapability = DMACAP_FILL | DMACAP_XOR;
    fuzz(k);
}
