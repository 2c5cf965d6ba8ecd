#include "platform/runner.h"

#include "models/core/report.h"
#include "platform/params.h"
#include "platform/platform.h"
#include "platform/timeline.h"
#include "sw/kernel/kernel.h"

#include <systemc>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>

namespace ioatsim {
namespace fs = std::filesystem;

namespace {

// What the checker can report; declared up front so `expect` can name them.
const char* const violation_kinds[] = {"copy_corrupt", "copy_lost", "copy_failed", "cookie_order",
                                       "client_count", "completion_address", "use_after_free",
                                       "double_free", "bad_free", "pool_busy_at_destroy", "hung",
                                       "leaked_pins", "pins", "table", "private",
                                       "use_after_unregister", "bug", "async_tx_ack"};

check_outcome check_counter(const expect_counter& e, const report& rep) {
    int64_t v = rep.get(e.counter);
    bool ok = v >= e.min && v <= e.max;
    json_obj o;
    o.set("kind", "counter").set("name", e.counter).set("actual", v).set("ok", ok);
    if (e.min == e.max) o.set("expected", e.min);
    else {
        if (e.min != INT64_MIN) o.set("min", e.min);
        if (e.max != INT64_MAX) o.set("max", e.max);
    }
    std::string want = e.min == e.max ? std::to_string(e.min)
                       : "[" + (e.min == INT64_MIN ? std::string("-inf") : std::to_string(e.min)) + ", " +
                             (e.max == INT64_MAX ? std::string("inf") : std::to_string(e.max)) + "]";
    return {ok, o.str(), e.pos.str() + ": " + e.counter + " = " + std::to_string(v) + ", expected " + want};
}

check_outcome check_pattern(const expect_pattern& e, bool want, const std::vector<std::string>& log) {
    std::regex re(e.pattern);
    bool found = false;
    for (auto& l : log)
        if (std::regex_search(l, re)) { found = true; break; }
    bool ok = found == want;
    json_obj o;
    o.set("kind", want ? "log_contains" : "log_lacks").set("pattern", e.pattern).set("ok", ok);
    return {ok, o.str(), e.pos.str() + ": log " + (want ? "lacks" : "contains") + " /" + e.pattern + "/"};
}

}  // namespace

void write_whole(const std::string& path, const std::string& text) {
    fs::path tmp = path + ".tmp";
    {
        std::ofstream o(tmp, std::ios::binary | std::ios::trunc);
        o << text;
        if (!o.flush()) throw input_error(path + ": cannot write");
    }
    fs::rename(tmp, path);
}

run_result run_scenario(const scenario& sc, const run_options& opt) {
    auto wall0 = std::chrono::steady_clock::now();
    params p = params::resolve(sc);

    report& rep = sim_report();
    for (const char* k : violation_kinds) rep.declare(std::string("violations.") + k);
    for (const char* c : {"copies.submitted", "copies.completed", "copies.failed_back", "copies.cpu"})
        rep.declare(c);
    if (!opt.quiet) rep.set_echo([](const std::string& l) { std::cout << l << '\n'; });

    run_result res;
    res.out_dir = opt.out_dir.empty() ? "out/" + sc.name + "/" : opt.out_dir;
    platform plat(sc, p);
    timeline tl(sc, plat);
    for (auto& e : sc.expect.counters)
        if (!rep.has(e.counter)) {
            std::string known;
            for (auto& [k, v] : rep.counters()) known += (known.empty() ? "" : ", ") + k;
            throw input_error(e.pos, "expect: unknown counter \"" + e.counter + "\" (known: " + known + ")");
        }

    // With an OS the run ends early once the timeline is over and software is idle;
    // hardware alone runs to `until`.
    if (sw::kernel* k = plat.kernel()) {
        auto maybe_stop = [k, &tl] {
            if (tl.done() && k->idle()) sc_core::sc_stop();
        };
        k->set_idle_callback(maybe_stop);
        tl.on_done(maybe_stop);
    }
    plat.boot();
    tl.start();
    sc_core::sc_start(sc_core::sc_time::from_value(sc.until_ps));
    plat.finish();
    uint64_t sim_ps = uint64_t(sc_core::sc_time_stamp().value());
    rep.set_echo(nullptr);

    std::vector<check_outcome> outcomes = tl.outcomes();
    for (auto& e : sc.expect.counters) outcomes.push_back(check_counter(e, rep));
    for (auto& e : sc.expect.log_contains) outcomes.push_back(check_pattern(e, true, rep.log_lines()));
    for (auto& e : sc.expect.log_lacks) outcomes.push_back(check_pattern(e, false, rep.log_lines()));
    bool ok = true;
    std::vector<std::string> encoded;
    for (auto& o : outcomes) {
        ok = ok && o.ok;
        encoded.push_back(o.encoded);
        if (!o.ok) std::cout << "expectation failed: " << o.message << '\n';
    }
    if (sc.expect.empty() && rep.violations()) {
        ok = false;
        std::cout << "checker: " << rep.violations() << " violation(s) and no expect section\n";
    }
    res.verdict = ok ? "pass" : "fail";
    res.exit_code = ok ? 0 : 1;

    json_obj counters;
    for (auto& [k, v] : rep.counters()) counters.set(k, v);
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    json_obj summary;
    summary.set("scenario", sc.name)
        .set("verdict", res.verdict)
        .set("exit_status", res.exit_code)
        .set("seed", sc.seed)
        .set("sim_time_ps", sim_ps)
        .set("wall_time_s", wall)
        .set("violations", rep.violations())
        .set("trace_events", uint64_t(rep.trace_size()))
        .set("counters", counters)
        .set_raw("expectations", json_array(encoded));
    plat.removal_summary(summary, sim_ps);

    std::string log, trace;
    for (auto& l : rep.log_lines()) log += l + '\n';
    for (auto& l : rep.trace_lines()) trace += l + '\n';
    fs::path dir(res.out_dir);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw input_error(res.out_dir + ": cannot create output folder: " + ec.message());
    write_whole((dir / "scenario.effective.yaml").string(), to_yaml(sc.effective));
    write_whole((dir / "log.txt").string(), log);
    write_whole((dir / "trace.jsonl").string(), trace);
    write_whole((dir / "summary.json").string(), summary.pretty() + '\n');
    return res;
}

}  // namespace ioatsim
