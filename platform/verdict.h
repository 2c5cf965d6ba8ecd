// The verdict: the scenario's expectations and the checker's default (no
// violation of a kind `expect` does not name), held against summary.json and
// the log.
#pragma once
#include "platform/scenario.h"
#include "platform/timeline.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ioatsim {

// Every path `expect` can name in `summary`: its numbers and booleans by dotted
// path, and its counters by name.
std::vector<std::string> expect_paths(const nlohmann::json& summary);

// Throws input_error at the first expectation naming no such path, listing them.
void check_expect_paths(const expectations& ex, const nlohmann::json& skeleton);

std::vector<check_outcome> evaluate(const expectations& ex, const nlohmann::json& summary,
                                    const std::vector<std::string>& log);

}  // namespace ioatsim
