#include "tools/sweep_run.h"

#include "platform/runner.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

namespace ioatsim::sweep {
namespace fs = std::filesystem;
using clock = std::chrono::steady_clock;

namespace {

std::string last_line(const fs::path& file) {
    std::string text = read_whole(file.string()), line;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);)
        if (l.find_first_not_of(" \t\r") != std::string::npos) line = l;
    return line;
}

struct child {
    size_t point;
    clock::time_point start;
    bool timed_out = false;
};

// The child: runs one point into its folder, its messages into files there.
[[noreturn]] void run_child(const scenario& sc, const fs::path& dir, trace_level trace) {
    child_exit(dir.string(), [&] {
        run_options ro;
        ro.out_dir = dir.string();
        ro.quiet = true;
        ro.trace = trace;
        return run_scenario(sc, ro).exit_code;
    });
}

void record(const plan& p, size_t i, const fs::path& dir, int wait_status, bool timed_out, double wall) {
    point_record r;
    r.wall_time_s = wall;
    if (timed_out) {
        r.status = "timeout";
        r.exit_status = 128 + SIGKILL;
        r.message = "stopped after the --timeout";
    } else if (WIFSIGNALED(wait_status)) {
        r.status = "crashed";
        r.exit_status = 128 + WTERMSIG(wait_status);
        r.message = std::string("killed by signal ") + std::to_string(WTERMSIG(wait_status)) + " (" +
                    strsignal(WTERMSIG(wait_status)) + ")";
    } else {
        r.exit_status = WEXITSTATUS(wait_status);
        r.status = r.exit_status == 0 ? "pass" : r.exit_status == 1 ? "fail" : r.exit_status == 2 ? "error" : "crashed";
        if (!r.complete()) r.message = last_line(dir / "stderr.txt");
    }
    // Empty message files say nothing; a whole summary must exist for a verdict.
    std::error_code ec;
    for (const char* f : {"stdout.txt", "stderr.txt"})
        if (fs::file_size(dir / f, ec) == 0 && !ec) fs::remove(dir / f, ec);
    if (r.complete() && !fs::exists(dir / "summary.json")) {
        r.status = "crashed";
        r.message = "no summary.json";
    }
    const point& pt = p.points[i];
    nlohmann::json j;
    j["point"] = pt.index;
    j["seed"] = pt.seed;
    for (size_t a = 0; a < p.axes.size(); ++a) j["axes"][p.axes[a].name] = pt.values[a];
    j["status"] = r.status;
    j["exit_status"] = r.exit_status;
    j["wall_time_s"] = std::round(r.wall_time_s * 1000) / 1000;
    j["message"] = r.message;
    write_whole((dir / "point.json").string(), j.dump(2) + "\n");
}

void tally(run_counts& c, const point_record& r) {
    if (r.status == "pass") ++c.pass;
    else if (r.status == "fail") ++c.fail;
    else ++c.other;
}

std::string duration(double s) {
    char b[32];
    if (s < 90) std::snprintf(b, sizeof b, "%.0f s", s);
    else if (s < 5400) std::snprintf(b, sizeof b, "%.0f min", s / 60);
    else std::snprintf(b, sizeof b, "%.1f h", s / 3600);
    return b;
}

}  // namespace

void child_exit(const std::string& dir, const std::function<int()>& body) {
    int code = 3;
    if (!std::freopen((fs::path(dir) / "stdout.txt").c_str(), "w", stdout) ||
        !std::freopen((fs::path(dir) / "stderr.txt").c_str(), "w", stderr))
        _exit(3);
    try {
        code = body();
    } catch (const input_error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        code = 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "internal error: %s\n", e.what());
    }
    std::fflush(stdout);
    std::fflush(stderr);
    _exit(code);
}

void record_point(const plan& p, size_t i, const std::string& dir, int wait_status, bool timed_out, double wall) {
    record(p, i, dir, wait_status, timed_out, wall);
}

point_record read_record(const std::string& point_dir) {
    point_record r;
    const fs::path dir(point_dir);
    std::error_code ec;
    if (!fs::is_regular_file(dir / "point.json", ec)) return r;
    try {
        const nlohmann::json j = nlohmann::json::parse(read_whole((dir / "point.json").string()));
        r.status = j.at("status").get<std::string>();
        r.exit_status = j.at("exit_status").get<int>();
        r.wall_time_s = j.at("wall_time_s").get<double>();
        r.message = j.at("message").get<std::string>();
        // A verdict counts only with a whole summary.json (parse throws on a cut one).
        if (r.complete() && !nlohmann::json::parse(read_whole((dir / "summary.json").string())).is_object()) return point_record{};
    } catch (const std::exception&) {
        return point_record{};  // cut short or damaged: run it again
    }
    return r;
}

run_counts run_points(const run_request& r) {
    const plan& p = r.plan->p;
    run_counts c;
    std::deque<size_t> todo;
    for (const point& pt : p.points) {
        if (!in_shard(pt.index, r.shard, r.shards)) continue;
        ++c.selected;
        point_record rec = read_record((fs::path(r.out) / pt.dir).string());
        if (rec.complete()) {
            ++c.skipped;
            tally(c, rec);
        } else {
            todo.push_back(pt.index);
        }
    }
    std::fflush(nullptr);
    std::cout.flush();

    const auto start = clock::now();
    auto last_draw = start - std::chrono::seconds(1);
    std::map<pid_t, child> running;
    size_t done = 0;
    const size_t total = todo.size();
    bool drawn = false;
    auto draw = [&](bool force) {
        if (!r.progress || (!force && clock::now() - last_draw < std::chrono::milliseconds(250))) return;
        last_draw = clock::now();
        drawn = true;
        const double elapsed = std::chrono::duration<double>(last_draw - start).count();
        std::string left = done ? "~" + duration(elapsed / done * double(total - done)) + " left" : "time left unknown";
        std::fprintf(stderr, "\rsweep: %zu/%zu done (%zu fail, %zu crashed or timed out), %zu running, %s\033[K",
                     c.skipped + done, c.selected, c.fail, c.other, running.size(), left.c_str());
        std::fflush(stderr);
    };
    while (!todo.empty() || !running.empty()) {
        while (!todo.empty() && running.size() < std::max(1u, r.jobs)) {
            const size_t i = todo.front();
            todo.pop_front();
            const fs::path dir = fs::path(r.out) / p.points[i].dir;
            std::error_code ec;
            fs::remove_all(dir, ec);  // what an earlier, cut-short run left
            fs::create_directories(dir, ec);
            if (ec) throw input_error(dir.string() + ": cannot create the point's folder: " + ec.message());
            pid_t pid = fork();
            if (pid < 0) throw std::runtime_error("sweep: cannot fork");
            if (pid == 0) run_child(r.plan->scenarios[i], dir, r.trace);
            running[pid] = child{i, clock::now()};
        }
        draw(false);
        int st = 0;
        pid_t pid = waitpid(-1, &st, WNOHANG);
        if (pid <= 0) {
            for (auto& [cpid, ch] : running)
                if (r.timeout_s > 0 && !ch.timed_out &&
                    std::chrono::duration<double>(clock::now() - ch.start).count() > r.timeout_s) {
                    ch.timed_out = true;
                    kill(cpid, SIGKILL);
                }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            continue;
        }
        auto it = running.find(pid);
        if (it == running.end()) continue;
        const child ch = it->second;
        running.erase(it);
        const fs::path dir = fs::path(r.out) / p.points[ch.point].dir;
        record(p, ch.point, dir, st, ch.timed_out, std::chrono::duration<double>(clock::now() - ch.start).count());
        tally(c, read_record(dir.string()));
        ++c.ran;
        ++done;
        draw(true);
    }
    if (drawn) std::fprintf(stderr, "\n");
    return c;
}

}  // namespace ioatsim::sweep
