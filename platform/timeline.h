// The scenario's timeline: each action checked when the scenario is loaded, then
// run by one SystemC thread at its simulated instant. The run releases each
// action when the simulation has been brought to its instant from outside
// (sc_start up to it, then release_due), so that stopping at more instants
// than the actions' (a torture prefix forking at each) changes nothing. Register-level actions let a
// scenario drive the hardware like a datasheet test; expectations they carry are
// reported like the scenario's `expect` section.
#pragma once
#include "platform/scenario.h"

#include <cstdint>
#include <functional>
#include <string>
#include <memory>
#include <vector>

namespace sc_core { class sc_event; }

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
    // The instant of the next action to release (UINT64_MAX: none, or held).
    uint64_t next_at() const;
    // Releases, in order, every action due at or before `now_ps`; call between
    // sc_start()s, at the instant sc_start stopped at.
    void release_due(uint64_t now_ps);
    // Torture: the action at `file_index` (timeline.N) is held back, or moved
    // to `at_ps` and let go. Its neighbours' order must not change.
    void hold(size_t file_index);
    void move_and_let_go(size_t file_index, uint64_t at_ps);
    void on_done(std::function<void()> fn) { on_done_ = std::move(fn); }
    const std::vector<check_outcome>& outcomes() const { return outcomes_; }
    // What each action found when it ran, for summary.json's `timeline`: an
    // action on an IOH or a device counts the functions bound to a driver
    // there, the descriptors their channels held and the clients' references
    // on those channels (a torture instant with nothing bound, or neither DMA
    // nor a reference, tested nothing).
    std::string actions_json() const;

private:
    void run();
    platform& plat_;
    std::vector<step> steps_;
    std::vector<check_outcome> outcomes_;
    std::vector<std::string> found_;  // per action run, encoded
    bool done_ = true;
    std::function<void()> on_done_;
    size_t released_ = 0;
    size_t held_ = SIZE_MAX;       // position in steps_ of the held action
    bool waiting_ = false;         // the thread sleeps on go_
    std::unique_ptr<sc_core::sc_event> go_;
};

}  // namespace ioatsim
