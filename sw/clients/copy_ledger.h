// What a client did with its copies. Every copy handed to a channel ends in one
// place: completed, failed back (and redone on the CPU), lost (the client gave
// up on it, or still waits on a channel whose device is gone), or still in
// flight when the run ends, as the client's own state says at its finish().
// So submitted = completed + failed_back + lost + in_flight holds only when
// every path counts what it should (a test checks it). Copies done on the CPU
// from the start are counted apart, and `done` counts the work the client
// finished (verified tests, reads, recoveries): its progress.
#pragma once
#include <cstdint>

namespace ioatsim::sw {

struct copy_ledger {
    int64_t submitted = 0, completed = 0, failed_back = 0, lost = 0, in_flight = 0, cpu = 0;
    int64_t done = 0;
};

}  // namespace ioatsim::sw
