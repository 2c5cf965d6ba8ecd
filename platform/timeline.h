// The scenario's timeline: each action checked when the scenario is loaded, then
// run by one SystemC thread at its simulated instant. Register-level actions let a
// scenario drive the hardware like a datasheet test; expectations they carry are
// reported like the scenario's `expect` section.
#pragma once
#include "platform/scenario.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ioatsim {

class platform;

struct check_outcome {
    bool ok;
    std::string encoded;  // JSON object for summary.json
    std::string message;  // one line for the terminal when it failed
};

class timeline {
public:
    struct step;  // one parsed action
    timeline(const scenario& sc, platform& plat);  // throws input_error
    ~timeline();
    void start();  // before sc_start
    bool done() const { return done_; }
    void on_done(std::function<void()> fn) { on_done_ = std::move(fn); }
    const std::vector<check_outcome>& outcomes() const { return outcomes_; }

private:
    void run();
    platform& plat_;
    std::vector<step> steps_;
    std::vector<check_outcome> outcomes_;
    bool done_ = true;
    std::function<void()> on_done_;
};

}  // namespace ioatsim
