// What a client did with its copies. Every copy handed to a channel ends in one
// place: completed, failed back (and redone on the CPU), lost (its channel's
// device left the dmaengine while the client still waited, or the client gave
// up on it), or still in flight when the run ends. Copies done on the CPU from
// the start are counted apart, and `done` counts the work the client finished
// (verified tests, reads, recoveries): its progress.
#pragma once
#include <cstdint>

namespace ioatsim::sw {

struct copy_ledger {
    int64_t submitted = 0, completed = 0, failed_back = 0, lost = 0, cpu = 0;
    int64_t done = 0;
    int64_t in_flight() const { return submitted - completed - failed_back - lost; }
};

}  // namespace ioatsim::sw
