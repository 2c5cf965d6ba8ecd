#include "tools/plot.h"

#include "platform/runner.h"
#include "tools/param_units.h"
#include "tools/sweep_results.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace ioatsim {
namespace fs = std::filesystem;
using sweep::csv_split;

namespace {

std::vector<std::vector<std::string>> read_csv(const fs::path& file) {
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) throw input_error(file.string() + ": not found");
    std::vector<std::vector<std::string>> rows;
    std::istringstream in(read_whole(file.string()));
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) rows.push_back(csv_split(line));
    if (rows.empty()) throw input_error(file.string() + ": empty");
    return rows;
}

bool ends_with(const std::string& s, const std::string& end) {
    return s.size() >= end.size() && s.compare(s.size() - end.size(), end.size(), end) == 0;
}

std::string last_part(const std::string& key) { return key.substr(key.rfind('.') + 1); }

std::string gp_string(const std::string& s) {  // a gnuplot string
    std::string q = "\"";
    for (char c : s) q += c == '"' || c == '\\' ? std::string("\\") + c : std::string(1, c);
    return q + "\"";
}

std::string file_part(const std::string& s) {
    std::string o;
    for (char c : s) o += std::isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-' || c == '=' ? c : '_';
    return o;
}

// Runs `gnuplot SCRIPT` in `folder`; throws with gnuplot's own message on failure.
void run_gnuplot(const fs::path& folder, const std::string& script) {
    std::fflush(nullptr);
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("plot: cannot fork");
    if (pid == 0) {
        if (chdir(folder.c_str()) != 0 || !std::freopen("gnuplot.log", "w", stdout) ||
            !std::freopen("gnuplot.log", "a", stderr))
            _exit(127);
        execlp("gnuplot", "gnuplot", script.c_str(), (char*)nullptr);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        throw std::runtime_error("gnuplot failed on " + (folder / script).string() + ": " + read_whole((folder / "gnuplot.log").string()));
}

// Writes NAME.dat and NAME.gp into a folder of its own, draws them, and moves
// all four files into `dest` only once gnuplot succeeded: no half-drawn plot.
void draw(const fs::path& dest, const std::string& name, const std::string& dat, const std::string& gp) {
    std::error_code ec;
    fs::create_directories(dest, ec);
    const fs::path work = dest / (".drawing-" + name + "-" + std::to_string(getpid()));
    fs::remove_all(work, ec);
    fs::create_directories(work, ec);
    if (ec) throw input_error(dest.string() + ": cannot write: " + ec.message());
    std::ofstream(work / (name + ".dat"), std::ios::binary) << dat;
    std::ofstream(work / (name + ".gp"), std::ios::binary) << gp;
    try {
        run_gnuplot(work, name + ".gp");
    } catch (...) {
        fs::remove_all(work, ec);
        throw;
    }
    for (const char* ext : {".dat", ".gp", ".svg", ".png"}) fs::rename(work / (name + ext), dest / (name + ext), ec);
    fs::remove_all(work, ec);
}

const char* const terminals[][2] = {
    {"svg size 900,540 fixed font \"sans,11\" background \"#ffffff\"", ".svg"},
    {"pngcairo size 900,540 font \"sans,10\" background \"#ffffff\"", ".png"}};

// The same drawing for each terminal; `body` draws once.
std::string script_for(const std::string& name, const std::string& head, const std::string& body) {
    std::string gp = "# Drawn by ioatsim; redraw with `gnuplot " + name + ".gp` in this folder.\n" + head;
    for (const auto& t : terminals)
        gp += std::string("set terminal ") + t[0] + "\nset termoption noenhanced\nset output '" + name + t[1] + "'\n" +
              body + "unset output\n";
    return gp;
}

size_t find_axis(const sweep::plan& p, const std::string& name, const char* option) {
    std::vector<size_t> hits;
    for (size_t i = 0; i < p.axes.size(); ++i) {
        const sweep::axis& a = p.axes[i];
        if (a.name == name || a.key == name) return i;
        if (ends_with(a.name, "." + name) || ends_with(a.key, "." + name)) hits.push_back(i);
    }
    if (hits.size() == 1) return hits[0];
    std::string known;
    for (const sweep::axis& a : p.axes) known += (known.empty() ? "" : ", ") + a.name;
    if (name == "seed") throw input_error(std::string(option) + ": seeds are what summary.csv aggregates, not an axis");
    throw input_error(std::string(option) + ": " + (hits.empty() ? "no axis \"" : "several axes end in \"") + name +
                      "\" (axes: " + (known.empty() ? "none" : known) + ")");
}

// An axis's values as numbers when they all are: times in the first value's unit.
bool numeric_axis(const sweep::axis& a, std::vector<double>& xs, std::string& unit) {
    static const std::map<std::string, int> time_exp = {{"ps", 0}, {"ns", 3}, {"us", 6}, {"ms", 9}, {"s", 12}};
    xs.clear();
    std::string first_unit;
    for (size_t i = 0; i < a.values.size(); ++i) {
        const char* s = a.values[i].c_str();
        char* end = nullptr;
        double v = std::strtod(s, &end);
        if (end == s) return false;
        std::string u = end;
        u.erase(0, u.find_first_not_of(' '));
        if (i == 0) first_unit = u;
        if (time_exp.count(u) && time_exp.count(first_unit)) v *= std::pow(10.0, time_exp.at(u) - time_exp.at(first_unit));
        else if (u != first_unit) return false;
        xs.push_back(v);
    }
    unit = first_unit;
    if (unit.empty() && a.key.rfind("platform.set.", 0) == 0) unit = param_unit(a.key.substr(13));
    return true;
}

std::string label(const std::string& name, const std::string& unit) {
    return unit.empty() ? name : name + " (" + unit + ")";
}

}  // namespace

std::string gnuplot_missing() {
    const char* path = std::getenv("PATH");
    std::istringstream dirs(path ? path : "");
    for (std::string d; std::getline(dirs, d, ':');)
        if (!d.empty() && access((fs::path(d) / "gnuplot").c_str(), X_OK) == 0) return "";
    return "gnuplot is not installed (Debian: apt-get install gnuplot-nox; ./tools/setup.sh installs it)";
}

std::string metric_unit(const std::string& metric) {
    const std::string m = last_part(metric);
    if (ends_with(m, "_gbytes_per_s")) return "GB/s";
    if (ends_with(m, "bytes") || m.rfind("bytes_", 0) == 0) return "bytes";
    if (metric.rfind("counters.", 0) == 0 || metric == "violations" || metric == "trace_events") return "count";
    if (metric.rfind("copies.", 0) == 0 || metric.find(".copies.") != std::string::npos) return "copies";
    if (m.rfind("ns_per_", 0) == 0) return "ns";
    for (const char* u : {"ps", "ns", "us", "ms", "s"})
        if (ends_with(m, std::string("_") + u)) return u;
    return "";
}

void choose_plot_axes(const std::vector<std::string>& names, const std::vector<size_t>& sizes, std::string& x,
                      std::string& by) {
    x.clear();
    by.clear();
    const bool design = !names.empty() && names[0] == "design";
    for (size_t i = design ? 1 : 0; i < names.size() && x.empty(); ++i) x = names[i];
    if (x.empty()) {
        if (names.empty()) throw input_error("--plot: the sweep has no axis to draw against");
        x = names[0];
    }
    if (design && x != "design" && sizes[0] > 1) by = "design";
    for (size_t i = 0; i < names.size(); ++i) {
        if (names[i] == x || names[i] == by || sizes[i] < 2) continue;
        if (by.empty()) {
            by = names[i];
            continue;
        }
        throw input_error("--plot: " + names[i] + " varies too, beside " + x + " and " + by +
                          "; draw each value with ioatsim plot DIR --x " + x + " --by " + by + " --where " + names[i] +
                          "=VALUE");
    }
}

std::vector<std::string> plot_sweep(const plot_request& r) {
    if (std::string why = gnuplot_missing(); !why.empty()) throw input_error("plot: " + why);
    const sweep::plan p = sweep::read_plan(r.dir);
    const size_t xi = find_axis(p, r.x, "--x");
    const size_t bi = r.by.empty() ? SIZE_MAX : find_axis(p, r.by, "--by");
    if (bi == xi) throw input_error("--by: " + r.by + " is already --x");
    std::map<size_t, std::string> held;
    for (const auto& [k, v] : r.where) {
        const size_t i = find_axis(p, k, "--where");
        if (i == xi || i == bi) throw input_error("--where " + k + ": that axis is drawn already");
        const auto& vals = p.axes[i].values;
        if (std::find(vals.begin(), vals.end(), v) == vals.end())
            throw input_error("--where " + k + "=" + v + ": not a value of " + p.axes[i].name);
        held[i] = v;
    }
    for (size_t i = 0; i < p.axes.size(); ++i)
        if (i != xi && i != bi && !held.count(i) && p.axes[i].values.size() > 1)
            throw input_error("plot: " + p.axes[i].name + " has " + std::to_string(p.axes[i].values.size()) +
                              " values; hold one with --where " + p.axes[i].name + "=VALUE or draw it with --by");
    if (r.y.empty()) throw input_error("--y: name at least one metric");

    const auto rows = read_csv(fs::path(r.dir) / "summary.csv");
    const std::vector<std::string>& head = rows.front();
    auto column = [&](const std::string& name) -> long {
        for (size_t i = 0; i < head.size(); ++i)
            if (head[i] == name) return long(i);
        return -1;
    };
    const sweep::axis& xa = p.axes[xi];
    std::vector<double> xs;
    std::string xunit;
    const bool numeric = numeric_axis(xa, xs, xunit);
    std::vector<std::string> series = bi == SIZE_MAX ? std::vector<std::string>{""} : p.axes[bi].values;
    std::string held_text;
    for (const auto& [i, v] : held) held_text += (held_text.empty() ? "" : ", ") + p.axes[i].name + "=" + v;

    std::vector<std::string> written;
    for (std::string metric : r.y) {
        if (column(metric + ".mean") < 0 && column("counters." + metric + ".mean") >= 0) metric = "counters." + metric;
        const long mean = column(metric + ".mean");
        if (mean < 0) {
            std::string known;
            for (const std::string& h : head)
                if (ends_with(h, ".mean")) known += (known.empty() ? "" : ", ") + h.substr(0, h.size() - 5);
            throw input_error("--y: \"" + metric + "\" is no number of this sweep's summaries (numbers: " + known + ")");
        }
        // Data: per series a block of rows x, label, mean, min, max, n, as summary.csv has them.
        std::ostringstream dat;
        dat << "# " << metric << " against " << xa.name << (bi == SIZE_MAX ? "" : ", one block per " + p.axes[bi].name)
            << (held_text.empty() ? "" : ", " + held_text) << ", from summary.csv\n# x label mean min max n\n";
        std::vector<std::pair<size_t, std::string>> drawn;  // block index, series
        size_t block = 0;
        for (const std::string& s : series) {
            std::ostringstream rows_of;
            bool any = false;
            for (size_t v = 0; v < xa.values.size(); ++v)
                for (size_t k = 1; k < rows.size(); ++k) {
                    const auto& row = rows[k];
                    if (row.size() != head.size() || row[xi] != xa.values[v]) continue;
                    if (bi != SIZE_MAX && row[bi] != s) continue;
                    bool keep = true;
                    for (const auto& [i, hv] : held) keep = keep && row[i] == hv;
                    if (!keep) continue;
                    char x[40];
                    std::snprintf(x, sizeof x, "%.10g", numeric ? xs[v] : double(v));
                    auto val = [&](long c) { return row[size_t(c)].empty() ? std::string("-") : row[size_t(c)]; };
                    rows_of << x << ' ' << gp_string(xa.values[v]) << ' ' << val(mean) << ' ' << val(mean + 1) << ' '
                            << val(mean + 2) << ' ' << row[size_t(mean - 1)] << '\n';
                    any = any || !row[size_t(mean)].empty();
                }
            if (!any) continue;  // gnuplot refuses a block without a value
            dat << "# " << (bi == SIZE_MAX ? "all" : p.axes[bi].name + "=" + s) << '\n' << rows_of.str() << "\n\n";
            drawn.emplace_back(block++, s);
        }
        if (drawn.empty()) throw input_error("--y " + metric + ": no point has a value for it");

        std::string name = file_part(metric) + "-vs-" + file_part(last_part(xa.name)) +
                           (bi == SIZE_MAX ? "" : "-by-" + file_part(last_part(p.axes[bi].name)));
        for (const auto& [i, v] : held) name += "-" + file_part(last_part(p.axes[i].name) + "=" + v);
        std::ostringstream head_gp, body;
        head_gp << "set datafile missing \"-\"\nset grid\nset key outside right top"
                << (bi == SIZE_MAX ? "" : " title " + gp_string(p.axes[bi].name)) << '\n'
                << "set title " << gp_string(metric + ": mean over seeds, bars from min to max" +
                                          (held_text.empty() ? "" : " (" + held_text + ")")) << '\n'
                << "set xlabel " << gp_string(label(xa.name, numeric ? xunit : "")) << '\n'
                << "set ylabel " << gp_string(label(metric, metric_unit(metric))) << '\n';
        if (numeric && xa.log) head_gp << "set logscale x\n";
        if (!numeric) {
            head_gp << "set xrange [-0.5:" << xa.values.size() - 0.5 << "]\nset xtics (";
            for (size_t v = 0; v < xa.values.size(); ++v) head_gp << (v ? ", " : "") << gp_string(xa.values[v]) << ' ' << v;
            head_gp << ")\n";
        }
        body << "plot ";
        for (size_t i = 0; i < drawn.size(); ++i)
            body << (i ? ", \\\n     " : "") << "'" << name << ".dat' index " << drawn[i].first
                 << " using 1:3:4:5 with yerrorlines pointtype 7 title "
                 << (bi == SIZE_MAX ? "\"mean\"" : gp_string(drawn[i].second));
        body << '\n';
        draw(fs::path(r.dir) / "plots", name, dat.str(), script_for(name, head_gp.str(), body.str()));
        written.push_back((fs::path(r.dir) / "plots" / (name + ".svg")).string());
    }
    return written;
}

void plot_compare(const std::string& dir) {
    if (std::string why = gnuplot_missing(); !why.empty()) throw input_error("chart: " + why);
    const auto rows = read_csv(fs::path(dir) / "compare.csv");
    const auto& head = rows.front();
    // compare.csv's columns for each figure, in the order the data file has them.
    const char* const figures[] = {"removal latency (us)", "freed latency (us)", "GB/s before", "GB/s during",
                                   "GB/s after",           "ref ns per DMA op",  "lost",        "failed_back"};
    std::vector<size_t> col;
    for (const char* f : figures) {
        auto it = std::find(head.begin(), head.end(), f);
        if (it == head.end()) throw std::runtime_error(dir + "/compare.csv: no column \"" + f + "\"");
        col.push_back(size_t(it - head.begin()));
    }
    std::ostringstream dat;
    dat << "# design";
    for (const char* f : figures) dat << " " << gp_string(f);
    dat << "\n";
    std::vector<bool> any(std::size(figures), false);
    for (size_t k = 1; k < rows.size(); ++k) {
        const auto& row = rows[k];
        if (row.size() != head.size()) continue;
        dat << gp_string(row[0]);
        for (size_t f = 0; f < col.size(); ++f) {
            const std::string& v = row[col[f]];
            const bool number = !v.empty() && v.find_first_not_of("0123456789.-") == std::string::npos && v != "-";
            dat << ' ' << (number ? v : "-");  // "never" and "-" are no bar
            any[f] = any[f] || number;
        }
        dat << '\n';
    }
    // Each panel: a title, a y label and its figures (columns 2.. of the data file).
    struct panel { const char* title; const char* ylabel; std::vector<size_t> figs; std::vector<const char*> keys; };
    const panel panels[] = {
        {"removal latency", "us", {0, 1}, {"to the OS's end", "to memory freed"}},
        {"client throughput", "GB/s", {2, 3, 4}, {"before", "during", "after"}},
        {"channel references", "CPU ns per DMA operation", {5}, {"ns"}},
        {"copies", "copies", {6, 7}, {"lost", "failed back"}},
    };
    std::ostringstream head_gp, body;
    head_gp << "set datafile missing \"-\"\nset style data histograms\nset style histogram clustered gap 1\n"
               "set style fill solid 0.8 border -1\nset boxwidth 0.9\nset grid ytics\nset xtics rotate by -30\n"
               "set yrange [0:*]\nset offsets 0, 0, graph 0.3, 0\nset key top left horizontal\n";
    body << "set multiplot layout 2,2 title \"compare: " << fs::path(dir).filename().string() << "\"\n";
    for (const panel& pn : panels) {
        body << "set title " << gp_string(pn.title) << "\nset ylabel " << gp_string(pn.ylabel) << '\n';
        std::vector<size_t> figs;
        for (size_t f : pn.figs)
            if (any[f]) figs.push_back(f);
        if (figs.empty()) {  // nothing to draw: say so rather than fail
            body << "set label 1 \"no data\" at graph 0.5,0.5 center\nunset xtics\n"
                    "plot [0:1] [0:1] -1 notitle with lines\nunset label 1\nset xtics rotate by -30\n";
            continue;
        }
        body << "plot ";
        for (size_t i = 0; i < figs.size(); ++i) {
            size_t k = size_t(std::find(pn.figs.begin(), pn.figs.end(), figs[i]) - pn.figs.begin());
            body << (i ? ", '' " : "'compare.dat' ") << "using " << figs[i] + 2 << (i ? "" : ":xtic(1)") << " title "
                 << gp_string(pn.keys[k]);
        }
        body << '\n';
    }
    body << "unset multiplot\n";
    draw(fs::path(dir), "compare", dat.str(), script_for("compare", head_gp.str(), body.str()));
}

}  // namespace ioatsim
