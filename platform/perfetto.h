// trace.perfetto.json: the run as a timeline for ui.perfetto.dev (Chrome JSON
// trace format), built from the trace as it streams (a report sink):
//   - a track per CPU with its tasks' running slices (sched.in/out) and one
//     beside it with its doorbells and interrupts;
//   - per IOH, a track per DMA channel with each descriptor as an async slice
//     from the doorbell that handed it over to its completion (they overlap
//     while the ring is queued), descriptors dropped by a reset ending there;
//   - flow arrows from a doorbell to the completion interrupt that follows
//     its last descriptor;
//   - counters per channel: GB/s and descriptors in flight, per 10 us;
//   - instants: timeline actions and violations (global), kernel log lines
//     and hardware state changes on their own tracks.
// ts in microseconds with six decimals (the trace's picoseconds, exactly).
#pragma once
#include "models/core/report.h"

#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <string>
#include <vector>

namespace ioatsim {

class platform;

class perfetto_writer : public trace_sink {
public:
    // Names the tracks from the platform; writes through `path`.tmp.
    perfetto_writer(platform& plat, const std::string& path);
    ~perfetto_writer() override;
    void event(uint64_t t, const std::string& src, const std::string& ev, const json_obj& f) override;
    // keep: closes what is still open at the last time seen, renames into place.
    void close(bool keep);

    static constexpr uint64_t bin_ps = 10'000'000;  // counter resolution: 10 us

private:
    struct doorbell { uint64_t id, t; unsigned cpu; uint64_t target; };
    struct channel {
        std::string name;        // "ioh1.ioat7.chan0"
        int pid = 0;
        std::deque<std::pair<uint64_t, uint64_t>> queued;  // (doorbell time, doorbell id) per ring slot
        std::deque<doorbell> doorbells;                     // not yet followed by their interrupt
        uint16_t dmacount = 0;
        bool fresh = true;       // the next doorbell counts from a new chain
        uint64_t submitted = 0, completed = 0, bytes_in_bin = 0, last_done = 0;
        double shown_gbps = -1;
        long shown_in_flight = -1;
    };
    struct x_slice { bool open = false; uint64_t t = 0; std::string name, args; };

    void emit(const std::string& json);
    void meta(int pid, int tid, const char* what, const std::string& name, int sort);
    void x_on(int tid, uint64_t t, const std::string& name, const std::string& args);
    void flush_x(int tid, uint64_t next_t);
    void counters_until(uint64_t t);
    void drop_queued(channel& c, uint64_t t, const char* why);
    void instant(int pid, int tid, uint64_t t, const std::string& name, const std::string& args, bool global);
    channel* chan_of(const std::string& src);
    int cpu_of(const std::string& src) const;

    std::FILE* f_ = nullptr;
    std::string path_;
    bool first_ = true;
    uint64_t last_t_ = 0, next_id_ = 1, bin_end_ = bin_ps;
    std::map<std::string, channel> chans_;            // by model name
    std::map<std::string, std::string> fn_of_bdf_;    // "0000:80:16.7" -> "ioh1.ioat7"
    std::map<std::string, int> ioh_pid_;              // "ioh1" -> pid
    std::map<unsigned, unsigned> cpu_of_apic_;
    std::vector<std::string> running_;                 // the task on each CPU ("" idle)
    std::map<int, x_slice> x_;                          // pending X slice per io track
    // Doorbells whose completion interrupt is on its way, by (cpu, vector), with the function's name.
    std::map<std::pair<unsigned, unsigned>, std::pair<std::string, std::vector<doorbell>>> awaiting_irq_;
};

}  // namespace ioatsim
