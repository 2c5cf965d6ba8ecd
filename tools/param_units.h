// The unit of each platform parameter's value, read from its kind, its name
// and its range (the table in platform/params.cpp has no unit column): for
// `ioatsim params` and for the axes of plots.
#pragma once
#include "platform/params.h"

#include <string>

namespace ioatsim {

// "time", "GB/s", "MiB", "count", "0 or 1", "log2 of bytes" or "register value".
std::string param_unit(const param_def& d);
// The same by key; empty when the key is no parameter.
std::string param_unit(const std::string& key);

}  // namespace ioatsim
