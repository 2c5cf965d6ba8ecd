// A scenario file, read and checked: every key known, every value typed, every
// error named by file, line and column.
#pragma once
#include "sw/clients/client_config.h"
#include "sw/dmaengine/design.h"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace ioatsim {

// Where a value came from: a scenario file position, or a --set override.
struct source_pos {
    std::string file;  // file path as given, or "--set KEY=VALUE"
    int line = 0;      // 1-based; 0 when unknown
    int col = 0;       // 1-based
    std::string str() const;  // "FILE:LINE:COL", or just FILE when line == 0
};

// Bad user input. what() is "FILE:LINE:COL: message"; the CLI exits with status 2.
struct input_error : std::runtime_error {
    input_error(const source_pos& pos, const std::string& msg);
    explicit input_error(const std::string& msg) : std::runtime_error(msg) {}
};

// "150 us", "2 ms", "1.5 ms", "100 ns", "3 s", "20 ps" -> integer picoseconds.
// Throws std::invalid_argument with a short reason on anything else.
uint64_t parse_time_ps(const std::string& text);

// The longest time any scenario value or platform parameter may give: 1000 s.
// The simulated clock counts 2^64 ps (213 days); with every time at most 1000 s,
// `now + delay` and sums of a few thousand times stay far below that, and 1000 s
// is far beyond any run a scenario needs (runs are milliseconds).
constexpr uint64_t max_time_ps = 1'000'000'000'000'000ull;
extern const char* const max_time_reason;  // "must be <= 1000 s: ..." for messages

// The largest scenario file read: 1 MiB, over 300 times the largest in scenarios/;
// anything bigger (or not a regular file, such as /dev/zero) is refused unread.
constexpr uint64_t max_scenario_bytes = 1u << 20;

// The clients' own parameters, plus whether the scenario enables them.
struct dmatest_params : sw::dmatest_params { bool enabled = false; };
struct net_dma_params : sw::net_dma_config { bool enabled = false; };
struct async_tx_params : sw::async_tx_config { bool enabled = false; };
struct dca_params : sw::dca_requester_config { bool enabled = false; };

// software.cmdline: the boot parameters the simulated kernel acts on.
struct boot_params {
    std::string text;
    // clearcpuid=BIT (3.4 arch/x86/kernel/cpu/common.c): the kernel drops the
    // CPU feature; 146 is X86_FEATURE_DCA (4*32+18), which turns DCA off.
    std::vector<unsigned> clearcpuid;
    // ioatdma.ioat_dca_enabled=N: the module parameter (default 1).
    int ioat_dca_enabled = 1;
    // iommu=forcesac (3.4 pci-dma.c): dma_supported refuses masks of 40 bits
    // or more, so 64-bit drivers fall back to 32-bit masks.
    bool iommu_sac_force = false;
    // swiotlb=force: every streaming mapping bounces (when swiotlb is used).
    bool swiotlb_force = false;
};

// Reads software.cmdline's words into `b`; `fail` (which throws) is told what
// is wrong with a word.
void parse_boot_line(const std::string& text, boot_params& b, const std::function<void(const std::string&)>& fail);

// software.iommu: how the kernel's DMA mapping was booted (sw/dma-mapping).
extern const char* const iommu_modes[4];  // off, strict, lazy, pt
// software.clients.dmatest.bug: the injected bugs dmatest knows.
extern const char* const dmatest_bugs[2];  // none, unmap_before_complete

struct platform_setting {  // one dotted override of a preset parameter
    std::string key;
    std::string value;
    source_pos pos;
};

struct timeline_action {
    uint64_t at_ps = 0;
    std::string action;  // the `do` value
    YAML::Node args;     // the whole entry, keys checked by the action's owner
    source_pos pos;      // of the entry
    size_t index = 0;    // in the file's list (timeline.N in --set), before sorting by time

    // YAML::Node's operator= overwrites the node it refers to (here: the scenario's
    // entry); rebind instead, so sorting or assigning actions cannot corrupt the document.
    timeline_action& operator=(const timeline_action& o) {
        at_ps = o.at_ps;
        index = o.index;
        action = o.action;
        args.reset(o.args);
        pos = o.pos;
        return *this;
    }
};

// A number (or true/false) of summary.json named by its dotted path, or a
// counter by its name: equal to a value, or within [min, max].
struct expect_value {
    std::string path;
    bool is_bool = false, want = false;      // true / false
    bool has_min = false, has_max = false;   // a number: equal when min == max, both set
    long double min = 0, max = 0;
    std::string text;                        // as written, for messages
    source_pos pos;
};

struct expect_pattern {  // POSIX extended regular expression searched in log.txt
    std::string pattern;
    source_pos pos;
};

struct expectations {
    std::vector<expect_value> values;
    std::vector<expect_pattern> log_contains, log_not_contains;
    bool empty() const { return values.empty() && log_contains.empty() && log_not_contains.empty(); }
};

struct scenario {
    std::string file;  // path as given
    std::string name, description;

    std::string preset = "minimal";
    std::vector<platform_setting> platform_set;

    std::string os = "linux";      // linux | none
    sw::dmaengine_config dmaengine; // software.dmaengine: design, numa_affinity
    dmatest_params dmatest;
    net_dma_params net_dma;
    async_tx_params async_tx;
    dca_params dca;
    boot_params cmdline;
    std::string iommu = "off";     // software.iommu: off | strict | lazy | pt
    bool dma_debug = false;        // software.dma_debug

    uint64_t until_ps = 10'000'000'000ull;  // 10 ms
    uint64_t seed = 1;
    uint64_t quantum_ps = 1'000'000;        // 1 us
    bool poll_skip = true;                  // run.poll_skip (kernel::poll)

    std::vector<timeline_action> timeline;
    expectations expect;

    YAML::Node effective;  // the scenario after --set, as written to scenario.effective.yaml

    // Where each key's value was written (dotted path, e.g. "platform.preset", to the
    // value's position), for errors found once the scenario is loaded.
    std::map<std::string, source_pos> key_pos;
    // The position of `path`, or of its nearest enclosing key that was written, or
    // of the file's start.
    source_pos pos_of(const std::string& path) const;
};

// Reads and checks a scenario. `overrides` are "a.b.c=value" strings applied to the
// YAML tree before checking (value parsed as a YAML scalar/flow node).
// Throws input_error on any problem.
scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides);

// Checks a YAML document given as text (path used only in messages).
scenario parse_scenario(const std::string& text, const std::string& path,
                        const std::vector<std::string>& overrides);

std::string to_yaml(const YAML::Node& node);  // deterministic block-style emission

}  // namespace ioatsim
