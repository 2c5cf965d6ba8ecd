// The scenario's values as text: times with units read exactly, and YAML
// written back as it was given (quoted scalars stay strings).
#include "platform/scenario.h"

#include <algorithm>
#include <iterator>
#include <stdexcept>

namespace ioatsim {

uint64_t parse_time_ps(const std::string& text) {
    static const std::pair<const char*, size_t> units[] = {
        {"ps", 0}, {"ns", 3}, {"us", 6}, {"ms", 9}, {"s", 12}};  // unit, log10(ps per unit)
    size_t i = 0, n = text.size();
    while (i < n && text[i] == ' ') ++i;
    while (n > i && text[n - 1] == ' ') --n;
    auto digits = [&] {
        size_t b = i;
        while (i < n && text[i] >= '0' && text[i] <= '9') ++i;
        return text.substr(b, i - b);
    };
    if (i < n && text[i] == '-') throw std::invalid_argument("negative time");
    std::string whole = digits(), frac;
    if (i < n && text[i] == '.') {
        ++i;
        frac = digits();
    }
    if (whole.empty() && frac.empty())
        throw std::invalid_argument("expected a number and a unit (ps, ns, us, ms, s)");
    while (i < n && text[i] == ' ') ++i;
    const std::string unit = text.substr(i, n - i);
    if (unit.empty()) throw std::invalid_argument("missing unit (ps, ns, us, ms, s)");
    auto u = std::find_if(std::begin(units), std::end(units), [&](auto& e) { return unit == e.first; });
    if (u == std::end(units)) throw std::invalid_argument("unknown unit \"" + unit + "\"");
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
    if (frac.size() > u->second) throw std::invalid_argument("not a whole number of picoseconds");
    // The picosecond count is exactly the digits with the fraction padded to the unit.
    uint64_t v = 0;
    for (char c : whole + frac + std::string(u->second - frac.size(), '0')) {
        const uint64_t d = uint64_t(c - '0');
        if (v > (UINT64_MAX - d) / 10) throw std::invalid_argument("too large");
        v = v * 10 + d;
    }
    return v;
}

namespace {
using YAML::Node;

void emit(YAML::Emitter& out, const Node& n) {
    if (n.IsMap()) {
        out << YAML::BeginMap;
        for (const auto& kv : n) {
            out << YAML::Key;
            emit(out, kv.first);
            out << YAML::Value;
            emit(out, kv.second);
        }
        out << YAML::EndMap;
    } else if (n.IsSequence()) {
        out << YAML::BeginSeq;
        for (const Node& e : n) emit(out, e);
        out << YAML::EndSeq;
    } else if (n.IsScalar()) {
        const std::string& tag = n.Tag();
        if (tag == "!") out << YAML::DoubleQuoted;  // quoted in the source: stays a string
        else if (!tag.empty() && tag != "?") out << YAML::VerbatimTag(tag);
        out << n.Scalar();
    } else {
        out << YAML::Null;
    }
}

}  // namespace

std::string to_yaml(const YAML::Node& node) {
    YAML::Emitter out;
    out.SetMapFormat(YAML::Block);
    out.SetSeqFormat(YAML::Block);
    emit(out, node);
    if (!out.good()) throw std::runtime_error("to_yaml: " + out.GetLastError());
    return std::string(out.c_str()) + "\n";
}

}  // namespace ioatsim
