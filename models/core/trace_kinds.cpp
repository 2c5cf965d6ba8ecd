#include "models/core/trace_kinds.h"

#include <cctype>
#include <cstring>
#include <map>

namespace ioatsim {

namespace {

constexpr bool LINE = true, COUNT = false;

// First match wins. Per-descriptor, per-interrupt and per-access events are
// counted: their numbers move with any timing change, their presence does not.
const std::vector<trace_kind> table = {
    // src, ev, msg, line, unordered, phase, figures, what
    {"timeline", "action", "", LINE, false, true, "",
     "a timeline action starts; carries the activity counted since the previous one"},
    {"timeline", "expect", "", LINE, false, false, "", "a register or memory check of the timeline, and its result"},
    {"run", "end", "", LINE, false, true, "", "the run ends; carries the activity counted since the last action"},
    {"checker", "violation", "", LINE, true, false, "",
     "a checker finding (kind, what); concurrent tasks find them in any order, so compared as a set"},
    {"*", "power.off", "", LINE, false, false, "", "an IOH loses power (ejected or pulled)"},
    {"*", "power.on", "", LINE, false, false, "", "an IOH is powered on, registers at reset values"},
    {"*", "link.down", "", LINE, false, false, "", "an IOH's root complex becomes unreachable"},
    {"*", "link.up", "", LINE, false, false, "", "an IOH's root complex is reachable again"},
    {"*", "slot.event", "", LINE, false, false, "", "a root port latches a slot event (status: SLTSTA)"},
    {"ioh_hotplug", "event", "", LINE, false, false, "", "the IOH hot-plug controller latches an event"},
    {"ioh_hotplug", "command", "", LINE, false, false, "", "software commands the IOH hot-plug controller"},
    {"*", "ur.removed", "", COUNT, false, false, "", "an access to a removed IOH completes as Unsupported Request"},
    {"*", "completion_timeout", "", COUNT, false, false, "", "a read in flight when the IOH went is lost"},
    {"*", "dma.dropped", "", COUNT, false, false, "", "a function's DMA is dropped: its link is down"},
    {"*", "dma.blocked", "", COUNT, false, false, "", "a function's DMA is refused: Bus Master is off"},
    {"*", "mmio.write", "", COUNT, false, false, "", "a posted register write reaches a function (doorbells)"},
    {"*", "mmio.bad_access", "", LINE, false, false, "", "a register access of a bad size or alignment"},
    {"*", "mmio.undefined", "", LINE, false, false, "", "a register access where no register is"},
    {"*", "msix", "", COUNT, false, false, "", "a function sends its MSI-X message"},
    {"*", "msi", "", COUNT, false, false, "", "a function sends its MSI message"},
    {"*", "intx.assert", "", COUNT, false, false, "", "a function raises INTx"},
    {"*", "intx.deassert", "", COUNT, false, false, "", "a function lowers INTx"},
    {"*", "desc", "", COUNT, false, false, "", "a channel completes a descriptor"},
    // Which error (CHANERR) and where depend on what the channel was doing at
    // the instant of a surprise removal: figures; that it halted is behaviour.
    {"*", "halt", "", LINE, false, false, "chanerr addr", "a channel halts on an error (chanerr; addr: where)"},
    {"*", "abort", "", LINE, false, false, "", "a channel is aborted"},
    {"*", "reset", "", LINE, false, false, "", "a channel resets (software RESET or power loss)"},
    {"*", "error_interrupt", "", LINE, false, false, "", "a channel interrupts for an error"},
    {"cpu*", "irq", "", COUNT, false, false, "", "a CPU takes an interrupt"},
    {"cpu*", "irq.offline", "", COUNT, false, false, "", "an interrupt message reaches an offline CPU"},
    {"cpu*", "msi.lost", "", COUNT, false, false, "", "an interrupt message reaches no CPU"},
    {"cpu*", "sched.in", "", COUNT, false, false, "", "a task starts running on a CPU"},
    {"cpu*", "sched.out", "", COUNT, false, false, "", "a task gives its CPU away"},
    {"ioatdma *", "terminate_all", "", LINE, false, false, "failed_back",
     "the driver fails back a channel's unfinished descriptors"},
    {"ioatdma *", "ring.grow", "", COUNT, false, false, "", "the driver grows a channel's descriptor ring"},
    {"ioatdma *", "restart", "", LINE, false, false, "tail head", "the watchdog restarts a stalled channel"},
    {"dmaengine", "device.freed", "", LINE, false, false, "", "a DMA device's memory is freed (last reference)"},
    // The kernel log. net_dma's early end of a read and dmatest's per-test
    // reports come once per operation; everything else narrates state.
    {"tcp_recvmsg", "printk", "*", COUNT, false, false, "", "net_dma ends a read early (prep failed)"},
    {"ioatdma *", "printk", "*descriptors failed back", COUNT, false, false, "",
     "the driver's count of what terminate_all failed back (printed only when not 0)"},
    // CPUs brought up or down at one instant race for the hotplug lock.
    {"kernel", "printk", "Booting Node *", LINE, true, false, "", "a CPU comes online (compared as a set)"},
    {"kernel", "printk", "CPU * is now offline", LINE, true, false, "", "a CPU goes offline (compared as a set)"},
    {"*", "printk", "#*", COUNT, false, false, "", "dmatest's report of one test (#N: ...)"},
    {"*", "oops", "*", LINE, false, false, "", "a WARNING, BUG or panic in the kernel log"},
    {"*", "printk", "*", LINE, false, false, "", "a line of the kernel log (msg), by its prefix"},
    {"*", "*", "*", LINE, false, false, "", "an event no row names yet"},
};

}  // namespace

bool parse_trace_level(const std::string& text, trace_level& out) {
    for (trace_level l : {trace_level::none, trace_level::hotplug, trace_level::full})
        if (text == to_string(l)) {
            out = l;
            return true;
        }
    return false;
}

const char* to_string(trace_level l) {
    switch (l) {
    case trace_level::none: return "none";
    case trace_level::hotplug: return "hotplug";
    default: return "full";
    }
}

const std::vector<trace_kind>& trace_kinds() { return table; }

bool glob_match(const char* p, const std::string& text) {
    const char* s = text.c_str();
    const char *star = nullptr, *resume = nullptr;
    while (*s) {
        if (*p == '*') {
            star = p++;
            resume = s;
        } else if (*p == *s) {
            ++p, ++s;
        } else if (star) {
            p = star + 1;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*p == '*') ++p;
    return *p == 0;
}

// Events are classified millions of times over a handful of (src, ev) pairs.
const trace_kind& classify(const std::string& src, const std::string& ev, const std::string& msg) {
    static std::map<std::string, std::map<std::string, const trace_kind*>> cache;  // src -> ev ->
    const bool printk = ev == "printk" || ev == "oops";
    if (!printk)
        if (auto s = cache.find(src); s != cache.end())
            if (auto e = s->second.find(ev); e != s->second.end()) return *e->second;
    const trace_kind* found = &table.back();
    for (const trace_kind& k : table)
        if (glob_match(k.src, src) && glob_match(k.ev, ev) && (!printk || glob_match(k.msg, msg))) {
            found = &k;
            break;
        }
    if (!printk) cache[src][ev] = found;
    return *found;
}

bool is_figure(const trace_kind& k, const std::string& field) {
    const char* f = k.figures;
    while (*f) {
        const char* end = std::strchr(f, ' ');
        size_t n = end ? size_t(end - f) : std::strlen(f);
        if (field.size() == n && field.compare(0, n, f, n) == 0) return true;
        f += n;
        while (*f == ' ') ++f;
    }
    return false;
}

printk_event parse_printk(const std::string& text) {
    auto oops = [](const std::string& m) {
        return m.rfind("WARNING:", 0) == 0 || m.rfind("BUG:", 0) == 0 || m.rfind("Kernel panic", 0) == 0;
    };
    auto word = [](const std::string& w) {
        if (w.empty()) return false;
        for (char c : w)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
        return true;
    };
    printk_event e{"kernel", "printk", text};
    size_t colon = text.find(": ");
    size_t space = text.find(' ');
    if (colon != std::string::npos && space != std::string::npos && space < colon &&
        word(text.substr(0, space)) && text.find(' ', space + 1) >= colon &&
        text.substr(space + 1, colon - space - 1).find(':') != std::string::npos) {
        e.src = text.substr(0, colon);  // dev_printk: "ioatdma 0000:80:16.7: ..."
        e.msg = text.substr(colon + 2);
    } else if (colon != std::string::npos && colon <= 40 && text.find(' ') > colon &&
               text.compare(0, colon, "WARNING") != 0 && text.compare(0, colon, "BUG") != 0) {
        e.src = text.substr(0, colon);  // "dmaengine: ...", "dmatest: ..."
        e.msg = text.substr(colon + 2);
    }
    if (oops(e.msg)) e.ev = "oops";
    return e;
}

std::string mask_numbers(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    size_t i = 0;
    while (i <= text.size()) {
        size_t end = text.find(' ', i);
        if (end == std::string::npos) end = text.size();
        std::string w = text.substr(i, end - i);
        size_t a = w.find_first_not_of("([{\"'"), b = w.find_last_not_of(")]},;:.\"'");
        if (a != std::string::npos && b != std::string::npos && a <= b) {
            std::string core = w.substr(a, b - a + 1);
            size_t k = (core[0] == '-' || core[0] == '+') ? 1 : 0, digits = 0;
            bool dot = false, ok = k < core.size();
            for (; ok && k < core.size(); ++k) {
                if (std::isdigit(static_cast<unsigned char>(core[k]))) ++digits;
                else if (core[k] == '.' && !dot && digits) dot = true;
                else ok = false;
            }
            ok = ok && digits && core.back() != '.';
            if (ok) w = w.substr(0, a) + "#" + w.substr(b + 1);
            // "cpu25": where the scheduler placed a task moves with timing, as a figure does.
            else if (core.size() > 3 && core.compare(0, 3, "cpu") == 0 &&
                     core.find_first_not_of("0123456789", 3) == std::string::npos)
                w = w.substr(0, a) + "cpu#" + w.substr(b + 1);
        }
        out += w;
        if (end < text.size()) out += ' ';
        i = end + 1;
    }
    return out;
}

}  // namespace ioatsim
