#include "tools/children.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>

namespace ioatsim {

namespace {
[[noreturn]] void child(const child_run& r) {
    int code = 3;
    try {
        std::filesystem::create_directories(r.options.out_dir);
        if (!std::freopen(r.stdout_to.c_str(), "w", stdout)) _exit(3);
        code = run_scenario(r.sc, r.options).exit_code;
    } catch (const input_error& e) {
        std::fprintf(stderr, "%s: %s\n", r.label.c_str(), e.what());
        code = 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: internal error: %s\n", r.label.c_str(), e.what());
    }
    std::fflush(stdout);
    _exit(code);
}
}  // namespace

std::vector<int> run_in_children(const std::vector<child_run>& runs, unsigned parallel) {
    std::cout.flush();  // a child must not print the parent's buffered lines again
    std::map<pid_t, size_t> running;
    std::vector<int> status(runs.size(), 3);
    auto reap = [&] {
        int st = 0;
        pid_t pid = wait(&st);
        if (auto it = running.find(pid); it != running.end()) {
            status[it->second] = WIFEXITED(st) ? WEXITSTATUS(st) : 3;
            running.erase(it);
        }
    };
    for (size_t i = 0; i < runs.size(); ++i) {
        while (running.size() >= std::max(1u, parallel)) reap();
        pid_t pid = fork();
        if (pid < 0) throw input_error(runs[i].label + ": cannot fork");
        if (pid == 0) child(runs[i]);
        running[pid] = i;
    }
    while (!running.empty()) reap();
    return status;
}

}  // namespace ioatsim
