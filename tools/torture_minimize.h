// `ioatsim torture --minimize T`: the failing run at instant T shrunk, one
// reduction at a time, while the same violation kind still occurs: clients
// dropped, fewer readers, threads and iterations, fewer sockets, cores and
// IOAT functions, a shorter run, the instant moved earlier. Each try is a run
// of its own (a child process); the smallest scenario found is written as a
// YAML file that `ioatsim run` fails on with exit 1 and that violation.
#pragma once
#include "tools/sweep_plan.h"

#include <cstdint>
#include <string>

namespace ioatsim::torture {

struct minimize_request {
    sweep::plan_request base;  // scenario, --set, --designs (the first is used), --failback
    size_t action = 0;
    uint64_t at_ps = 0;
    std::string out;           // the folder for the tries and minimal.yaml
    double timeout_s = 0;
};

// 0 when a smaller failing scenario was written, 1 when the run at T does not fail.
int minimize(const minimize_request& r);

}  // namespace ioatsim::torture
