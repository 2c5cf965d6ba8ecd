#include "platform/runner.h"

#include "models/core/report.h"
#include "platform/params.h"
#include "platform/perfetto.h"
#include "platform/platform.h"
#include "platform/signals.h"
#include "platform/timeline.h"
#include "platform/verdict.h"
#include "sw/kernel/kernel.h"

#include <systemc>

#include <unistd.h>

#include <sstream>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

namespace ioatsim {
namespace fs = std::filesystem;

namespace {

// What the checker can report; declared up front so `expect` can name them.
const char* const violation_kinds[] = {
    "copy_corrupt", "copy_lost", "copy_failed", "cookie_order", "client_count", "completion_address",
    "use_after_free", "double_free", "bad_free", "pool_busy_at_destroy", "hung", "leaked_pins", "pins", "table",
    "private", "use_after_unregister", "bug", "async_tx_ack", "removal_incomplete", "removal_failed", "boot_incomplete",
    "no_progress"};

// The scenario as run: the effective value of every parameter and option.
json_obj effective_params(const scenario& sc, const params& p) {
    json_obj platform, run, software;
    for (auto& [k, v] : p.values()) platform.set(k, v);
    run.set("until_ps", sc.until_ps).set("quantum_ps", sc.quantum_ps).set("seed", sc.seed).set("poll_skip", sc.poll_skip);
    software.set("os", sc.os).set("design", sw::to_string(sc.dmaengine.design))
        .set("numa_affinity", sc.dmaengine.numa_affinity).set("failback", sc.dmaengine.fails_back())
        .set("iommu", sc.iommu).set("dma_debug", sc.dma_debug);
    return json_obj().set("preset", sc.preset).set("platform", platform).set("run", run).set("software", software);
}

// summary.json as nlohmann sees it: the same keys before the run (to check the
// paths `expect` names) and after it.
json_obj summary_of(const scenario& sc, const params& p, platform& plat, double wall_s, const timeline* tl) {
    report& rep = sim_report();
    json_obj counters;
    for (auto& [k, v] : rep.counters()) counters.set(k, v);
    json_obj summary;
    summary.set("program", json_obj().set("name", "ioatsim").set("version", IOATSIM_VERSION)
                               .set("systemc", sc_core::sc_release()))
        .set("scenario", sc.name)
        .set("seed", sc.seed)
        .set("params", effective_params(sc, p))
        .set("sim_time_ps", uint64_t(sc_core::sc_time_stamp().value()))
        .set("wall_time_s", wall_s)
        .set("violations", rep.violations())
        .set("trace_events", rep.trace_size())
        .set("counters", counters)
        .set("verdict", "")
        .set("exit_status", 0);
    plat.removal_summary(summary);
    if (tl) summary.set_raw("timeline", tl->actions_json());
    return summary;
}

const char* const outputs[] = {"log.txt",    "hotplug.jsonl",       "trace.jsonl", "summary.json",
                               "scenario.effective.yaml", "trace.perfetto.json", "signals.vcd"};

// The output folder, made and proven writable before the platform is built: a run
// that could not keep its results must not run first.
// `made` gets the folders it creates, outermost first.
fs::path out_dir_of(const scenario& sc, const run_options& opt, std::vector<fs::path>& made) {
    fs::path dir = opt.out_dir.empty() ? fs::path("out") / sc.name : fs::path(opt.out_dir);
    const std::string where = opt.out_dir.empty() ? dir.string() : "--out " + dir.string();
    std::error_code ec;
    if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
        throw input_error(where + ": not a folder (the outputs go into a folder of this name)");
    for (fs::path p = dir.lexically_normal(); !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
        made.insert(made.begin(), p);
        if (p == p.parent_path()) break;
    }
    fs::create_directories(dir, ec);
    if (ec || !fs::is_directory(dir))
        throw input_error(where + ": cannot create the output folder" + (ec ? ": " + ec.message() : ""));
    // Each output is written as NAME.tmp.PID, then renamed over NAME: NAME may be
    // a file or a link (the rename replaces it), the temporary only a file (it is
    // written through).
    for (const char* name : outputs) {
        const fs::path tmp = dir / (std::string(name) + ".tmp." + std::to_string(getpid()));
        for (const fs::path& p : {dir / name, tmp}) {
            const fs::file_status st = fs::symlink_status(p, ec);
            const bool link_ok = p != tmp && fs::is_symlink(st);
            if (fs::exists(st) && !fs::is_regular_file(st) && !link_ok)
                throw input_error(p.string() + ": in the way of an output (" +
                                  (fs::is_directory(st) ? "a folder" : "not a regular file") +
                                  "; every output name must be free or a file)");
        }
    }
    // Writable: a file can be made there (permissions, read-only mounts, /proc).
    const fs::path probe = dir / (".ioatsim-probe-" + std::to_string(::getpid()));
    {
        std::ofstream o(probe, std::ios::binary | std::ios::trunc);
        o << "probe\n";
        if (!o.flush()) {
            const int err = errno;
            o.close();
            fs::remove(probe, ec);
            throw input_error(where + ": cannot write in the output folder" +
                              (err ? std::string(": ") + std::strerror(err) : ""));
        }
    }
    fs::remove(probe, ec);
    return dir;
}

}  // namespace

void write_whole(const std::string& path, const std::string& text) {
    fs::path tmp = path + ".tmp." + std::to_string(getpid());
    {
        std::ofstream o(tmp, std::ios::binary | std::ios::trunc);
        o << text;
        if (!o.flush()) {
            std::error_code ec;
            fs::remove(tmp, ec);
            throw input_error(path + ": cannot write");
        }
    }
    std::error_code ec, ignored;
    fs::rename(tmp, path, ec);
    if (ec) {
        fs::remove(tmp, ignored);
        throw input_error(path + ": cannot write: " + ec.message());
    }
}

std::string read_whole(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

struct run_session::impl {
    const scenario* sc;
    run_options opt;
    std::chrono::steady_clock::time_point wall0 = std::chrono::steady_clock::now();
    params p;
    run_result res;
    fs::path dir;
    std::unique_ptr<platform> plat;
    std::unique_ptr<timeline> tl;
    std::unique_ptr<perfetto_writer> perfetto;
    std::unique_ptr<signal_tracer> vcd;
    bool finished = false;
    static bool stopped() { return sc_core::sc_get_status() == sc_core::SC_STOPPED; }

    void clear_outputs() {
        // An output this run does not write must not be taken for one of its own.
        for (const char* name : outputs) {
            std::error_code ec;
            fs::remove(dir / name, ec);
        }
    }
};

run_session::run_session(const scenario& sc, const run_options& opt) : p_(new impl) {
    impl& m = *p_;
    m.sc = &sc;
    m.opt = opt;
    m.p = params::resolve(sc);
    report& rep = sim_report();
    for (const char* k : violation_kinds) rep.declare(std::string("violations.") + k);
    if (!opt.quiet) rep.set_echo([](const std::string& l) { std::cout << l << '\n'; });

    // Bad input found between here and the start of the run (the platform's,
    // the timeline's, expect's paths) leaves no folder of ours behind.
    struct unmake {
        std::vector<fs::path> made;
        bool keep = false;
        ~unmake() {
            std::error_code ec;
            for (auto it = made.rbegin(); !keep && it != made.rend(); ++it) fs::remove(*it, ec);  // empty ones only
        }
    } folders;
    m.dir = out_dir_of(sc, opt, folders.made);
    m.res.out_dir = m.dir.string();
    m.plat = std::make_unique<platform>(sc, m.p);
    m.tl = std::make_unique<timeline>(sc, *m.plat);
    check_expect_paths(sc.expect, nlohmann::json::parse(summary_of(sc, m.p, *m.plat, 0, nullptr).str()));

    // With an OS the run ends early once the timeline is over, every operation
    // it asked the OS for has finished and software is idle (an action's work
    // may not have reached the OS yet when the action is done); hardware alone
    // runs to `until`.
    if (sw::kernel* k = m.plat->kernel()) {
        timeline* tl = m.tl.get();
        platform* plat = m.plat.get();
        auto maybe_stop = [k, tl, plat] {
            if (tl->done() && !plat->ops_pending() && k->idle()) sc_core::sc_stop();
        };
        k->set_idle_callback(maybe_stop);
        m.tl->on_done(maybe_stop);
    }
    folders.keep = true;
    m.clear_outputs();
    if (opt.perfetto) {
        m.perfetto = std::make_unique<perfetto_writer>(*m.plat, (m.dir / "trace.perfetto.json").string());
        rep.add_sink(m.perfetto.get());
    }
    if (opt.vcd) m.vcd = std::make_unique<signal_tracer>(*m.plat, (m.dir / "signals.vcd").string());
    rep.open_traces(opt.trace, (m.dir / "hotplug.jsonl").string(), (m.dir / "trace.jsonl").string());
    m.plat->boot();
    m.tl->start();
}

run_session::~run_session() {
    if (p_->finished) return;
    sim_report().close_traces(false);
    if (p_->perfetto) p_->perfetto->close(false);
    if (p_->vcd) p_->vcd->close(false);
}

uint64_t run_session::now_ps() const { return uint64_t(sc_core::sc_time_stamp().value()); }

void run_session::hold_action(size_t file_index) { p_->tl->hold(file_index); }

// sc_start up to each action's instant, then the action let go: the same
// steps whatever other instants the run stops at.
bool run_session::advance_to(uint64_t t_ps) {
    impl& m = *p_;
    t_ps = std::min(t_ps, m.sc->until_ps);
    while (!m.stopped()) {
        m.tl->release_due(now_ps());
        const uint64_t stop = std::min(m.tl->next_at(), t_ps);
        if (stop <= now_ps()) break;
        sc_core::sc_start(sc_core::sc_time::from_value(stop - now_ps()));
    }
    return !m.stopped() && now_ps() < m.sc->until_ps;
}

void run_session::become(const scenario& sc, const std::string& out_dir, size_t file_index, uint64_t at_ps) {
    impl& m = *p_;
    m.sc = &sc;
    m.opt.out_dir = out_dir;
    std::vector<fs::path> made;
    m.dir = out_dir_of(sc, m.opt, made);
    m.res.out_dir = m.dir.string();
    m.clear_outputs();
    sim_report().move_traces((m.dir / "hotplug.jsonl").string(), (m.dir / "trace.jsonl").string());
    m.tl->move_and_let_go(file_index, at_ps);
    m.plat->unshare_memory();
}

run_result run_session::finish() {
    impl& m = *p_;
    report& rep = sim_report();
    advance_to(m.sc->until_ps);
    m.plat->finish();
    rep.set_echo(nullptr);

    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - m.wall0).count();
    json_obj summary = summary_of(*m.sc, m.p, *m.plat, wall, m.tl.get());
    std::vector<check_outcome> outcomes = m.tl->outcomes();
    for (auto& o : evaluate(m.sc->expect, nlohmann::json::parse(summary.str()), rep.log_lines()))
        outcomes.push_back(o);
    bool ok = true;
    std::vector<std::string> encoded;
    for (auto& o : outcomes) {
        ok = ok && o.ok;
        encoded.push_back(o.encoded);
        if (!o.ok) std::cout << "expectation failed: " << o.message << '\n';
    }
    if (rep.violations()) std::cout << "checker: " << rep.violations() << " violation(s)\n";
    m.res.verdict = ok ? "pass" : "fail";
    m.res.exit_code = ok ? 0 : 1;
    summary.set("verdict", m.res.verdict).set("exit_status", m.res.exit_code).set_raw("expectations", json_array(encoded));

    std::string log;
    for (auto& l : rep.log_lines()) log += l + '\n';
    write_whole((m.dir / "scenario.effective.yaml").string(), to_yaml(m.sc->effective));
    write_whole((m.dir / "log.txt").string(), log);
    write_whole((m.dir / "summary.json").string(), nlohmann::json::parse(summary.str()).dump(2) + '\n');
    m.finished = true;
    rep.close_traces(true);
    if (m.perfetto) m.perfetto->close(true);
    if (m.vcd) m.vcd->close(true);
    return m.res;
}

run_result run_scenario(const scenario& sc, const run_options& opt) {
    run_session s(sc, opt);
    return s.finish();
}

}  // namespace ioatsim
