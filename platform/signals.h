// signals.vcd: the platform's state as waveforms, written by SystemC's own VCD
// tracing (sc_trace) for GTKWave: per IOH its link and power, per DMA channel
// its CHANSTS state and DMACOUNT, per CPU whether it is online, and whether a
// removal the timeline asked for is in progress.
//
// The traced values are plain variables read from the models' getters as each
// trace event happens (a report observer), and SystemC records what changed at
// the end of every time step. No process and no timed event is added, so the
// simulation runs exactly as without it. The header's wall-clock date and the
// library's build stamp become fixed text: one scenario and seed, one file.
#pragma once
#include <deque>
#include <functional>
#include <string>
#include <vector>

namespace sc_core { class sc_trace_file; }

namespace ioatsim {

class platform;

class signal_tracer {
public:
    signal_tracer(platform& plat, const std::string& path);  // before the simulation starts
    ~signal_tracer();
    void sample();  // reads every model into its variable
    // keep: the file with its fixed header, in place; otherwise removed.
    void close(bool keep);

private:
    bool& bit(const std::string& trace_name);
    unsigned& word(const std::string& trace_name, int width);

    std::string path_;
    sc_core::sc_trace_file* tf_ = nullptr;
    std::deque<bool> bits_;        // stable addresses: SystemC keeps references
    std::deque<unsigned> words_;
    std::vector<std::function<void()>> readers_;
};

}  // namespace ioatsim
