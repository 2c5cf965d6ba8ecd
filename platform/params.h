// Platform parameters: a table of every tunable with its type, default, source and
// range; presets (platform/presets/NAME.yaml) and `platform.set` override entries by
// key. Every value is checked against its range when it is set, so the platform
// never sees one it cannot build or simulate.
#pragma once
#include "platform/scenario.h"

#include <map>
#include <string>

namespace ioatsim {

// Directory holding the preset files.
std::string presets_dir();

enum class param_kind { integer, time, real };

struct param_def {
    const char* key;
    param_kind kind;
    const char* value;   // default, as written in a preset
    const char* source;  // where the figure comes from, or "estimate"
    // Allowed values, inclusive: integers as themselves, times in picoseconds,
    // reals as themselves; `why` says where the bounds come from.
    double lo, hi;
    const char* why;
};

const std::vector<param_def>& param_table();

// At most this many client tasks (dmatest threads, net_dma readers, async_tx
// threads) in one run. Each simulated task is a SystemC thread: a stack mapping
// plus a guard page, two of the 65530 mappings Linux gives a process by default
// (vm.max_map_count), so the host holds about 32000 in all (E518 beyond); 8192 is
// a quarter of that, the rest left to the machine's own threads (interrupts,
// timers, workqueues) and the rest of the process.
constexpr long max_client_tasks = 8192;

class params {
public:
    // Defaults, then the preset file (from `presets`, the folder of presets),
    // then the scenario's overrides; every key and value checked against the
    // table, then what the host can simulate.
    static params resolve(const scenario& sc, const std::string& presets = presets_dir());

    int64_t integer(const std::string& key) const;  // within the table's range
    uint64_t time_ps(const std::string& key) const;
    double real(const std::string& key) const;
    const std::map<std::string, std::string>& values() const { return values_; }
    // Where a value was set: the preset's or scenario's line, or the table's default.
    source_pos where(const std::string& key) const;
    std::string preset_file;

private:
    void set(const std::string& key, const std::string& value, const source_pos& pos, const std::string& path);
    std::map<std::string, std::string> values_;
    std::map<std::string, source_pos> where_;
};

}  // namespace ioatsim
