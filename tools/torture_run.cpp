#include "tools/torture.h"

#include "models/core/report.h"
#include "platform/runner.h"
#include "tools/sweep_run.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>

namespace ioatsim::torture {
namespace fs = std::filesystem;
using clock = std::chrono::steady_clock;

namespace {

struct child {
    size_t point;
    clock::time_point start;
    bool timed_out = false;
};

// In a forked child of the prefix: the instant's own scenario and folder, and
// the rest of the run as a run of that scenario would go.
[[noreturn]] void finish_instant(run_session& s, const scenario& sc, const fs::path& dir, size_t action,
                                 uint64_t at_ps) {
    sweep::child_exit(dir.string(), [&] {
        s.become(sc, dir.string(), action, at_ps);
        return s.finish().exit_code;
    });
}

// The prefix of one group (one design, one fail-back setting): simulated once
// up to each instant in turn, forking there the run that lets the action go.
[[noreturn]] void run_prefix(const request& r, const group& g) {
    const sweep::plan& p = r.plan->p;
    const fs::path scratch = fs::path(r.out) / (".prefix-" + std::to_string(g.points.front()) + "-" +
                                                std::to_string(getpid()));
    if (!std::freopen("/dev/null", "w", stdout)) _exit(3);
    std::map<pid_t, child> running;
    auto reap = [&](bool block) {
        int st = 0;
        pid_t pid = waitpid(-1, &st, block ? 0 : WNOHANG);
        if (pid <= 0) {
            for (auto& [cpid, ch] : running)
                if (r.timeout_s > 0 && !ch.timed_out &&
                    std::chrono::duration<double>(clock::now() - ch.start).count() > r.timeout_s) {
                    ch.timed_out = true;
                    kill(cpid, SIGKILL);
                }
            return false;
        }
        auto it = running.find(pid);
        if (it == running.end()) return true;
        const child ch = it->second;
        running.erase(it);
        sweep::record_point(p, ch.point, (fs::path(r.out) / p.points[ch.point].dir).string(), st, ch.timed_out,
                            std::chrono::duration<double>(clock::now() - ch.start).count());
        return true;
    };
    // Wait for a child to end (or for a timeout to be due) without polling:
    // SIGCHLD is held and taken when it comes, each fork's child unblocks it.
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, nullptr);
    auto await_child = [&] {
        if (reap(false)) return;
        timespec tick{0, 50'000'000};  // how often limits are looked at
        sigtimedwait(&chld, nullptr, &tick);
        reap(false);
    };
    int code = 0;
    try {
        run_options ro;
        ro.out_dir = scratch.string();
        ro.quiet = true;
        ro.trace = r.trace;
        run_session s(r.plan->scenarios[g.points.front()], ro);
        s.hold_action(r.action);
        for (size_t i : g.points) {
            const fs::path dir = fs::path(r.out) / p.points[i].dir;
            if (sweep::read_record(dir.string()).complete()) continue;
            while (running.size() >= std::max(1u, r.jobs)) await_child();
            const uint64_t at = instant_ps(p, i);
            s.advance_to(at);
            std::error_code ec;
            fs::remove_all(dir, ec);
            fs::create_directories(dir, ec);
            sim_report().flush_traces();
            std::fflush(nullptr);
            pid_t pid = fork();
            if (pid < 0) throw std::runtime_error("torture: cannot fork");
            if (pid == 0) {
                sigprocmask(SIG_UNBLOCK, &chld, nullptr);
                finish_instant(s, r.plan->scenarios[i], dir, r.action, at);
            }
            running[pid] = child{i, clock::now()};
        }
        // Before the session goes: a child still starting copies the trace so far from its files.
        while (!running.empty()) await_child();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "torture: prefix of point %zu: %s\n", g.points.front(), e.what());
        code = 3;
    }
    while (!running.empty()) await_child();
    std::error_code ec;
    fs::remove_all(scratch, ec);
    std::fflush(nullptr);
    _exit(code);  // the session's scratch traces go with the process
}

}  // namespace

size_t run_groups(const request& r, const std::vector<group>& groups) {
    size_t ran = 0;
    for (const group& g : groups) {
        bool todo = false;
        for (size_t i : g.points)
            todo = todo || !sweep::read_record((fs::path(r.out) / r.plan->p.points[i].dir).string()).complete();
        if (!todo) continue;
        std::fflush(nullptr);
        pid_t pid = fork();
        if (pid < 0) throw std::runtime_error("torture: cannot fork");
        if (pid == 0) run_prefix(r, g);
        int st = 0;
        waitpid(pid, &st, 0);
        ++ran;
        if (r.progress) {
            std::fprintf(stderr, "\rtorture: %zu of %zu groups done\033[K", ran, groups.size());
            std::fflush(stderr);
        }
    }
    if (r.progress && ran) std::fprintf(stderr, "\n");
    return ran;
}

}  // namespace ioatsim::torture
