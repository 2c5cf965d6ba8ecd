// Scenario loading: YAML -> overrides -> checked `scenario`. Each section is a table
// of keys and setters; anything not in a table is an error at its position.
#include "platform/scenario.h"

#include "platform/log_pattern.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <charconv>
#include <climits>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>

namespace ioatsim {

std::string source_pos::str() const {
    return line == 0 ? file : file + ":" + std::to_string(line) + ":" + std::to_string(col);
}

input_error::input_error(const source_pos& pos, const std::string& msg)
    : std::runtime_error(pos.str() + ": " + msg) {}

const char* const max_time_reason =
    "must be <= 1000 s: the simulated clock holds 2^64 ps (213 days) and sums of times must stay far below that";

source_pos scenario::pos_of(const std::string& path) const {
    for (std::string p = path;; p = p.substr(0, p.rfind('.'))) {
        auto it = key_pos.find(p);
        if (it != key_pos.end()) return it->second;
        if (p.find('.') == std::string::npos) break;
    }
    return source_pos{file, 1, 1};
}

namespace {

using YAML::Node;
using YAML::NodeType;

const char* const known_os[] = {"linux", "none"};
constexpr int max_depth = 64;           // deeper means a recursive alias
constexpr long max_nodes = 1'000'000;   // guards against alias blow-up

std::string quote(const std::string& s) { return "\"" + s + "\""; }

// A name usable as one file name on any POSIX system.
bool plain_name(const std::string& s) {
    if (s.empty() || s.size() > 255 || s == "." || s == "..") return false;
    for (unsigned char c : s)
        if (c == '/' || c < 0x20 || c == 0x7f) return false;
    return true;
}

std::string kind(const Node& n) {
    switch (n.Type()) {
        case NodeType::Map: return "a map";
        case NodeType::Sequence: return "a list";
        case NodeType::Scalar: return quote(n.Scalar());
        default: return "nothing";
    }
}

// A copy built from scratch: no marks (so override nodes are told apart), block style.
Node copy_tree(const Node& n, std::vector<Node>* made) {
    Node out;
    if (n.IsScalar()) {
        out.reset(Node(n.Scalar()));
        out.SetTag(n.Tag());
    } else if (n.IsSequence()) {
        out.reset(Node(NodeType::Sequence));
        for (const Node& e : n) out.push_back(copy_tree(e, made));
    } else if (n.IsMap()) {
        out.reset(Node(NodeType::Map));
        for (const auto& kv : n) out[copy_tree(kv.first, made)] = copy_tree(kv.second, made);
    } else {
        out.reset(Node(NodeType::Null));
    }
    if (made) made->push_back(out);
    return out;
}

struct item {  // a value, the key it was found under, and its dotted path
    Node key, val;
    std::string path;
};

using setter = std::function<void(const item&)>;
struct field {
    const char* key;
    setter set;
};

class checker {
public:
    explicit checker(std::string file) : file_(std::move(file)) {}

    source_pos pos(const Node& n) const {
        for (const auto& o : origins_)
            if (o.first.is(n)) return source_pos{o.second};
        const YAML::Mark m = n.Mark();
        return m.line < 0 ? source_pos{file_} : source_pos{file_, m.line + 1, m.column + 1};
    }
    // Where to blame a value: yaml-cpp marks an empty value at the next token.
    source_pos at(const item& it) const {
        if (it.val.IsNull() && it.val.Mark().line >= 0) return pos(it.key);
        source_pos p = pos(it.val);
        return p.line == 0 && p.file == file_ ? pos(it.key) : p;
    }
    [[noreturn]] void fail(const item& it, const std::string& msg) const {
        throw input_error(at(it), it.path + ": " + msg);
    }

    // Rejects duplicate keys and runaway aliases; `label` marks an override's value.
    void check_tree(const Node& n, const std::string* label, int depth, long& count) const {
        auto where = [&](const Node& x) { return label ? source_pos{*label} : pos(x); };
        if (depth > max_depth) throw input_error(where(n), "nesting too deep (recursive alias?)");
        if (++count > max_nodes) throw input_error(where(n), "document too large");
        if (n.IsSequence())
            for (const Node& e : n) check_tree(e, label, depth + 1, count);
        if (!n.IsMap()) return;
        std::map<std::string, Node> seen;
        for (const auto& kv : n) {
            if (kv.first.IsScalar()) {
                auto [it, fresh] = seen.emplace(kv.first.Scalar(), kv.first);
                if (!fresh) {
                    source_pos first = where(it->second);
                    throw input_error(where(kv.first), "duplicate key " + quote(kv.first.Scalar()) +
                        (first.line ? " (first at line " + std::to_string(first.line) + ")" : ""));
                }
            }
            check_tree(kv.second, label, depth + 1, count);
        }
    }

    void apply_override(Node& doc, const std::string& text);

    // Calls the setter of each key; `other` takes keys not in the table.
    void walk_map(const item& m, const std::vector<field>& fields, const setter& other = {}) const {
        if (m.val.IsNull()) return;  // "run:" with nothing under it
        if (!m.val.IsMap()) fail(m, "expected a map, got " + kind(m.val));
        for (const auto& kv : m.val) {
            if (!kv.first.IsScalar())
                throw input_error(pos(kv.first), "keys must be strings, got " + kind(kv.first));
            const std::string& k = kv.first.Scalar();
            const item child{kv.first, kv.second, m.path.empty() ? k : m.path + "." + k};
            positions_.emplace(child.path, at(child));
            auto f = std::find_if(fields.begin(), fields.end(), [&](auto& e) { return k == e.key; });
            if (f != fields.end()) {
                f->set(child);
            } else if (other) {
                other(child);
            } else {
                std::string known;
                for (const auto& e : fields) known += (known.empty() ? "" : ", ") + std::string(e.key);
                throw input_error(pos(kv.first), "unknown key " + quote(k) + " " +
                    (m.path.empty() ? "at top level" : "in " + m.path) + " (known: " + known + ")");
            }
        }
    }

    std::string str(const item& it) const {
        if (!it.val.IsScalar()) fail(it, "expected a string, got " + kind(it.val));
        return it.val.Scalar();
    }
    template <size_t N>
    std::string one_of(const item& it, const char* const (&choices)[N]) const {
        std::string v = str(it), list;
        for (const char* c : choices) {
            if (v == c) return v;
            list += (list.empty() ? "" : ", ") + std::string(c);
        }
        fail(it, "expected one of " + list + ", got " + quote(v));
    }
    bool boolean(const item& it) const {
        bool b = false;
        if (!it.val.IsScalar() || !YAML::convert<bool>::decode(it.val, b))
            fail(it, "expected true or false, got " + kind(it.val));
        return b;
    }
    int64_t integer(const item& it, int64_t lo, int64_t hi) const {
        if (!it.val.IsScalar()) fail(it, "expected an integer, got " + kind(it.val));
        const std::string& t = it.val.Scalar();
        const char* b = t.data() + (t.size() > 1 && t[0] == '+' && t[1] != '-');
        const char* e = t.data() + t.size();
        int64_t v = 0;
        auto r = std::from_chars(b, e, v);
        if (r.ptr != e || b == e) fail(it, "expected an integer, got " + quote(t));
        const bool low = r.ec == std::errc::result_out_of_range ? t[0] == '-' : v < lo;
        if (low || r.ec == std::errc::result_out_of_range || v > hi)
            fail(it, t + " is out of range (must be " + (low ? ">= " + std::to_string(lo) : "<= " + std::to_string(hi)) + ")");
        return v;
    }
    uint64_t time(const item& it, bool positive) const {
        if (!it.val.IsScalar()) fail(it, "expected a time such as \"2 ms\", got " + kind(it.val));
        uint64_t v = 0;
        try {
            v = parse_time_ps(it.val.Scalar());
        } catch (const std::invalid_argument& e) {
            fail(it, "bad time " + quote(it.val.Scalar()) + ": " + e.what());
        }
        if (positive && v == 0) fail(it, "must be greater than 0");
        if (v > max_time_ps) fail(it, it.val.Scalar() + " is out of range (" + max_time_reason + ")");
        return v;
    }
    template <typename F>
    void each(const item& list, F&& f) const {  // calls f(element item) on each entry
        if (list.val.IsNull()) return;
        if (!list.val.IsSequence()) fail(list, "expected a list, got " + kind(list.val));
        size_t i = 0;
        for (const Node& e : list.val) f(item{list.key, e, list.path + "[" + std::to_string(i++) + "]"});
    }

    void check(const Node& doc, scenario& s) const;

    // "DDDD:BB:DD.F" in hex, as sysfs and lspci name a function.
    static bool pci_address(const std::string& a) {
        unsigned dom, bus, dev, fn;
        char tail;
        return a.size() == 12 && a[4] == ':' && a[7] == ':' && a[10] == '.' &&
               std::sscanf(a.c_str(), "%4x:%2x:%2x.%1x%c", &dom, &bus, &dev, &fn, &tail) == 4 && dev < 32 && fn < 8 &&
               a.find_first_not_of("0123456789abcdefABCDEF:.") == std::string::npos;
    }

    // The kernel command line: words the simulated kernel knows, each checked.
    void boot_line(const item& it, boot_params& b) const {
        parse_boot_line(str(it), b, [&](const std::string& msg) { fail(it, msg); });
    }

private:
    std::string file_;
    mutable std::map<std::string, source_pos> positions_;  // filled as walk_map visits keys
    std::vector<std::pair<Node, std::string>> origins_;  // nodes made by --set, and its label
};

// Keys under platform.set may be nested or dotted; drop the other spellings of `key`
// (the exact one, when `keep`, is overwritten in place).
void erase_dotted(Node map, const std::string& key, bool keep) {
    std::vector<Node> gone;
    for (const auto& kv : map) {
        if (!kv.first.IsScalar()) continue;
        const std::string k = kv.first.Scalar();
        if (k == key) {
            if (!keep) gone.push_back(kv.first);
        } else if (kv.second.IsMap() && key.compare(0, k.size() + 1, k + ".") == 0) {
            erase_dotted(kv.second, key.substr(k.size() + 1), false);
            if (kv.second.size() == 0) gone.push_back(kv.first);
        }
    }
    for (const Node& k : gone) map.remove(k);
}

void checker::apply_override(Node& doc, const std::string& text) {
    const std::string label = "--set " + text;
    auto bad = [&](const std::string& msg) { throw input_error(source_pos{label}, msg); };
    const size_t eq = text.find('=');
    if (eq == std::string::npos) bad("expected KEY=VALUE");
    std::vector<std::string> parts;
    for (size_t b = 0, e; b <= eq; b = e + 1) {
        e = std::min(text.find('.', b), eq);
        parts.push_back(text.substr(b, e - b));
        if (parts.back().empty()) bad(eq == 0 ? "empty key" : "empty key component");
    }
    Node parsed;
    try {
        parsed = YAML::Load(text.substr(eq + 1));
    } catch (const YAML::ParserException& e) {
        bad("bad value: " + e.msg);
    }
    long count = 0;
    check_tree(parsed, &label, 0, count);
    std::vector<Node> made;
    const Node value = copy_tree(parsed, &made);

    Node cur = doc;
    std::string path;  // components walked so far
    for (size_t i = 0; i < parts.size(); ++i) {
        std::string name = parts[i];
        bool last = i + 1 == parts.size();
        if (path == "platform.set" || path == "expect") {  // the rest is one dotted key
            for (size_t j = i + 1; j < parts.size(); ++j) name += "." + parts[j];
            last = true;
        }
        Node next;
        bool found = false;
        if (cur.IsSequence()) {
            size_t idx = 0;
            auto r = std::from_chars(name.data(), name.data() + name.size(), idx);
            if (r.ptr != name.data() + name.size() || idx >= cur.size())
                bad(path + " has no entry " + quote(name) + " (" + std::to_string(cur.size()) + " entries)");
            next.reset(cur[idx]);
            found = true;
        } else {
            if (cur.IsNull()) {  // "run:" left empty: becomes a map
                Node m(NodeType::Map);
                made.push_back(m);
                cur = m;
            }
            if (!cur.IsMap()) bad((path.empty() ? "the scenario" : path) + " is not a map");
            if (path == "platform.set") erase_dotted(cur, name, true);
            for (const auto& kv : cur)
                if (!found && kv.first.IsScalar() && kv.first.Scalar() == name) {
                    next.reset(kv.second);
                    found = true;
                }
        }
        if (!found) {
            Node k(name), v(NodeType::Map);
            made.push_back(k);
            made.push_back(v);
            cur[k] = last ? value : v;
            next.reset(last ? value : v);
        } else if (last) {
            next = value;  // Node::operator= overwrites the slot in its parent
        }
        if (last) break;
        cur.reset(next);
        path += (path.empty() ? "" : ".") + name;
    }
    for (const Node& n : made) origins_.emplace_back(n, label);
}

void checker::check(const Node& doc, scenario& s) const {
    auto map = [&](std::vector<field> fields) { return [this, fields](const item& it) { walk_map(it, fields); }; };
    auto integer_into = [&](auto& dst, int64_t lo, int64_t hi) {
        return [this, &dst, lo, hi](const item& it) { dst = decltype(+dst)(integer(it, lo, hi)); };
    };
    bool has_name = false;
    dmatest_params& dt = s.dmatest;

    const setter platform_set = [&](const item& it) {  // flattens nested maps to dotted keys
        if (it.val.IsMap()) return walk_map(it, {}, platform_set);
        if (!it.val.IsScalar()) fail(it, "expected a value, got " + kind(it.val));
        std::string key = it.path.substr(std::string("platform.set.").size());
        for (const auto& p : s.platform_set)
            if (p.key == key) throw input_error(pos(it.key), "duplicate key " + quote(key) + " in platform.set");
        s.platform_set.push_back({key, it.val.Scalar(), pos(it.key)});
    };
    // A number or true/false; integers are read exactly (long double holds 64 bits).
    const auto number = [&](const item& it, long double& out) {
        if (!it.val.IsScalar()) fail(it, "expected a number, got " + kind(it.val));
        const std::string& t = it.val.Scalar();
        int64_t i = 0;
        auto r = std::from_chars(t.data(), t.data() + t.size(), i);
        if (r.ptr == t.data() + t.size() && r.ec == std::errc() && !t.empty()) {
            out = i;
            return;
        }
        char* end = nullptr;
        errno = 0;
        long double v = std::strtold(t.c_str(), &end);
        bool plain = !t.empty() && t.find_first_not_of("0123456789+-.eE") == std::string::npos;
        if (!plain || end != t.c_str() + t.size() || errno == ERANGE || !std::isfinite(v))
            fail(it, "expected a number, got " + quote(t));
        out = v;
    };
    const setter value = [&](const item& it) {
        expect_value e;
        e.path = it.path.substr(std::string("expect.").size());
        e.pos = pos(it.key);
        if (it.val.IsMap()) {
            walk_map(it, {{"min", [&](const item& m) { number(m, e.min); e.has_min = true; }},
                          {"max", [&](const item& m) { number(m, e.max); e.has_max = true; }}});
            if (!e.has_min && !e.has_max) fail(it, "expected min and/or max");
            if (e.has_min && e.has_max && e.min > e.max)
                fail(it, "min " + it.val["min"].Scalar() + " > max " + it.val["max"].Scalar());
            e.text = std::string(e.has_min ? ">= " + it.val["min"].Scalar() : "") +
                     (e.has_min && e.has_max ? " and " : "") + (e.has_max ? "<= " + it.val["max"].Scalar() : "");
        } else if (it.val.IsScalar() && (it.val.Scalar() == "true" || it.val.Scalar() == "false")) {
            e.is_bool = true;
            e.want = it.val.Scalar() == "true";
            e.text = it.val.Scalar();
        } else if (it.val.IsScalar()) {
            number(it, e.min);
            e.max = e.min;
            e.has_min = e.has_max = true;
            e.text = it.val.Scalar();
        } else {
            fail(it, "expected a number, true/false or a map {min, max}, got " + kind(it.val));
        }
        s.expect.values.push_back(e);
    };
    auto patterns = [&](std::vector<expect_pattern>& dst) {
        return [this, &dst](const item& list) {
            each(list, [&](const item& e) {
                const std::string p = str(e);
                try {
                    log_pattern check(p);
                } catch (const std::invalid_argument& ex) {
                    fail(e, "invalid regular expression " + quote(p) + ": " + ex.what());
                }
                dst.push_back({p, at(e)});
            });
        };
    };
    auto timeline = [&](const item& list) {
        each(list, [&](const item& e) {
            timeline_action a{0, "", e.val, at(e), s.timeline.size()};
            bool has_at = false, has_do = false;
            if (!e.val.IsMap()) fail(e, "expected a map {at, do, ...}, got " + kind(e.val));
            walk_map(e, {{"at", [&](const item& t) { a.at_ps = time(t, false); has_at = true; }},
                         {"do", [&](const item& d) {
                             a.action = str(d);
                             if (a.action.empty()) fail(d, "must not be empty");
                             has_do = true;
                         }}},
                     [](const item&) {});  // action arguments: checked by the action's owner
            if (!has_at || !has_do) fail(e, std::string("missing required key ") + (has_at ? "\"do\"" : "\"at\""));
            s.timeline.push_back(a);
        });
        std::stable_sort(s.timeline.begin(), s.timeline.end(),
                         [](const auto& x, const auto& y) { return x.at_ps < y.at_ps; });
    };

    walk_map(item{Node(), doc, ""}, {
        {"name", [&](const item& it) {
            s.name = str(it);
            if (s.name.empty()) fail(it, "must not be empty");
            // The name is the output folder's, out/NAME: it must stay inside out/.
            if (!plain_name(s.name))
                fail(it, quote(s.name) + " is not a plain file name (it names the output folder out/NAME: "
                         "no \"/\", not \".\" or \"..\", no control characters, at most 255 bytes)");
            has_name = true;
        }},
        {"description", [&](const item& it) { s.description = str(it); }},
        {"platform", map({
            {"preset", [&](const item& it) {
                s.preset = str(it);
                // A preset is platform/presets/NAME.yaml: a name, never a path.
                if (!plain_name(s.preset) || s.preset[0] == '.')
                    fail(it, quote(s.preset) + " is not a preset name (a file name in platform/presets/, "
                             "without .yaml)");
            }},
            {"set", [&](const item& it) { walk_map(it, {}, platform_set); }},
        })},
        {"software", map({
            {"os", [&](const item& it) { s.os = one_of(it, known_os); }},
            {"dmaengine", map({
                {"design", [&](const item& it) { sw::parse_dma_design(one_of(it, sw::dma_design_names), s.dmaengine.design); }},
                {"numa_affinity", [&](const item& it) { s.dmaengine.numa_affinity = boolean(it); }},
                {"failback", [&](const item& it) { s.dmaengine.failback = boolean(it); }},
            })},
            {"clients", map({{"dmatest", [&](const item& it) {
                dt.enabled = true;
                walk_map(it, {
                    {"enabled", [&](const item& e) { dt.enabled = boolean(e); }},
                    {"threads_per_chan", integer_into(dt.threads_per_chan, 1, INT_MAX)},
                    {"iterations", integer_into(dt.iterations, 0, INT_MAX)},
                    {"test_buf_size", integer_into(dt.test_buf_size, 1, 16777216)},
                    {"max_channels", integer_into(dt.max_channels, 0, INT_MAX)},
                    {"channel", [&](const item& e) { dt.channel = str(e); }},
                    {"device", [&](const item& e) { dt.device = str(e); }},
                    {"timeout", [&](const item& e) { dt.timeout = time(e, false); }},
                    {"seed", integer_into(dt.seed, 0, INT64_MAX)},
                    {"buffer_node", integer_into(dt.buffer_node, -1, 63)},
                    {"bug", [&](const item& e) { dt.bug = one_of(e, dmatest_bugs); if (dt.bug == "none") dt.bug.clear(); }},
                });
            }},
            {"net_dma", [&](const item& it) {
                net_dma_params& n = s.net_dma;
                n.enabled = true;
                walk_map(it, {
                    {"enabled", [&](const item& e) { n.enabled = boolean(e); }},
                    {"interfaces", integer_into(n.interfaces, 0, 256)},
                    {"readers", integer_into(n.readers, 0, 4096)},
                    {"read_size", integer_into(n.read_size, 1, 16777216)},
                    {"segment", integer_into(n.segment, 1, 65536)},
                    {"copybreak", integer_into(n.copybreak, -1, INT32_MAX)},
                    {"link_gbps", [&](const item& e) {
                        n.link_gbps = double(integer(e, 1, 1000));
                    }},
                    {"reads", integer_into(n.reads, 0, INT_MAX)},
                });
            }},
            {"async_tx", [&](const item& it) {
                s.async_tx.enabled = true;
                walk_map(it, {{"enabled", [&](const item& e) { s.async_tx.enabled = boolean(e); }},
                              {"threads", integer_into(s.async_tx.threads, 0, 4096)},
                              {"disks", integer_into(s.async_tx.disks, 4, 16)},
                              {"iterations", integer_into(s.async_tx.iterations, 0, INT_MAX)}});
            }},
            {"dca", [&](const item& it) {
                dca_params& d = s.dca;
                d.enabled = true;
                walk_map(it, {
                    {"enabled", [&](const item& e) { d.enabled = boolean(e); }},
                    {"device", [&](const item& e) {
                        d.device = str(e);
                        if (!pci_address(d.device))
                            fail(e, "expected a PCI address such as \"0000:01:00.0\", got " + quote(d.device));
                    }},
                    {"queues", integer_into(d.queues, 1, 64)},
                    {"interval", [&](const item& e) { d.interval = time(e, true); }},
                    {"packet", integer_into(d.packet, 64, 9216)},  // up to a 9 KiB jumbo frame [estimate]
                    {"packets", integer_into(d.packets, 0, INT_MAX)},
                    {"before_ioatdma", [&](const item& e) { d.before_ioatdma = boolean(e); }},
                    {"keep_tagging", [&](const item& e) { d.keep_tagging = boolean(e); }},
                });
            }}})},
            {"cmdline", [&](const item& it) { boot_line(it, s.cmdline); }},
            {"iommu", [&](const item& it) { s.iommu = one_of(it, iommu_modes); }},
            {"dma_debug", [&](const item& it) { s.dma_debug = boolean(it); }},
        })},
        {"run", map({
            {"until", [&](const item& it) { s.until_ps = time(it, true); }},
            {"seed", integer_into(s.seed, 0, INT64_MAX)},
            {"quantum", [&](const item& it) { s.quantum_ps = time(it, true); }},
            {"poll_skip", [&](const item& it) { s.poll_skip = boolean(it); }},
        })},
        {"timeline", timeline},
        {"expect", [&](const item& it) {
            walk_map(it, {{"log_contains", patterns(s.expect.log_contains)},
                          {"log_not_contains", patterns(s.expect.log_not_contains)}}, value);
        }},
    });
    s.key_pos = positions_;
    if (!has_name) {
        source_pos p = pos(doc);
        if (p.line == 0 && p.file == file_) p = source_pos{file_, 1, 1};  // an empty file has no marks
        throw input_error(p, std::string("missing required key \"name\"") + (doc.size() ? "" : " (the scenario is empty)"));
    }
    for (const timeline_action& a : s.timeline)
        if (a.at_ps >= s.until_ps)
            throw input_error(pos(a.args["at"]), "timeline: at " + a.args["at"].Scalar() +
                                                     " is not before run.until: the action would never happen");
}

}  // namespace

scenario parse_scenario(const std::string& text, const std::string& path,
                        const std::vector<std::string>& overrides) {
    checker c(path);
    Node doc;
    try {
        doc = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw input_error(e.mark.is_null() ? source_pos{path, 1, 1} : source_pos{path, e.mark.line + 1, e.mark.column + 1},
                          e.msg);
    }
    long count = 0;
    c.check_tree(doc, nullptr, 0, count);
    if (doc.IsNull()) doc.reset(Node(NodeType::Map));
    if (!doc.IsMap()) throw input_error(c.pos(doc), "a scenario must be a map, got " + kind(doc));
    for (const std::string& o : overrides) c.apply_override(doc, o);

    scenario s;
    s.file = path;
    s.effective = copy_tree(doc, nullptr);
    c.check(doc, s);
    return s;
}

scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides) {
    namespace fs = std::filesystem;
    // Looked at before it is opened: opening a FIFO would block, reading a device
    // (/dev/zero) would never end.
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (ec) throw input_error(path + ": cannot read file: " + ec.message());
    if (!fs::is_regular_file(st))
        throw input_error(path + ": not a regular file (a scenario is a YAML file of at most 1 MiB)");
    const uintmax_t size = fs::file_size(path, ec);
    if (!ec && size > max_scenario_bytes)
        throw input_error(path + ": " + std::to_string(size) + " bytes is over the 1 MiB a scenario may have");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw input_error(path + ": cannot read file");
    std::string text(max_scenario_bytes + 1, '\0');  // one more: a file that grew is still caught
    in.read(&text[0], std::streamsize(text.size()));
    if (in.bad()) throw input_error(path + ": cannot read file");
    text.resize(size_t(in.gcount()));
    if (text.size() > max_scenario_bytes) throw input_error(path + ": over the 1 MiB a scenario may have");
    return parse_scenario(text, path, overrides);
}

}  // namespace ioatsim
