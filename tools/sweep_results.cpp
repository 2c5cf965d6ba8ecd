#include "tools/sweep_results.h"

#include "platform/runner.h"
#include "tools/sweep_run.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace ioatsim::sweep {
namespace fs = std::filesystem;

namespace {

// Every number, boolean and null of summary.json by its dotted path; lists
// (expectations, OS operations) are records, not figures, and are left out.
void flatten(const nlohmann::json& j, const std::string& prefix, std::map<std::string, nlohmann::json>& out) {
    for (auto it = j.begin(); it != j.end(); ++it) {
        const std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
        if (it->is_object()) flatten(*it, key, out);
        else if (it->is_number() || it->is_boolean() || it->is_null()) out[key] = *it;
    }
}

struct row {
    const point* pt;
    point_record rec;
    std::map<std::string, nlohmann::json> metrics;
};

std::string cell(const nlohmann::json& v) {
    if (v.is_boolean()) return v.get<bool>() ? "1" : "0";
    if (v.is_null()) return "";
    return v.dump();
}

// Whole numbers as integers (counts, picoseconds), others to ten digits.
std::string number(double v) {
    char b[40];
    if (v == std::floor(v) && std::fabs(v) < 1e15) std::snprintf(b, sizeof b, "%.0f", v);
    else std::snprintf(b, sizeof b, "%.10g", v);
    return b;
}

const char* const fixed_columns[] = {"seed", "verdict", "exit_status", "point_wall_time_s", "message"};

}  // namespace

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

std::vector<std::string> csv_split(const std::string& line) {
    std::vector<std::string> out(1);
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') out.back() += '"', ++i;
            else if (c == '"') quoted = false;
            else out.back() += c;
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            out.emplace_back();
        } else {
            out.back() += c;
        }
    }
    return out;
}

plan read_plan(const std::string& dir) {
    const fs::path file = fs::path(dir) / "sweep.json";
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) throw input_error(dir + ": no sweep.json here: not a sweep's folder");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(read_whole(file.string()));
    } catch (const std::exception& e) {
        throw input_error(file.string() + ": " + e.what());
    }
    return plan::from_json(j, file.string());
}

results_counts write_results(const plan& p, const std::string& out) {
    std::vector<row> rows;
    std::set<std::string> keys;
    std::set<std::string> taken(std::begin(fixed_columns), std::end(fixed_columns));
    taken.insert("point");
    for (const axis& a : p.axes) taken.insert(a.name);
    results_counts counts;
    for (const point& pt : p.points) {
        row r{&pt, read_record((fs::path(out) / pt.dir).string()), {}};
        if (r.rec.complete()) {
            flatten(nlohmann::json::parse(read_whole((fs::path(out) / pt.dir / "summary.json").string())), "", r.metrics);
            for (auto it = r.metrics.begin(); it != r.metrics.end();)
                it = taken.count(it->first) ? r.metrics.erase(it) : std::next(it);
            for (auto& [k, v] : r.metrics) keys.insert(k);
        }
        ++counts.points;
        if (r.rec.status == "pass") ++counts.pass;
        else if (r.rec.status == "fail") ++counts.fail;
        else ++counts.other;
        rows.push_back(std::move(r));
    }

    // results.csv and results.jsonl
    std::ostringstream csv, jsonl;
    csv << "point";
    for (const axis& a : p.axes) csv << ',' << csv_field(a.name);
    for (const char* c : fixed_columns) csv << ',' << c;
    for (const std::string& k : keys) csv << ',' << csv_field(k);
    csv << '\n';
    for (const row& r : rows) {
        nlohmann::json j;
        j["point"] = r.pt->index;
        csv << r.pt->index;
        for (size_t a = 0; a < p.axes.size(); ++a) {
            csv << ',' << csv_field(r.pt->values[a]);
            j["axes"][p.axes[a].name] = r.pt->values[a];
        }
        if (p.axes.empty()) j["axes"] = nlohmann::json::object();
        const double wall = r.rec.wall_time_s;
        csv << ',' << r.pt->seed << ',' << r.rec.status << ',' << (r.rec.exit_status < 0 ? "" : std::to_string(r.rec.exit_status))
            << ',' << (r.rec.status == "missing" ? "" : number(wall)) << ',' << csv_field(r.rec.message);
        j["seed"] = r.pt->seed;
        j["verdict"] = r.rec.status;
        j["exit_status"] = r.rec.exit_status < 0 ? nlohmann::json() : nlohmann::json(r.rec.exit_status);
        j["point_wall_time_s"] = r.rec.status == "missing" ? nlohmann::json() : nlohmann::json(wall);
        j["message"] = r.rec.message;
        j["metrics"] = nlohmann::json::object();
        for (const std::string& k : keys) {
            auto it = r.metrics.find(k);
            csv << ',' << (it == r.metrics.end() ? "" : cell(it->second));
            if (it != r.metrics.end()) j["metrics"][k] = it->second;
        }
        csv << '\n';
        jsonl << j.dump() << '\n';
    }

    // summary.csv: the axes but the seed, in the plan's order of first appearance.
    std::map<std::vector<std::string>, size_t> group_of;
    std::vector<std::vector<const row*>> groups;
    for (const row& r : rows) {
        auto [it, fresh] = group_of.emplace(r.pt->values, groups.size());
        if (fresh) groups.emplace_back();
        groups[it->second].push_back(&r);
    }
    std::ostringstream sum;
    bool first = true;
    for (const axis& a : p.axes) sum << (first ? "" : ",") << csv_field(a.name), first = false;
    sum << (first ? "" : ",") << "points,pass,fail,other";
    for (const std::string& k : keys)
        for (const char* s : {".n", ".mean", ".min", ".max", ".stddev"}) sum << ',' << csv_field(k + s);
    sum << '\n';
    for (const auto& g : groups) {
        for (const std::string& v : g.front()->pt->values) sum << csv_field(v) << ',';
        size_t pass = 0, fail = 0;
        for (const row* r : g) pass += r->rec.status == "pass", fail += r->rec.status == "fail";
        sum << g.size() << ',' << pass << ',' << fail << ',' << g.size() - pass - fail;
        for (const std::string& k : keys) {
            std::vector<double> xs;
            for (const row* r : g) {
                auto it = r->metrics.find(k);
                if (it != r->metrics.end() && !it->second.is_null())
                    xs.push_back(it->second.is_boolean() ? double(it->second.get<bool>()) : it->second.get<double>());
            }
            if (xs.empty()) {
                sum << ",0,,,,";
                continue;
            }
            double mean = 0, lo = xs[0], hi = xs[0], ss = 0;
            for (double x : xs) mean += x, lo = std::min(lo, x), hi = std::max(hi, x);
            mean /= double(xs.size());
            for (double x : xs) ss += (x - mean) * (x - mean);
            const double sd = xs.size() > 1 ? std::sqrt(ss / double(xs.size() - 1)) : 0;
            sum << ',' << xs.size() << ',' << number(mean) << ',' << number(lo) << ',' << number(hi) << ',' << number(sd);
        }
        sum << '\n';
    }
    write_whole((fs::path(out) / "results.csv").string(), csv.str());
    write_whole((fs::path(out) / "results.jsonl").string(), jsonl.str());
    write_whole((fs::path(out) / "summary.csv").string(), sum.str());
    return counts;
}

results_counts merge(const std::vector<std::string>& dirs, const std::string& out_opt) {
    if (dirs.empty()) throw input_error("sweep merge: give at least one DIR");
    const plan p = read_plan(dirs.front());
    for (size_t i = 1; i < dirs.size(); ++i)
        if (!read_plan(dirs[i]).same_campaign(p))
            throw input_error(dirs[i] + ": holds another campaign than " + dirs.front() + " (sweep.json differs)");
    const std::string out = out_opt.empty() ? dirs.front() : out_opt;
    std::error_code ec;
    std::vector<std::string> sources = dirs;
    if (fs::exists(fs::path(out) / "sweep.json", ec)) {
        if (!read_plan(out).same_campaign(p)) throw input_error(out + ": holds another campaign (sweep.json differs)");
        sources.insert(sources.begin(), out);  // what is already there counts first
    } else {
        fs::create_directories(out, ec);
        if (ec) throw input_error(out + ": cannot create the output folder: " + ec.message());
        write_whole((fs::path(out) / "sweep.json").string(), p.to_json().dump(2) + "\n");
    }
    for (const point& pt : p.points) {
        std::optional<fs::path> from;
        for (const std::string& d : sources) {
            const point_record r = read_record((fs::path(d) / pt.dir).string());
            if (r.complete()) {
                from = fs::path(d);
                break;
            }
            if (!from && r.status != "missing") from = fs::path(d);
        }
        if (!from || fs::equivalent(*from, out, ec)) continue;
        const fs::path dst = fs::path(out) / pt.dir, tmp = dst.string() + ".merging";
        fs::remove_all(tmp, ec);
        fs::create_directories(tmp.parent_path(), ec);
        fs::copy(*from / pt.dir, tmp, fs::copy_options::recursive, ec);
        if (ec) throw input_error((*from / pt.dir).string() + ": cannot copy: " + ec.message());
        fs::remove_all(dst, ec);
        fs::rename(tmp, dst, ec);
        if (ec) throw input_error(dst.string() + ": cannot write: " + ec.message());
    }
    return write_results(p, out);
}

}  // namespace ioatsim::sweep
