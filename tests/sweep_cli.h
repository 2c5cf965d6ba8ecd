// What the sweep tests share: a scenario that runs in tens of milliseconds,
// and the tables with their wall-time columns taken out (the only bytes
// allowed to differ between two runs of one campaign).
#pragma once
#include "cli.h"

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace sweep_test {

using namespace cli;

// One socket, one IOAT function, dmatest's 50 verified copies: a pass in ~30 ms.
inline std::string tiny(const tmpdir& t) {
    const fs::path p = t.path / "tiny.yaml";
    std::ofstream(p) << "name: tiny\n"
                        "platform: {preset: minimal}\n"
                        "software:\n"
                        "  dmaengine: {design: legacy}\n"
                        "  clients:\n"
                        "    dmatest: {threads_per_chan: 1, iterations: 50, test_buf_size: 4096}\n"
                        "run: {until: 3 ms}\n";
    return p.string();
}

// RFC 4180 fields, read and written here independently of the program's own.
inline std::vector<std::string> split(const std::string& line) {
    std::vector<std::string> out(1);
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') out.back() += '"', ++i;
        else if (c == '"') quoted = !quoted;
        else if (c == ',' && !quoted) out.emplace_back();
        else out.back() += c;
    }
    return out;
}

inline std::string field(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

inline std::vector<std::vector<std::string>> csv(const std::string& text) {
    std::vector<std::vector<std::string>> rows;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) rows.push_back(split(line));
    return rows;
}

// The CSV without the columns whose name says wall time.
inline std::string without_wall(const std::string& text) {
    auto rows = csv(text);
    std::string out;
    if (rows.empty()) return out;
    std::vector<bool> keep;
    for (const std::string& h : rows[0]) keep.push_back(h.find("wall_time") == std::string::npos);
    for (const auto& r : rows) {
        std::string line;
        for (size_t i = 0; i < r.size() && i < keep.size(); ++i)
            if (keep[i]) line += field(r[i]) + ",";
        out += line + "\n";
    }
    return out;
}

inline std::string jsonl_without_wall(const std::string& text) {
    std::istringstream in(text);
    std::string out;
    for (std::string line; std::getline(in, line);) {
        nlohmann::json j = nlohmann::json::parse(line);
        j.erase("point_wall_time_s");
        j["metrics"].erase("wall_time_s");
        out += j.dump() + "\n";
    }
    return out;
}

// Column name -> index of a CSV header.
inline std::map<std::string, size_t> columns(const std::vector<std::string>& head) {
    std::map<std::string, size_t> m;
    for (size_t i = 0; i < head.size(); ++i) m[head[i]] = i;
    return m;
}

}  // namespace sweep_test
