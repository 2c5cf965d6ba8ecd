#include "platform/verdict.h"

#include "models/core/json.h"
#include "platform/log_pattern.h"

#include <algorithm>
#include <set>

namespace ioatsim {

using nlohmann::json;

namespace {

void leaves(const json& j, const std::string& prefix, std::vector<std::string>& out) {
    for (auto it = j.begin(); it != j.end(); ++it) {
        std::string path = prefix.empty() ? it.key() : prefix + "." + it.key();
        if (it->is_object()) leaves(*it, path, out);
        else if (it->is_number() || it->is_boolean() || it->is_null()) out.push_back(path);
    }
}

// A path into the summary's objects, else a counter's name; null when neither.
const json* lookup(const json& summary, const std::string& path) {
    const json* cur = &summary;
    for (size_t b = 0; cur; ) {
        size_t e = path.find('.', b);
        std::string part = path.substr(b, e == std::string::npos ? std::string::npos : e - b);
        auto it = cur->is_object() ? cur->find(part) : cur->end();
        cur = it == cur->end() ? nullptr : &*it;
        if (e == std::string::npos) break;
        b = e + 1;
    }
    if (cur && !cur->is_object() && !cur->is_array() && !cur->is_string()) return cur;
    auto c = summary.find("counters");
    if (c == summary.end()) return nullptr;
    auto v = c->find(path);
    return v == c->end() ? nullptr : &*v;
}

std::string show(const json& v) { return v.is_null() ? "no value" : v.dump(); }

check_outcome check_value(const expect_value& e, const json& summary) {
    const json* v = lookup(summary, e.path);
    bool ok = false;
    if (v && e.is_bool) {
        ok = v->is_boolean() && v->get<bool>() == e.want;
    } else if (v && v->is_number()) {
        long double x = v->is_number_integer() ? (v->is_number_unsigned() ? (long double)v->get<uint64_t>()
                                                                            : (long double)v->get<int64_t>())
                                               : (long double)v->get<double>();
        ok = (!e.has_min || x >= e.min) && (!e.has_max || x <= e.max);
    }
    std::string actual = v ? show(*v) : "no value";
    json_obj o;
    o.set("kind", "value").set("path", e.path).set("expected", e.text).set_raw("actual", v ? v->dump() : "null")
        .set("ok", ok);
    return {ok, o.str(), e.pos.str() + ": " + e.path + " = " + actual + ", expected " + e.text};
}

check_outcome check_pattern(const expect_pattern& e, bool want, const std::vector<std::string>& log) {
    log_pattern re(e.pattern);
    bool found = false;
    for (auto& l : log)
        if (re.found_in(l)) {
            found = true;
            break;
        }
    bool ok = found == want;
    json_obj o;
    o.set("kind", want ? "log_contains" : "log_not_contains").set("pattern", e.pattern).set("ok", ok);
    return {ok, o.str(), e.pos.str() + ": log " + (want ? "lacks" : "contains") + " /" + e.pattern + "/"};
}

}  // namespace

std::vector<std::string> expect_paths(const json& summary) {
    std::vector<std::string> out;
    json top = summary;
    top.erase("counters");
    leaves(top, "", out);
    if (auto c = summary.find("counters"); c != summary.end())
        for (auto it = c->begin(); it != c->end(); ++it) out.push_back(it.key());
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

void check_expect_paths(const expectations& ex, const json& skeleton) {
    for (const expect_value& e : ex.values) {
        if (lookup(skeleton, e.path)) continue;
        std::string known;
        for (const std::string& p : expect_paths(skeleton)) known += (known.empty() ? "" : ", ") + p;
        throw input_error(e.pos, "expect: no number \"" + e.path + "\" in summary.json (known: " + known + ")");
    }
}

std::vector<check_outcome> evaluate(const expectations& ex, const json& summary, const std::vector<std::string>& log) {
    std::vector<check_outcome> out;
    std::set<std::string> named;
    for (const expect_value& e : ex.values) {
        out.push_back(check_value(e, summary));
        named.insert(e.path);
    }
    // Every violation kind expect does not name must not have happened.
    for (auto& [k, v] : summary.at("counters").items()) {
        if (k.rfind("violations.", 0) != 0 || named.count(k) || v.get<int64_t>() == 0) continue;
        json_obj o;
        o.set("kind", "default").set("path", k).set("expected", "0").set("actual", v.get<int64_t>()).set("ok", false);
        out.push_back({false, o.str(), k + " = " + v.dump() + ", expected 0 (a violation expect does not name)"});
    }
    for (auto& e : ex.log_contains) out.push_back(check_pattern(e, true, log));
    for (auto& e : ex.log_not_contains) out.push_back(check_pattern(e, false, log));
    return out;
}

}  // namespace ioatsim
