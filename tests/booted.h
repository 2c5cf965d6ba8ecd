// A platform built from scenario text and booted in this process (one per
// test process: SystemC elaborates one design).
#pragma once
#include "platform/params.h"
#include "platform/platform.h"
#include "platform/scenario.h"
#include "sw/kernel/kernel.h"

#include <doctest/doctest.h>
#include <systemc>

#include <sys/wait.h>
#include <unistd.h>

#include <functional>
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

// SystemC elaborates one design per process: a measurement that builds one
// runs in a child, which hands back its figures (plain data) through a pipe.
template <class T> T in_child(const std::function<T()>& f) {
    int fd[2];
    REQUIRE(pipe(fd) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        T v = f();
        if (write(fd[1], &v, sizeof v) != sizeof v) _exit(1);
        _exit(0);
    }
    close(fd[1]);
    T v{};
    REQUIRE(read(fd[0], &v, sizeof v) == sizeof v);
    close(fd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return v;
}

}  // namespace ioatsim
