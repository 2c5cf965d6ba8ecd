// `ioatsim list KIND`: presets, scenarios, timeline actions, counters and
// dmaengine designs, each with one line of description.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace ioatsim {

extern const char* const list_kinds;
// Name and description of each; throws input_error on an unknown kind.
std::vector<std::pair<std::string, std::string>> list_entries(const std::string& kind);
int cmd_list(const std::vector<std::string>& args);

}  // namespace ioatsim
