#include "models/core/json.h"

#include <cmath>
#include <cstdio>

namespace ioatsim {

std::string json_quote(const std::string& s) {
    std::string o = "\"";
    for (unsigned char c : s) {
        switch (c) {
        case '"': o += "\\\""; break;
        case '\\': o += "\\\\"; break;
        case '\n': o += "\\n"; break;
        case '\t': o += "\\t"; break;
        default:
            if (c < 0x20) {
                char b[8];
                std::snprintf(b, sizeof b, "\\u%04x", c);
                o += b;
            } else {
                o += char(c);
            }
        }
    }
    return o + "\"";
}

std::string json_number(double v) {
    if (!std::isfinite(v)) return "null";
    char b[32];
    std::snprintf(b, sizeof b, "%.9g", v);
    return b;
}

json_obj& json_obj::set(const std::string& k, double v) {
    m_[k] = json_number(v);
    return *this;
}

std::string json_obj::str() const {
    std::string o = "{";
    bool first = true;
    for (auto& [k, v] : m_) {
        if (!first) o += ",";
        first = false;
        o += json_quote(k) + ":" + v;
    }
    return o + "}";
}

// Re-indents nested objects by re-parsing nothing: nested values were encoded by
// str(), so only the top level is spread over lines; good enough for summaries.
std::string json_obj::pretty(int indent) const {
    std::string pad(indent + 2, ' ');
    std::string o = "{\n";
    bool first = true;
    for (auto& [k, v] : m_) {
        if (!first) o += ",\n";
        first = false;
        o += pad + json_quote(k) + ": " + v;
    }
    return o + "\n" + std::string(indent, ' ') + "}";
}

std::string json_array(const std::vector<std::string>& encoded) {
    std::string o = "[";
    for (size_t i = 0; i < encoded.size(); ++i) o += (i ? "," : "") + encoded[i];
    return o + "]";
}

std::string hex(uint64_t v) {
    char b[24];
    std::snprintf(b, sizeof b, "0x%llx", (unsigned long long)v);
    return b;
}

}  // namespace ioatsim
