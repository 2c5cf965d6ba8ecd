#include "platform/params.h"

#include "models/ioh/ioh_layout.h"
#include "sw/kernel/coherence.h"
#include "sw/kernel/costs.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace ioatsim {

namespace {

constexpr double no_time_limit = double(max_time_ps);
// The engine and CPU rates: 1 MB/s to 1 TB/s, 200 times beyond any engine or core
// of the era either way. Slower, and the largest descriptor's time (2^35 bytes)
// overflows the simulated clock; faster, and a byte takes under a picosecond.
const char* const rate_limit = "1 MB/s to 1 TB/s: slower overflows the simulated clock, faster takes no time";

}  // namespace

static std::vector<param_def> hardware_params() {
    return {
        {"sockets", param_kind::integer, "1", "preset", 1, 8,
         "the largest glueless Nehalem-EX/Westmere-EX machine; one NUMA node each"},
        {"cores_per_socket", param_kind::integer, "2", "preset", 1, 16,
         "the APIC ID holds the core in 4 bits (socket << 4 | core)"},
        {"dram.size_mib", param_kind::integer, "3072", "preset: per node (node 0 stops at the 3 GiB MMIO hole)", 64,
         65536, "per node: the kernel's RAM starts at 16 MiB; nodes sit 64 GiB apart in the address map"},
        {"dram.latency", param_kind::time, "160 ns", "AnandTech X7560 local DRAM (timing-defaults.md 1.2)", 0,
         no_time_limit, max_time_reason},
        {"numa.hop_latency", param_kind::time, "64 ns", "derived: SOSP'13 Westmere-EX DRAM 1 hop 231 ns - local 167 ns",
         0, no_time_limit, max_time_reason},
        {"ioh.count", param_kind::integer, "1", "preset", 1, 4,
         "the address map gives each IOH an equal share of the 256 buses and the 512 MiB MMIO window"},
        {"ioh.integrated", param_kind::integer, "0",
         "0: each IOH is a hub of its own on QPI, IOH n near node n x sockets / ioh.count (5520/7500); 1: IOH n is "
         "the integrated I/O (IIO) of socket n, on its node n, as in Xeon E5/E7 v2 processors, whose QuickData "
         "functions and root ports are the processor's own (E7 v2 datasheet vol. 2, ch. 14); needs ioh.count equal "
         "to sockets",
         0, 1, "0 or 1"},
        {"ioh.ioat_functions", param_kind::integer, "8", "5520/7500 IOH: device 0x16 functions 0-7", 1, 8,
         "device 0x16 functions 0-7; at least one, since the root complex decodes its BAR window to them"},
        {"ioh.root_ports", param_kind::integer, "2", "preset", 0, 8,
         "ports take devices 1 and 3-9 with the 5520/7500's IDs 0x3408-0x3410"},
        {"ioat.device", param_kind::integer, "0x16",
         "the IOAT functions' PCI device number: 0x16 on the 5520/7500 IOH (ioat-hardware.md 1.2); 4 in the Xeon "
         "E5/E7 v2 IIO (E7 v2 datasheet vol. 2 14.5, the QuickData registers at \"Bus: 0 Device: 4 Function: 0-7\"; "
         "a Xeon E5-2650 v2's pciconf lists them at 0:4:0-7)",
         0, 31, "a PCI device number is 5 bits"},
        {"pcie.cfg_latency", param_kind::time, "100 ns", "estimate", 0, no_time_limit, max_time_reason},
        {"pcie.completion_timeout", param_kind::time, "50 us",
         "estimate: PCIe 2.0 2.8 default range 50 us-50 ms, the 5520's value unpublished; the lower end, so a read "
         "lost to a removal stalls its CPU for 50 us, not for a whole run",
         0, no_time_limit, max_time_reason},
        {"ioat.cbver", param_kind::integer, "0x30", "5520/7500 IOH: CB3.0 (ioat-hardware.md 1.1)", 0, 0xff,
         "CBVER is an 8-bit register: major in [7:4], minor in [3:0]"},
        {"ioat.xfercap", param_kind::integer, "20", "1 MB per descriptor (ioat-hardware.md 1.2, inference)", 0, 31,
         "XFERCAP[4:0] is log2 of the bytes per descriptor; 0 means 32 GB"},
        {"ioat.dmacapability", param_kind::integer, "0x10",
         "5520/7500 (CB3.0): DCA only [inference: its value is unpublished; 3.4 registers a DCA provider for CB3.0, and "
         "Linux gained XOR, PQ and fill descriptors with CB3.2, \"ioat3.2 adds raid5 and raid6 offload\"]; bits 6, 8, "
         "9 (fill, XOR, PQ) are the modelled operations",
         0, 0xffffffff, "DMACAPABILITY is a 32-bit register"},
        {"ioat.device_ids", param_kind::integer, "0",
         "0: the 5520/7500's TBG0-7 (0x3430-0x3433, 0x3429-0x342C); 1: Jasper Forest's JSF0-7 (0x3710-0x3717) "
         "(ioat-hardware.md 1.1); 2: the Ivy Bridge IIO's IVB0-7 (0x0e20-0x0e27, Linux drivers/dma/ioat/hw.h, which "
         "3.4 lacks; in function order, as a Xeon E5-2650 v2's pciconf shows)",
         0, 2, "0 (TBG), 1 (JSF) or 2 (IVB)"},
        {"ioat.reg_access", param_kind::time, "30 ns", "gem5 pio_latency; estimate", 0, no_time_limit, max_time_reason},
        {"ioat.desc_overhead", param_kind::time, "290 ns", "derived from S7: 2.5 GB/s effective vs 5 GB/s raw at 1460 B",
         0, no_time_limit, max_time_reason},
        {"ioat.bandwidth_gbps", param_kind::real, "5.0", "S7: 5 GB/s read + 5 GB/s write", 0.001, 1000, rate_limit},
        {"ioat.completion_write", param_kind::time, "20 ns", "gem5 latAfterCompletion; estimate", 0, no_time_limit,
         max_time_reason},
        {"ioat.start_latency", param_kind::time, "1 us", "estimate (driver allows 20 us)", 0, no_time_limit, max_time_reason},
        {"ioat.reset_latency", param_kind::time, "1 us", "estimate (driver allows 200 ms)", 0, no_time_limit, max_time_reason},
        {"cpu.memcpy_gbps", param_kind::real, "5.0", "AnandTech X7560 single-thread stream", 0.001, 1000, rate_limit},
        {"cpu.byte_loop_gbps", param_kind::real, "1.0", "estimate: ~2 cycles per byte at 2.13 GHz", 0.001, 1000,
         rate_limit},
        {"rcu.grace_period", param_kind::time, "3 ms",
         "estimate: a normal 3.4 tree-RCU grace period spans about three scheduling-clock ticks at the era's "
         "server HZ=1000 (one to start it, one for each CPU to note its quiescent state, one to end it)",
         0, no_time_limit, max_time_reason},
        {"rcu.expedited", param_kind::integer, "0",
         "1: every grace period is expedited (rcupdate.rcu_expedited=1, a boot option from 3.19)", 0, 1, "0 or 1"},
        {"rcu.expedited_grace_period", param_kind::time, "100 us",
         "estimate: tens of microseconds for an expedited grace period (timing-defaults.md 3)", 0, no_time_limit,
         max_time_reason},
        {"check.hung_after", param_kind::time, "5 ms",
         "estimate: khungtaskd's 120 s scaled to runs of milliseconds; over twice the longest legitimate wait "
         "seen under load (a raid6 chain queued behind net_dma reads, 2.1 ms in cpu-hotplug)",
         0, no_time_limit, max_time_reason},
        {"coherence.topology", param_kind::integer, "0",
         "0: every other socket one QPI hop away (up to four sockets fully connected, as the x3850 X5); 1: the "
         "8-socket twisted hypercube of SOSP'13's Westmere-EX, three sockets one hop away and four two hops",
         0, 1, "0 or 1"},
        {"ioat.shared_engine", param_kind::integer, "1",
         "1: the IOH's channels share one engine, which spends ioat.desc_overhead on each descriptor and moves its "
         "payload at ioat.bandwidth_gbps, the C5500 datasheet's \"one engine with eight channels\" (S7); 0: each "
         "channel has that engine to itself (whether S7's figures are per channel or aggregate is not stated)",
         0, 1, "0 or 1"},
        {"dram.bandwidth_gbps", param_kind::real, "15",
         "estimate: a Xeon 7500 socket's four SMI channels of DDR3-1066 give about 34 GB/s raw; about half sustained",
         0.001, 1000, rate_limit},
        {"qpi.link_gbps", param_kind::real, "12.8",
         "6.4 GT/s QPI (timing-defaults.md 1.1) x 2 bytes per transfer, per direction", 0.001, 1000, rate_limit},
        {"cpu.mmio_read", param_kind::time, "1 us",
         "estimate: an uncached read of an IOH register crosses QPI to the IOH and back; the CPU stalls on the order "
         "of a microsecond", 0, no_time_limit, max_time_reason},
        {"cpu.mmio_write", param_kind::time, "100 ns",
         "estimate: a posted uncached write; the core goes on once it leaves the store buffer", 0, no_time_limit,
         max_time_reason},
        {"msi.delivery", param_kind::time, "500 ns",
         "estimate: an interrupt message from the IOH to the local APIC across QPI", 0, no_time_limit,
         max_time_reason},
        {"vtd.enabled", param_kind::integer, "1",
         "1: each IOH has its VT-d DMA-remapping unit (5520/7500: cap c90780106f0462 ecap f020fe, dma-mapping-vtd.md "
         "5.7), its register block at 0xFBFFE000 - 0x2000 x IOH [inference], translating once software enables it; "
         "0: none",
         0, 1, "0 or 1"},
        {"vtd.iotlb_entries", param_kind::integer, "32",
         "estimate: the 5520/7500's IOTLB size is unpublished (dma-mapping-vtd.md 5.7); 32-64 fully associative with "
         "LRU suggested (9.1); fully associative, least recently used out",
         0, 4096, "0 caches nothing (every request walks); more than 4096 is far beyond any IOTLB of the era"},
        {"vtd.context_entries", param_kind::integer, "16",
         "estimate: the context-cache size is unpublished (dma-mapping-vtd.md 5.7); fully associative, least recently "
         "used out",
         0, 256, "0 caches nothing; a context table holds 256 entries per bus"},
        {"vtd.walk_read", param_kind::time, "0 ns",
         "added to each page-walk read beyond the memory path, which already charges dram.latency and QPI hops: an "
         "IOTLB miss costs 4 DRAM reads (dma-mapping-vtd.md 8.2); the IOH's own part is unpublished [estimate 0]",
         0, no_time_limit, max_time_reason},
        {"vtd.cmd_latency", param_kind::time, "100 ns",
         "estimate: GCMD to GSTS, CCMD.ICC and IOTLB.IVT clearing; unpublished, \"small (<= 1 us)\" "
         "(dma-mapping-vtd.md 9.1)",
         0, no_time_limit, max_time_reason},
        {"vtd.qi_descriptor", param_kind::time, "50 ns",
         "estimate: processing one queued-invalidation descriptor once fetched (the fetch and a wait descriptor's "
         "status write go through the memory path); unpublished (dma-mapping-vtd.md 9.1)",
         0, no_time_limit, max_time_reason},
        {"iommu.dmar_hotplug", param_kind::integer, "0",
         "0: as 3.4, a DMAR unit is never removed: one whose IOH goes stays in intel-iommu's lists; 1: as the "
         "2014-2015 DMAR hot-plug work (4.x dmar_device_remove/add, dma-mapping-vtd.md 7.2), the unit is removed "
         "once the IOH's devices are (-EBUSY while one is left) and set up again before a hot-added IOH is scanned",
         0, 1, "0 or 1"},
    };
}

// The hardware's parameters, then the simulated software's own timing
// (sw/kernel/costs.h), as one table.
const std::vector<param_def>& param_table() {
    static const std::vector<param_def> t = [] {
        std::vector<param_def> all = hardware_params();
        static std::vector<std::string> texts;  // the defaults as written in a preset
        texts.reserve(std::size(sw::sw_timing) + 2 * sw::coherence_params.size());
        for (const sw::coherence_param& c : sw::coherence_params) {
            std::string key = std::string("coherence.") + c.key;
            texts.push_back(key);
            const char* k = texts.back().c_str();
            texts.push_back(c.ps % sw::ns_ps ? std::to_string(c.ps) + " ps" : std::to_string(c.ps / sw::ns_ps) + " ns");
            all.push_back({k, param_kind::time, texts.back().c_str(), c.source, 0, no_time_limit, max_time_reason});
        }
        for (const sw::sw_timing_def& d : sw::sw_timing) {
            texts.push_back(d.ps % sw::ns_ps ? std::to_string(d.ps) + " ps" : std::to_string(d.ps / sw::ns_ps) + " ns");
            all.push_back({d.key, param_kind::time, texts.back().c_str(), d.source, 0, no_time_limit, max_time_reason});
        }
        return all;
    }();
    return t;
}

std::string data_dir(const std::string& what);  // platform/data_dir.h: beside the executable, no path compiled in
std::string presets_dir() { return data_dir("presets"); }

namespace {

const param_def* find_def(const std::string& key) {
    for (auto& d : param_table())
        if (key == d.key) return &d;
    return nullptr;
}

std::string known_keys() {
    std::string s;
    for (auto& d : param_table()) s += (s.empty() ? "" : ", ") + std::string(d.key);
    return s;
}

std::string known_presets(const std::string& dir) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
        if (e.path().extension() == ".yaml") names.push_back(e.path().stem().string());
    std::sort(names.begin(), names.end());
    std::string s;
    for (auto& n : names) s += (s.empty() ? "" : ", ") + n;
    return s;
}

// Register values are written in hex (their defaults say so); every other
// integer is decimal.
bool hex_allowed(const param_def& d) { return std::string(d.value).rfind("0x", 0) == 0; }

enum class int_text { ok, bad, leading_zero, huge };

// Decimal digits with an optional '-', or 0x-prefixed hex where `hex`. No octal:
// "010" is refused rather than read as 8, as strtoll's base 0 would.
int_text parse_int(const std::string& t, bool hex, int64_t& out) {
    size_t i = t.size() && t[0] == '-' ? 1 : 0;
    const bool neg = i == 1;
    unsigned base = 10;
    if (hex && t.size() > i + 2 && t[i] == '0' && (t[i + 1] == 'x' || t[i + 1] == 'X')) {
        base = 16;
        i += 2;
    }
    if (i == t.size()) return int_text::bad;
    const size_t first = i;
    uint64_t v = 0;
    bool over = false;
    for (; i < t.size(); ++i) {
        const char c = t[i];
        unsigned d = c >= '0' && c <= '9' ? unsigned(c - '0')
                     : base == 16 && c >= 'a' && c <= 'f' ? unsigned(c - 'a' + 10)
                     : base == 16 && c >= 'A' && c <= 'F' ? unsigned(c - 'A' + 10)
                                                          : 99;
        if (d >= base) return int_text::bad;
        if (v > (UINT64_MAX - d) / base) over = true;
        else v = v * base + d;
    }
    if (base == 10 && t[first] == '0' && t.size() > first + 1) return int_text::leading_zero;
    if (over || v > uint64_t(INT64_MAX)) return int_text::huge;
    out = neg ? -int64_t(v) : int64_t(v);
    return int_text::ok;
}

// A plain decimal number: no hex floats, inf or nan.
bool parse_real(const std::string& v, double& out) {
    if (v.empty() || v.find_first_not_of("0123456789+-.eE") != std::string::npos) return false;
    try {
        size_t n = 0;
        out = std::stod(v, &n);
        return n == v.size() && std::isfinite(out);
    } catch (...) {
        return false;  // out_of_range: 1e999 and the like
    }
}

std::string number(double v, bool hex) {
    char b[32];
    if (hex) std::snprintf(b, sizeof b, "0x%llx", (unsigned long long)v);
    else std::snprintf(b, sizeof b, "%.15g", v);
    return b;
}

}  // namespace

void params::set(const std::string& key, const std::string& value, const source_pos& pos, const std::string& path) {
    const param_def* d = find_def(key);
    if (!d) throw input_error(pos, "unknown platform parameter \"" + key + "\" (known: " + known_keys() + ")");
    const bool hex = hex_allowed(*d);
    auto range = [&] { return number(d->lo, hex) + ".." + number(d->hi, hex) + ": " + d->why; };
    auto out_of_range = [&] { throw input_error(pos, path + ": " + value + " is out of range (must be " + range() + ")"); };
    switch (d->kind) {
    case param_kind::integer: {
        int64_t i = 0;
        const char* what = hex ? "a decimal or 0x hex integer" : "a decimal integer";
        switch (parse_int(value, hex, i)) {
        case int_text::bad:
            throw input_error(pos, path + ": expected " + what + ", got \"" + value + "\" (" + range() + ")");
        case int_text::leading_zero: {
            const size_t digits = std::min(value.find_first_not_of("-0"), value.size() - 1);
            throw input_error(pos, path + ": \"" + value + "\" has a leading zero (integers are decimal, never octal: "
                                   "write " + (value[0] == '-' ? "-" : "") + value.substr(digits) +
                                   (hex ? ", or 0x... for hex)" : ")"));
        }
        case int_text::huge:
            out_of_range();
            break;
        case int_text::ok:
            if (double(i) < d->lo || double(i) > d->hi) out_of_range();
            break;
        }
        break;
    }
    case param_kind::real: {
        double r = 0;
        if (!parse_real(value, r))
            throw input_error(pos, path + ": expected a number, got \"" + value + "\" (" + range() + ")");
        if (r < d->lo || r > d->hi) out_of_range();
        break;
    }
    case param_kind::time: {
        uint64_t t = 0;
        try {
            t = parse_time_ps(value);
        } catch (const std::invalid_argument& e) {
            throw input_error(pos, path + ": bad time \"" + value + "\": " + e.what());
        }
        if (double(t) > d->hi) throw input_error(pos, path + ": " + value + " is out of range (" + max_time_reason + ")");
        break;
    }
    }
    values_[key] = value;
    where_[key] = pos;
}

// Checks across keys, each blamed on the key the scenario changed if it changed
// one of them (a preset is consistent on its own), else on the first.
static void check_io_layout(const params& p, const scenario& sc) {
    auto blame = [&](std::initializer_list<const char*> keys) {
        for (const char* k : keys)
            for (auto& s : sc.platform_set)
                if (s.key == k) return std::pair<source_pos, std::string>(s.pos, "platform.set." + s.key);
        return std::pair<source_pos, std::string>(p.where(*keys.begin()), *keys.begin());
    };
    auto num = [&](const char* k) { return std::to_string(p.integer(k)); };
    // An integrated I/O comes one per socket: IOH n is socket n's.
    if (p.integer("ioh.integrated") && p.integer("ioh.count") != p.integer("sockets")) {
        auto [at, path] = blame({"ioh.integrated", "ioh.count", "sockets"});
        throw input_error(at, path + ": ioh.integrated is 1: IOH n is the integrated I/O of socket n, so ioh.count (" +
                                  num("ioh.count") + ") must equal sockets (" + num("sockets") + ")");
    }
    // The IOAT functions and the root ports share the IOH's root bus.
    for (int64_t r = 0; r < p.integer("ioh.root_ports"); ++r)
        if (models::root_port_device(unsigned(r)) == uint64_t(p.integer("ioat.device"))) {
            auto [at, path] = blame({"ioat.device", "ioh.root_ports"});
            throw input_error(at, path + ": ioat.device " + num("ioat.device") + " is the device number of root port " +
                                      std::to_string(r) + " (ioh.root_ports " + num("ioh.root_ports") +
                                      " take devices 1, then 3 upwards)");
        }
}

params params::resolve(const scenario& sc, const std::string& presets) {
    params p;
    for (auto& d : param_table()) p.values_[d.key] = d.value;
    // The scenario checked the name is a plain file name; here: that it is a preset.
    const source_pos preset_at = sc.pos_of("platform.preset");
    p.preset_file = presets + "/" + sc.preset + ".yaml";
    std::error_code ec;
    if (!std::filesystem::is_regular_file(p.preset_file, ec))
        throw input_error(preset_at, "platform.preset: no preset \"" + sc.preset + "\" (known: " + known_presets(presets) + ")");
    std::ifstream in(p.preset_file);
    if (!in) throw input_error(preset_at, "platform.preset: cannot read " + p.preset_file);
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
        source_pos pos{p.preset_file, it->first.Mark().line + 1, it->first.Mark().column + 1};
        if (!it->first.IsScalar()) throw input_error(pos, "a preset's keys are parameter names");
        const std::string key = it->first.Scalar();
        if (key == "description") continue;
        if (!it->second.IsScalar()) throw input_error(pos, key + ": expected a scalar value");
        source_pos at = it->second.Mark().is_null()
                            ? pos
                            : source_pos{p.preset_file, it->second.Mark().line + 1, it->second.Mark().column + 1};
        p.set(key, it->second.Scalar(), at, key);
    }
    for (auto& s : sc.platform_set) p.set(s.key, s.value, s.pos, "platform.set." + s.key);

    check_io_layout(p, sc);

    // What the host can simulate: every client task is a SystemC thread (see
    // max_client_tasks). dmatest runs threads_per_chan threads on each channel it
    // gets: at most one per IOAT function (CHANCNT is 1), fewer when it is told
    // which channel or device, or how many.
    long channels = long(p.integer("ioh.count") * p.integer("ioh.ioat_functions"));
    if (!sc.dmatest.channel.empty() || !sc.dmatest.device.empty()) channels = 1;
    if (sc.dmatest.max_channels > 0) channels = std::min<long>(channels, sc.dmatest.max_channels);
    const long cpus = long(p.integer("sockets") * p.integer("cores_per_socket"));
    const bool os = sc.os != "none";  // without an OS no client runs
    struct share { long tasks; const char* path; std::string what; };
    const long dmatest = os && sc.dmatest.enabled ? long(sc.dmatest.threads_per_chan) * channels : 0;
    const long readers = os && sc.net_dma.enabled ? (sc.net_dma.readers ? long(sc.net_dma.readers) : cpus) : 0;
    const long workers = os && sc.async_tx.enabled ? long(sc.async_tx.threads) : 0;
    const share shares[] = {
        {dmatest, "software.clients.dmatest.threads_per_chan",
         "dmatest: " + std::to_string(sc.dmatest.threads_per_chan) + " per channel x " + std::to_string(channels) +
             (channels == 1 ? " channel" : " channels") + (channels > 1 ? " = " + std::to_string(dmatest) : "")},
        {readers, "software.clients.net_dma.readers", "net_dma: " + std::to_string(readers) + " readers"},
        {workers, "software.clients.async_tx.threads", "async_tx: " + std::to_string(workers) + " threads"},
    };
    long total = 0;
    const share* most = &shares[0];
    std::string parts;
    for (const share& s : shares) {
        total += s.tasks;
        if (s.tasks > most->tasks) most = &s;
        if (s.tasks) parts += (parts.empty() ? "" : "; ") + s.what;
    }
    if (total > max_client_tasks)
        throw input_error(sc.pos_of(most->path),
                          std::string(most->path) + ": " + std::to_string(total) + " simulated tasks (" + parts +
                              ") is over the limit of " + std::to_string(max_client_tasks) +
                              " client tasks (each is a SystemC thread with its own stack and guard page; the host "
                              "gives about 32000 in all)");
    return p;
}

int64_t params::integer(const std::string& key) const {
    int64_t v = 0;
    const param_def* d = find_def(key);
    parse_int(values_.at(key), d && hex_allowed(*d), v);
    return v;
}

uint64_t params::time_ps(const std::string& key) const { return parse_time_ps(values_.at(key)); }

double params::real(const std::string& key) const {
    double v = 0;
    parse_real(values_.at(key), v);
    return v;
}

source_pos params::where(const std::string& key) const {
    auto it = where_.find(key);
    return it != where_.end() ? it->second : source_pos{"default of platform parameter " + key};
}

}  // namespace ioatsim
