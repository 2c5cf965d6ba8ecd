#include "tools/param_units.h"

namespace ioatsim {

namespace {

bool ends_with(const std::string& s, const std::string& end) {
    return s.size() >= end.size() && s.compare(s.size() - end.size(), end.size(), end) == 0;
}

}  // namespace

std::string param_unit(const param_def& d) {
    const std::string key = d.key;
    switch (d.kind) {
    case param_kind::time: return "time";
    case param_kind::real: return ends_with(key, "_gbps") ? "GB/s" : "";
    case param_kind::integer: break;
    }
    if (ends_with(key, "_mib")) return "MiB";
    if (key == "ioat.xfercap") return "log2 of bytes";
    if (key == "ioat.device") return "PCI device number";
    if (key == "ioat.device_ids") return "ID set";
    // Register images are written in hex, as their defaults are.
    if (std::string(d.value).rfind("0x", 0) == 0) return "register value";
    if (d.lo == 0 && d.hi == 1) return "0 or 1";
    return "count";
}

std::string param_unit(const std::string& key) {
    for (const param_def& d : param_table())
        if (key == d.key) return param_unit(d);
    return "";
}

}  // namespace ioatsim
