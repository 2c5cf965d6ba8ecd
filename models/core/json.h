// Minimal JSON object writer with sorted keys: canonical output for trace.jsonl and
// summary.json without a JSON dependency.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ioatsim {

std::string json_quote(const std::string& s);
std::string json_number(double v);  // "null" when not finite

class json_obj {
public:
    json_obj& set(const std::string& k, const std::string& v) { m_[k] = json_quote(v); return *this; }
    json_obj& set(const std::string& k, const char* v) { return set(k, std::string(v)); }
    json_obj& set(const std::string& k, uint64_t v) { m_[k] = std::to_string(v); return *this; }
    json_obj& set(const std::string& k, int64_t v) { m_[k] = std::to_string(v); return *this; }
    json_obj& set(const std::string& k, int v) { return set(k, int64_t(v)); }
    json_obj& set(const std::string& k, unsigned v) { return set(k, uint64_t(v)); }
    json_obj& set(const std::string& k, bool v) { m_[k] = v ? "true" : "false"; return *this; }
    json_obj& set(const std::string& k, double v);
    json_obj& set(const std::string& k, const json_obj& v) { m_[k] = v.str(); return *this; }
    json_obj& set_raw(const std::string& k, const std::string& raw) { m_[k] = raw; return *this; }
    bool empty() const { return m_.empty(); }
    // The encoded value of `k` ("\"text\"", "12", "0x1f" quoted), or null: for trace sinks.
    const std::string* find(const std::string& k) const {
        auto it = m_.find(k);
        return it == m_.end() ? nullptr : &it->second;
    }
    std::string str() const;                      // one line
    std::string pretty(int indent = 0) const;     // indented, for summary.json
private:
    std::map<std::string, std::string> m_;        // value already encoded
};

std::string json_array(const std::vector<std::string>& encoded);
std::string hex(uint64_t v);  // "0x1f"

}  // namespace ioatsim
