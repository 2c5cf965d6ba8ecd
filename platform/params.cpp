#include "platform/params.h"

#include <cmath>
#include <fstream>
#include <sstream>

namespace ioatsim {

const std::vector<param_def>& param_table() {
    static const std::vector<param_def> t = {
        {"sockets", param_kind::integer, "1", "preset"},
        {"cores_per_socket", param_kind::integer, "2", "preset"},
        {"dram.size_mib", param_kind::integer, "3072", "preset: per node (node 0 stops at the 3 GiB MMIO hole)"},
        {"dram.latency", param_kind::time, "160 ns", "AnandTech X7560 local DRAM (timing-defaults.md 1.2)"},
        {"numa.hop_latency", param_kind::time, "64 ns", "derived: SOSP'13 Westmere-EX DRAM 1 hop 231 ns - local 167 ns"},
        {"ioh.count", param_kind::integer, "1", "preset"},
        {"ioh.ioat_functions", param_kind::integer, "8", "5520/7500 IOH: device 0x16 functions 0-7"},
        {"ioh.root_ports", param_kind::integer, "2", "preset"},
        {"pcie.cfg_latency", param_kind::time, "100 ns", "estimate"},
        {"pcie.completion_timeout", param_kind::time, "50 us",
         "estimate: PCIe 2.0 2.8 default range 50 us-50 ms, the 5520's value unpublished; the lower end, so a read "
         "lost to a removal stalls its CPU for 50 us, not for a whole run"},
        {"ioat.cbver", param_kind::integer, "0x30", "5520/7500 IOH: CB3.0 (ioat-hardware.md 1.1)"},
        {"ioat.xfercap", param_kind::integer, "20", "1 MB per descriptor (ioat-hardware.md 1.2, inference)"},
        {"ioat.dmacapability", param_kind::integer, "0x340", "fill, xor, pq: the modelled operations (5520 value unpublished)"},
        {"ioat.reg_access", param_kind::time, "30 ns", "gem5 pio_latency; estimate"},
        {"ioat.desc_overhead", param_kind::time, "290 ns", "derived from S7: 2.5 GB/s effective vs 5 GB/s raw at 1460 B"},
        {"ioat.bandwidth_gbps", param_kind::real, "5.0", "S7: 5 GB/s read + 5 GB/s write"},
        {"ioat.completion_write", param_kind::time, "20 ns", "gem5 latAfterCompletion; estimate"},
        {"ioat.start_latency", param_kind::time, "1 us", "estimate (driver allows 20 us)"},
        {"ioat.reset_latency", param_kind::time, "1 us", "estimate (driver allows 200 ms)"},
        {"cpu.memcpy_gbps", param_kind::real, "5.0", "AnandTech X7560 single-thread stream"},
        {"cpu.byte_loop_gbps", param_kind::real, "1.0", "estimate: ~2 cycles per byte at 2.13 GHz"},
        {"rcu.grace_period", param_kind::time, "100 us", "estimate: expedited-class; a normal grace period is milliseconds"},
        {"check.hung_after", param_kind::time, "5 ms",
         "estimate: khungtaskd's 120 s scaled to runs of milliseconds; over twice the longest legitimate wait "
         "seen under load (a raid6 chain queued behind net_dma reads, 2.1 ms in cpu-hotplug)"},
        {"coherence.rmw_local", param_kind::time, "9400 ps", "SOSP'13 Westmere-EX: ~20 cycles, uncontended atomic"},
        {"coherence.atomic_same_die", param_kind::time, "56 ns", "SOSP'13 Westmere-EX: 120 cycles, atomic on M, same die"},
        {"coherence.atomic_one_hop", param_kind::time, "152 ns", "SOSP'13 Westmere-EX: 324 cycles, atomic on M, one hop"},
        {"coherence.load_same_die", param_kind::time, "51 ns", "SOSP'13 Westmere-EX: 109 cycles, load of M, same die"},
        {"coherence.load_one_hop", param_kind::time, "136 ns", "SOSP'13 Westmere-EX: 289 cycles, load of M, one hop"},
        {"coherence.percpu_op", param_kind::time, "1400 ps", "estimate: ~3 cycles, non-locked per-CPU add"},
    };
    return t;
}

std::string presets_dir() { return std::string(IOATSIM_SOURCE_DIR) + "/platform/presets"; }

static const param_def* find_def(const std::string& key) {
    for (auto& d : param_table())
        if (key == d.key) return &d;
    return nullptr;
}

static std::string known_keys() {
    std::string s;
    for (auto& d : param_table()) s += (s.empty() ? "" : ", ") + std::string(d.key);
    return s;
}

static bool parse_int(const std::string& v, int64_t& out) {
    try {
        size_t n = 0;
        out = std::stoll(v, &n, 0);
        return n == v.size();
    } catch (...) {
        return false;
    }
}

static bool parse_real(const std::string& v, double& out) {
    try {
        size_t n = 0;
        out = std::stod(v, &n);
        return n == v.size() && std::isfinite(out);
    } catch (...) {
        return false;
    }
}

void params::set(const std::string& key, const std::string& value, const source_pos& pos) {
    const param_def* d = find_def(key);
    if (!d) throw input_error(pos, "unknown platform parameter \"" + key + "\" (known: " + known_keys() + ")");
    int64_t i;
    double r;
    switch (d->kind) {
    case param_kind::integer:
        if (!parse_int(value, i) || i < 0)
            throw input_error(pos, key + ": expected a non-negative integer, got \"" + value + "\"");
        break;
    case param_kind::real:
        if (!parse_real(value, r) || r <= 0)
            throw input_error(pos, key + ": expected a positive number, got \"" + value + "\"");
        break;
    case param_kind::time:
        try {
            parse_time_ps(value);
        } catch (const std::invalid_argument& e) {
            throw input_error(pos, key + ": bad time \"" + value + "\": " + e.what());
        }
        break;
    }
    values_[key] = value;
}

params params::resolve(const scenario& sc) {
    params p;
    for (auto& d : param_table()) p.values_[d.key] = d.value;
    p.preset_file = presets_dir() + "/" + sc.preset + ".yaml";
    std::ifstream in(p.preset_file);
    if (!in) {
        source_pos at{sc.file, 0, 0};
        throw input_error(at, "platform.preset: no preset \"" + sc.preset + "\" (" + p.preset_file + ")");
    }
    std::stringstream text;
    text << in.rdbuf();
    YAML::Node doc;
    try {
        doc = YAML::Load(text.str());
    } catch (const YAML::Exception& e) {
        throw input_error(source_pos{p.preset_file, e.mark.line + 1, e.mark.column + 1}, e.msg);
    }
    if (!doc.IsMap()) throw input_error(source_pos{p.preset_file, 1, 1}, "a preset is a map of parameters");
    for (auto it = doc.begin(); it != doc.end(); ++it) {
        std::string key = it->first.as<std::string>();
        source_pos pos{p.preset_file, it->first.Mark().line + 1, it->first.Mark().column + 1};
        if (key == "description") continue;
        if (!it->second.IsScalar()) throw input_error(pos, key + ": expected a scalar value");
        p.set(key, it->second.as<std::string>(), pos);
    }
    for (auto& s : sc.platform_set) p.set(s.key, s.value, s.pos);
    return p;
}

int64_t params::integer(const std::string& key) const {
    int64_t v = 0;
    parse_int(values_.at(key), v);
    return v;
}

uint64_t params::time_ps(const std::string& key) const { return parse_time_ps(values_.at(key)); }

double params::real(const std::string& key) const {
    double v = 0;
    parse_real(values_.at(key), v);
    return v;
}

}  // namespace ioatsim
