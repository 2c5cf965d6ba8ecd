#define SC_INCLUDE_DYNAMIC_PROCESSES
#include "platform/timeline.h"

#include "models/core/report.h"
#include "models/cpu/cpu.h"
#include "models/ioh/ioh.h"
#include "models/pcie/root_complex.h"
#include "platform/platform.h"
#include "sw/dmaengine/dmaengine.h"
#include "sw/pci/pci.h"

#include <systemc>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <set>

namespace ioatsim {

struct timeline::step {
    uint64_t at = 0;
    size_t file_index = 0;
    std::string action;
    source_pos pos;
    // Arguments, as the action needs them.
    std::string device;
    models::pci_function_if* fn = nullptr;
    uint64_t offset = 0, width = 4, value = 0, addr = 0, len = 0, equals = 0, bar = 0;
    bool has_expect = false, has_equals = false;
    uint64_t expect = 0, mask = ~0ull;
    unsigned index = 0;          // ioh or cpu number
    bool surprise = false;
    std::vector<uint8_t> bytes;  // mem.write data, or mem.expect image / fill pattern
};

namespace {

constexpr uint64_t max_mem_len = 64ull << 20;

using handler = void (*)(timeline::step&, platform&, std::vector<check_outcome>&);

struct action_def {
    const char* name;
    std::vector<const char*> keys;  // besides at and do
    handler run;
};

source_pos pos_of(const YAML::Node& n, const source_pos& fallback) {
    if (n.Mark().is_null() || fallback.line == 0) return fallback;
    return source_pos{fallback.file, n.Mark().line + 1, n.Mark().column + 1};
}

// Decimal, or 0x hex (addresses, offsets and register values read best so); a
// leading zero is refused rather than read as octal, as strtoull's base 0 would.
uint64_t to_u64(const YAML::Node& n, const std::string& key, const source_pos& at) {
    const std::string text = n.IsScalar() ? n.Scalar() : "";
    const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
    const std::string digits = hex ? text.substr(2) : text;
    const char* set = hex ? "0123456789abcdefABCDEF" : "0123456789";
    if (digits.empty() || digits.find_first_not_of(set) != std::string::npos)
        throw input_error(at, key + ": expected a non-negative integer (decimal or 0x hex), got \"" + text + "\"");
    if (!hex && digits.size() > 1 && digits[0] == '0')
        throw input_error(at, key + ": \"" + text + "\" has a leading zero (integers are decimal or 0x hex, never "
                                    "octal: write " + digits.substr(std::min(digits.find_first_not_of('0'),
                                                                             digits.size() - 1)) + ")");
    uint64_t v = 0;
    const unsigned base = hex ? 16 : 10;
    for (char c : digits) {
        const unsigned d = c <= '9' ? unsigned(c - '0') : unsigned((c | 0x20) - 'a' + 10);
        if (v > (UINT64_MAX - d) / base)
            throw input_error(at, key + ": " + text + " is out of range (must be <= 18446744073709551615)");
        v = v * base + d;
    }
    return v;
}

std::vector<uint8_t> hex_bytes(const std::string& text, const std::string& key, const source_pos& at) {
    std::string h;
    for (char c : text)
        if (!std::isspace(static_cast<unsigned char>(c))) h += c;
    if (h.rfind("0x", 0) == 0) h = h.substr(2);
    if (h.empty() || h.size() % 2 || h.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
        throw input_error(at, key + ": expected an even number of hex digits, got \"" + text + "\"");
    std::vector<uint8_t> out;
    for (size_t i = 0; i < h.size(); i += 2) out.push_back(uint8_t(std::stoul(h.substr(i, 2), nullptr, 16)));
    return out;
}

std::vector<uint8_t> words(const YAML::Node& n, unsigned size, const std::string& key, const source_pos& at) {
    if (!n.IsSequence()) throw input_error(at, key + ": expected a list of integers");
    std::vector<uint8_t> out;
    for (auto e : n) {
        uint64_t v = to_u64(e, key, pos_of(e, at));
        if (size == 4 && v > 0xffffffffull) throw input_error(pos_of(e, at), key + ": value does not fit 32 bits");
        for (unsigned b = 0; b < size; ++b) out.push_back(uint8_t(v >> (8 * b)));
    }
    return out;
}

std::string hex_of(uint64_t v) {
    char b[24];
    std::snprintf(b, sizeof b, "0x%llx", (unsigned long long)v);
    return b;
}

// What an action acts on, in words: "ioh.remove of IOH 1 (surprise)".
std::string target(const timeline::step& s) {
    if (s.action.rfind("ioh.", 0) == 0)
        return "IOH " + std::to_string(s.index) + (s.action == "ioh.remove" ? s.surprise ? " (surprise)" : " (orderly)" : "");
    if (s.action.rfind("cpu.", 0) == 0) return "CPU " + std::to_string(s.index);
    if (s.action.rfind("socket.", 0) == 0) return "socket " + std::to_string(s.index);
    std::string where = s.device.empty() ? hex_of(s.addr) : s.device;
    if (s.action.rfind("mmio", 0) == 0) where += " bar" + std::to_string(s.bar) + "+" + hex_of(s.offset);
    if (s.action.rfind("cfg", 0) == 0) where += " cfg+" + hex_of(s.offset);
    return where;
}

std::string describe(const timeline::step& s) { return s.action + " of " + target(s); }

void record(timeline::step& s, bool ok, uint64_t got, uint64_t want, std::vector<check_outcome>& out) {
    json_obj o;
    o.set("kind", "timeline").set("action", s.action).set("where", describe(s)).set("ok", ok)
        .set("actual", hex_of(got)).set("expected", hex_of(want));
    std::string mask = s.mask == ~0ull ? "" : " (mask " + hex_of(s.mask) + ")";
    out.push_back({ok, o.str(), s.pos.str() + ": " + describe(s) + ": got " + hex_of(got) + ", expected " + hex_of(want) + mask});
    sim_report().trace(uint64_t(sc_core::sc_time_stamp().value()), "timeline", "expect",
                       json_obj().set("action", s.action).set("ok", ok).set("actual", hex_of(got)));
}

uint64_t cfg_addr(const timeline::step& s) {
    unsigned bus, dev, fn;
    std::sscanf(s.device.c_str(), "%*x:%x:%x.%x", &bus, &dev, &fn);
    return address_map::ecam_base + (uint64_t(bus) << 20) + (uint64_t(dev) << 15) + (uint64_t(fn) << 12) + s.offset;
}

void io(timeline::step& s, platform& p, std::vector<check_outcome>& out, bool write, uint64_t addr) {
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    uint64_t v = 0;
    if (write) p.cpu(0).io_write(addr, unsigned(s.width), s.value, d);
    else p.cpu(0).io_read(addr, unsigned(s.width), v, d);
    sc_core::wait(d);
    if (!write && s.has_expect) record(s, (v & s.mask) == (s.expect & s.mask), v, s.expect, out);
}

uint64_t bar_addr(timeline::step& s) { return s.fn->config().bar_address(int(s.bar)) + s.offset; }

void do_cfg_read(timeline::step& s, platform& p, std::vector<check_outcome>& o) { io(s, p, o, false, cfg_addr(s)); }
void do_cfg_write(timeline::step& s, platform& p, std::vector<check_outcome>& o) { io(s, p, o, true, cfg_addr(s)); }
void do_mmio_read(timeline::step& s, platform& p, std::vector<check_outcome>& o) { io(s, p, o, false, bar_addr(s)); }
void do_mmio_write(timeline::step& s, platform& p, std::vector<check_outcome>& o) { io(s, p, o, true, bar_addr(s)); }

void do_mem_write(timeline::step& s, platform& p, std::vector<check_outcome>&) {
    p.mem_poke(s.addr, s.bytes.data(), s.bytes.size());
}

void do_mem_fill(timeline::step& s, platform& p, std::vector<check_outcome>&) {
    std::vector<uint8_t> buf(s.len);
    for (uint64_t i = 0; i < s.len; ++i) buf[i] = s.bytes[i % s.bytes.size()];
    p.mem_poke(s.addr, buf.data(), buf.size());
}

void do_mem_expect(timeline::step& s, platform& p, std::vector<check_outcome>& out) {
    std::vector<uint8_t> got(s.len), want(s.len);
    p.mem_peek(s.addr, got.data(), s.len);
    if (s.has_equals) p.mem_peek(s.equals, want.data(), s.len);
    else for (uint64_t i = 0; i < s.len; ++i) want[i] = s.bytes[i % s.bytes.size()];
    uint64_t first = s.len;
    for (uint64_t i = 0; i < s.len && first == s.len; ++i)
        if (got[i] != want[i]) first = i;
    bool ok = first == s.len;
    uint64_t at = ok ? 0 : first;
    json_obj o;
    o.set("kind", "timeline").set("action", s.action).set("where", describe(s)).set("ok", ok);
    std::string msg = s.pos.str() + ": " + describe(s) + ": " + std::to_string(s.len) + " bytes";
    if (!ok) {
        char b[96];
        std::snprintf(b, sizeof b, ", first difference at +0x%llx: got %02x, expected %02x",
                      (unsigned long long)at, got[at], want[at]);
        msg += b;
        o.set("first_difference", hex_of(at));
    }
    out.push_back({ok, o.str(), msg});
}

void do_ioh_remove(timeline::step& s, platform& p, std::vector<check_outcome>&) { p.ioh_remove(s.index, s.surprise); }
void do_ioh_add(timeline::step& s, platform& p, std::vector<check_outcome>&) { p.ioh_add(s.index); }
void do_cpu_offline(timeline::step& s, platform& p, std::vector<check_outcome>&) { p.cpu_set_online(s.index, false); }
void do_cpu_online(timeline::step& s, platform& p, std::vector<check_outcome>&) { p.cpu_set_online(s.index, true); }
void do_socket_remove(timeline::step& s, platform& p, std::vector<check_outcome>&) { p.socket_remove(s.index); }
void do_socket_add(timeline::step& s, platform& p, std::vector<check_outcome>&) { p.socket_add(s.index); }
void do_pci_unbind(timeline::step& s, platform& p, std::vector<check_outcome>&) { p.pci_unbind(s.device); }
void do_pci_bind(timeline::step& s, platform& p, std::vector<check_outcome>&) { p.pci_bind(s.device); }

const std::vector<action_def>& actions() {
    static const std::vector<action_def> t = {
        {"cfg.read", {"device", "offset", "width", "expect", "mask"}, do_cfg_read},
        {"cfg.write", {"device", "offset", "width", "value"}, do_cfg_write},
        {"mmio.read", {"device", "bar", "offset", "width", "expect", "mask"}, do_mmio_read},
        {"mmio.write", {"device", "bar", "offset", "width", "value"}, do_mmio_write},
        {"mem.write", {"addr", "bytes", "u32", "u64"}, do_mem_write},
        {"mem.fill", {"addr", "len", "pattern"}, do_mem_fill},
        {"mem.expect", {"addr", "len", "pattern", "bytes", "u32", "u64", "equals"}, do_mem_expect},
        {"ioh.remove", {"ioh", "mode"}, do_ioh_remove},
        {"ioh.add", {"ioh"}, do_ioh_add},
        {"cpu.offline", {"cpu"}, do_cpu_offline},
        {"cpu.online", {"cpu"}, do_cpu_online},
        {"socket.remove", {"socket"}, do_socket_remove},
        {"socket.add", {"socket"}, do_socket_add},
        {"pci.unbind", {"device"}, do_pci_unbind},
        {"pci.bind", {"device"}, do_pci_bind},
    };
    return t;
}

std::string normal_bdf(const std::string& text) {
    unsigned dom = 0, bus, dev, fn;
    char tail;
    if (std::sscanf(text.c_str(), "%x:%x:%x.%x%c", &dom, &bus, &dev, &fn, &tail) != 4) {
        dom = 0;
        if (std::sscanf(text.c_str(), "%x:%x.%x%c", &bus, &dev, &fn, &tail) != 3) return "";
    }
    if (bus > 0xff || dev > 0x1f || fn > 7) return "";
    char b[16];
    std::snprintf(b, sizeof b, "%04x:%02x:%02x.%u", dom, bus, dev, fn);
    return b;
}

}  // namespace

timeline::timeline(const scenario& sc, platform& plat) : plat_(plat) {
    for (const timeline_action& a : sc.timeline) {
        const action_def* def = nullptr;
        for (auto& d : actions())
            if (a.action == d.name) def = &d;
        if (!def) {
            std::string known;
            for (auto& d : actions()) known += (known.empty() ? "" : ", ") + std::string(d.name);
            const YAML::Node what = a.args["do"];
            throw input_error(pos_of(what, a.pos), "timeline: unknown action \"" + a.action +
                                                                "\" (known: " + known + ")");
        }
        step s;
        s.at = a.at_ps;
        s.file_index = a.index;
        s.action = a.action;
        s.pos = a.pos;
        std::set<std::string> seen;
        std::map<std::string, source_pos> where;  // of each argument's value
        for (auto it = a.args.begin(); it != a.args.end(); ++it) {
            std::string key = it->first.as<std::string>();
            source_pos at = pos_of(it->second, a.pos);
            where[key] = at;
            if (key == "at" || key == "do") continue;
            bool known = false;
            for (const char* k : def->keys) known = known || key == k;
            if (!known) {
                std::string list;
                for (const char* k : def->keys) list += (list.empty() ? "" : ", ") + std::string(k);
                throw input_error(pos_of(it->first, a.pos), "unknown key \"" + key + "\" in " + a.action +
                                                                " (known: at, do, " + list + ")");
            }
            seen.insert(key);
            const YAML::Node v = it->second;  // a copy: the iterator yields a temporary
            if (key == "device") {
                s.device = normal_bdf(v.IsScalar() ? v.Scalar() : "");
                if (s.device.empty()) throw input_error(at, "device: expected a PCI address like 0000:00:16.0");
                s.fn = plat.find_function(s.device);
                if (!s.fn) {
                    std::string have;
                    for (unsigned i = 0; i < plat.ioh_count(); ++i)
                        for (auto* f : plat.ioh(i).functions()) have += (have.empty() ? "" : ", ") + f->bdf();
                    throw input_error(at, "device: no function at " + s.device + " (this platform has " + have + ")");
                }
            } else if (key == "offset") s.offset = to_u64(v, key, at);
            else if (key == "width") s.width = to_u64(v, key, at);
            else if (key == "value") s.value = to_u64(v, key, at);
            else if (key == "expect") { s.expect = to_u64(v, key, at); s.has_expect = true; }
            else if (key == "mask") s.mask = to_u64(v, key, at);
            else if (key == "bar") s.bar = to_u64(v, key, at);
            else if (key == "addr") s.addr = to_u64(v, key, at);
            else if (key == "len") s.len = to_u64(v, key, at);
            else if (key == "equals") { s.equals = to_u64(v, key, at); s.has_equals = true; }
            else if (key == "ioh" || key == "cpu" || key == "socket") {
                uint64_t n = to_u64(v, key, at);
                unsigned limit = key == "ioh" ? plat.ioh_count() : key == "cpu" ? plat.cpu_count() : plat.socket_count();
                const std::string what = key == "ioh" ? "IOH" : key == "cpu" ? "CPU" : "socket";
                if (n >= limit)
                    throw input_error(at, key + ": " + v.Scalar() + " does not exist (this platform has " + what +
                                              (limit > 1 ? "s 0-" + std::to_string(limit - 1) : " 0") + ")");
                if (key == "socket" && n == 0)
                    throw input_error(at, "socket: 0 cannot be removed or added (it holds the kernel's memory and "
                                          "the boot CPU)");
                s.index = unsigned(n);
            } else if (key == "mode") {
                std::string m = v.IsScalar() ? v.Scalar() : "";
                if (m != "orderly" && m != "surprise")
                    throw input_error(at, "mode: expected orderly or surprise, got \"" + m + "\"");
                s.surprise = m == "surprise";
            }
            else if (key == "bytes") s.bytes = hex_bytes(v.IsScalar() ? v.Scalar() : "", key, at);
            else if (key == "u32") s.bytes = words(v, 4, key, at);
            else if (key == "u64") s.bytes = words(v, 8, key, at);
            else if (key == "pattern") {
                if (v.IsScalar() && v.Scalar().size() > 4 && v.Scalar().rfind("0x", 0) != 0)
                    s.bytes = hex_bytes(v.Scalar(), key, at);
                else {
                    uint64_t b = to_u64(v, key, at);
                    if (b > 0xff) throw input_error(at, "pattern: a byte (0..255) or a hex string");
                    s.bytes = {uint8_t(b)};
                }
            }
        }
        auto need = [&](const char* k) {
            if (!seen.count(k)) throw input_error(a.pos, a.action + ": missing key \"" + k + "\"");
        };
        bool is_cfg = a.action.rfind("cfg", 0) == 0, is_mmio = a.action.rfind("mmio", 0) == 0;
        bool is_mem = a.action.rfind("mem", 0) == 0;
        if (a.action.rfind("ioh", 0) == 0) {
            need("ioh");
        } else if (a.action.rfind("cpu", 0) == 0) {
            need("cpu");
        } else if (a.action.rfind("socket", 0) == 0) {
            need("socket");
        } else if (a.action.rfind("pci", 0) == 0) {
            need("device");
            if (sc.os == "none") throw input_error(a.pos, a.action + ": needs an OS (software.os: linux)");
        } else if (is_cfg || is_mmio) {
            need("device");
            need("offset");
            if (a.action.find("write") != std::string::npos) need("value");
            bool ok_width = s.width == 1 || s.width == 2 || s.width == 4 || (is_mmio && s.width == 8);
            if (!ok_width)
                throw input_error(where.count("width") ? where["width"] : a.pos,
                                  "width: " + std::to_string(s.width) + " is not an access width (must be " +
                                      (is_cfg ? "1, 2 or 4)" : "1, 2, 4 or 8)"));
            // Written so that no sum can wrap: offset + width <= limit.
            const uint64_t limit = is_cfg ? 4096 : 16384;
            if (s.offset > limit || s.width > limit - s.offset)
                throw input_error(where["offset"], "offset: " + hex_of(s.offset) + " + width " + std::to_string(s.width) +
                                                       " is outside the " + std::to_string(limit) + "-byte " +
                                                       (is_cfg ? "configuration space" : "BAR") +
                                                       " (offset + width must be <= " + hex_of(limit) + ")");
            if (s.bar != 0) throw input_error(where["bar"], "bar: this function has only BAR0 (must be 0)");
            const uint64_t top = s.width == 8 ? ~0ull : (1ull << (8 * s.width)) - 1;
            for (const char* k : {"value", "expect"}) {
                const uint64_t v = std::string(k) == "value" ? s.value : s.expect;
                if (seen.count(k) && v > top)
                    throw input_error(where[k], std::string(k) + ": " + hex_of(v) + " does not fit " +
                                                    std::to_string(s.width) + " byte(s) (must be <= " + hex_of(top) + ")");
            }
        } else if (is_mem) {
            need("addr");
            int data = int(seen.count("bytes") + seen.count("u32") + seen.count("u64") + seen.count("pattern") +
                           seen.count("equals"));
            if (data != 1) throw input_error(a.pos, a.action + ": give exactly one of the data keys");
            if (seen.count("equals") || seen.count("pattern")) need("len");
            if (!s.len) s.len = s.bytes.size();
            if (a.action == "mem.write" && s.len != s.bytes.size())
                throw input_error(a.pos, "mem.write: len is implied by the data");
            if (!s.len || (s.bytes.empty() && !s.has_equals)) throw input_error(a.pos, a.action + ": nothing to do");
            // Each byte is built in host memory at the action's instant (twice for
            // mem.expect): 64 MiB, 64 times the largest in scenarios/, keeps that small.
            if (s.len > max_mem_len)
                throw input_error(where.count("len") ? where["len"] : a.pos,
                                  a.action + ": " + std::to_string(s.len) + " bytes is over the limit of 64 MiB " +
                                      "(each byte is built in host memory)");
            if (!plat.in_memory(s.addr, s.len) || (s.has_equals && !plat.in_memory(s.equals, s.len)))
                throw input_error(a.pos, a.action + ": range outside DRAM");
        }
        steps_.push_back(std::move(s));
    }
}

timeline::~timeline() = default;

namespace {
// The load an action meets: IOAT functions of its IOH (or its device) bound to
// a driver, and the descriptors their channels hold.
json_obj found(const timeline::step& s, platform& plat) {
    json_obj o;
    o.set("timeline_index", uint64_t(s.file_index)).set("do", s.action).set("at_ps", s.at)
        .set("ran_at_ps", uint64_t(sc_core::sc_time_stamp().value()));
    const bool on_socket = s.action.rfind("socket.", 0) == 0;
    const int iio = on_socket && plat.integrated() ? int(s.index) : -1;  // a socket's IIO is its IOH
    const bool on_ioh = s.action.rfind("ioh.", 0) == 0 || iio >= 0;
    if (!on_ioh && s.device.empty()) return o;
    uint64_t bound = 0, in_flight = 0, refs = 0;
    std::set<std::string> names;  // the target's functions
    if (sw::pci_subsys* pci = plat.pci())
        for (sw::pci_dev* d : pci->devices())
            if (on_ioh ? d->bridge == s.index : d->name == s.device) {
                names.insert(d->name);
                bound += d->driver != nullptr;
            }
    if (sw::dmaengine* dma = plat.dma())
        for (sw::dma_device* d : dma->device_list())
            if (names.count(d->dev_name))
                for (sw::dma_chan* c : d->channels) refs += uint64_t(std::max(c->client_count, 0));
    for (unsigned h = 0; h < plat.ioh_count(); ++h)
        for (unsigned i = 0; i < plat.ioh(h).ioat_count(); ++i) {
            models::ioat_function& f = plat.ioh(h).ioat(i);
            if (on_ioh ? h != s.index : f.bdf() != s.device) continue;
            for (unsigned c = 0; c < f.chan_count(); ++c) in_flight += f.chan(c).outstanding();
        }
    return o.set("bound", bound).set("in_flight", in_flight).set("client_refs", refs);
}
}  // namespace

std::string timeline::actions_json() const { return json_array(found_); }

void timeline::start() {
    if (steps_.empty()) return;
    done_ = false;
    go_ = std::make_unique<sc_core::sc_event>();
    sc_core::sc_spawn([this] { run(); }, "timeline");
}

uint64_t timeline::next_at() const {
    return released_ < steps_.size() && released_ != held_ ? steps_[released_].at : UINT64_MAX;
}

void timeline::release_due(uint64_t now_ps) {
    const size_t before = released_;
    while (released_ < steps_.size() && released_ != held_ && steps_[released_].at <= now_ps) ++released_;
    if (released_ != before && waiting_) go_->notify();  // runnable when the simulation goes on
}

void timeline::hold(size_t file_index) {
    for (size_t i = 0; i < steps_.size(); ++i)
        if (steps_[i].file_index == file_index) held_ = i;
}

void timeline::move_and_let_go(size_t file_index, uint64_t at_ps) {
    for (size_t i = 0; i < steps_.size(); ++i)
        if (steps_[i].file_index == file_index) steps_[i].at = at_ps;
    held_ = SIZE_MAX;
}

void timeline::run() {
    for (size_t i = 0; i < steps_.size(); ++i) {
        while (released_ <= i) {
            waiting_ = true;
            sc_core::wait(*go_);
            waiting_ = false;
        }
        step& s = steps_[i];
        json_obj ev;
        ev.set("do", s.action).set("target", target(s));
        if (s.action.rfind("ioh.", 0) == 0) ev.set("ioh", s.index);
        if (s.action == "ioh.remove") ev.set("mode", s.surprise ? "surprise" : "orderly");
        if (s.action.rfind("cpu.", 0) == 0) ev.set("cpu", s.index);
        if (s.action.rfind("socket.", 0) == 0) ev.set("socket", s.index);
        if (!s.device.empty()) ev.set("device", s.device);
        sim_report().trace(s.at, "timeline", "action", ev);
        found_.push_back(found(s, plat_).str());
        for (auto& d : actions())
            if (s.action == d.name) d.run(s, plat_, outcomes_);
    }
    done_ = true;
    if (on_done_) on_done_();
}

}  // namespace ioatsim
