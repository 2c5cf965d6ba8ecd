// What each kind of trace event is for, as one table: a line of hotplug.jsonl
// (the behaviour CI regresses) or a count carried on those lines, and which of
// its fields are figures (compared within tolerance, never as behaviour).
// docs/trace-format.md describes every row; a test holds the two together.
#pragma once
#include <string>
#include <vector>

namespace ioatsim {

// none: no trace file; hotplug: hotplug.jsonl; full: hotplug.jsonl and trace.jsonl.
enum class trace_level { none, hotplug, full };
bool parse_trace_level(const std::string& text, trace_level& out);
const char* to_string(trace_level l);

struct trace_kind {
    const char* src;      // glob over the source ("ioh*.ioat*.chan*"; "*" any run of characters)
    const char* ev;       // the event name, or a glob
    const char* msg;      // printk and oops only: a glob over the message ("*" any)
    bool line;            // a line of hotplug.jsonl; otherwise counted per source
    bool unordered;       // behaviour compares these as a multiset per source, not a sequence
    bool phase;           // the line carries `activity`: every count since the previous phase line
    const char* figures;  // its fields that are figures, space separated
    const char* what;     // one line for the documentation
};

// Every row, in match order; the last one matches everything (an event no row
// names is a line, so nothing new hides in the counts).
const std::vector<trace_kind>& trace_kinds();
const trace_kind& classify(const std::string& src, const std::string& ev, const std::string& msg = "");
bool glob_match(const char* pattern, const std::string& text);
bool is_figure(const trace_kind& k, const std::string& field);

// A line of the kernel log as an event: its source is the printk's own prefix
// ("ioatdma 0000:80:16.7", "dmaengine", "kernel" when there is none), its event
// `oops` for WARNING/BUG/panic lines and `printk` otherwise.
struct printk_event { std::string src, ev, msg; };
printk_event parse_printk(const std::string& text);

// Behaviour text: each free-standing decimal number (a word of digits, with an
// optional sign and fraction) becomes '#'. Counts and times in messages are
// figures; numbers inside names (dma8chan0, cpu3, 0000:80:16.7, 0x1f) are identity.
std::string mask_numbers(const std::string& text);

}  // namespace ioatsim
