// Platform parameters: a table of every tunable with its type, default and source;
// presets (platform/presets/NAME.yaml) and `platform.set` override entries by key.
#pragma once
#include "platform/scenario.h"

#include <map>
#include <string>

namespace ioatsim {

enum class param_kind { integer, time, real };

struct param_def {
    const char* key;
    param_kind kind;
    const char* value;   // default, as written in a preset
    const char* source;  // where the figure comes from, or "estimate"
};

const std::vector<param_def>& param_table();

class params {
public:
    // Defaults, then the preset file, then the scenario's overrides; every key and
    // value checked against the table.
    static params resolve(const scenario& sc);

    int64_t integer(const std::string& key) const;
    uint64_t time_ps(const std::string& key) const;
    double real(const std::string& key) const;
    const std::map<std::string, std::string>& values() const { return values_; }
    std::string preset_file;

private:
    void set(const std::string& key, const std::string& value, const source_pos& pos);
    std::map<std::string, std::string> values_;
};

// Directory holding the preset files.
std::string presets_dir();

}  // namespace ioatsim
