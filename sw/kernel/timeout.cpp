// Timeouts of waits that usually end early. A wait on an event with a
// timeout leaves SystemC a timed notification that, once the event comes
// first, stays in its queue as a dead entry until its time: dmatest's 3 s
// timeout per copy, a copy every 70 us or so, kept some 40,000 there, and
// every queue operation paid for them. Here one process holds the deadlines
// in order, wakes by itself only for the earliest it was told of, and wakes
// each waiter whose deadline has come. A wait that ends early just removes
// its deadline. The waiter wakes at the same simulated time as with a timed
// wait.
#include "sw/kernel/kernel.h"

#include "sw/kernel/kernel_impl.h"

namespace ioatsim::sw {
using sc_core::wait;

void kernel::deadline_thread() {
    impl& p = *p_;
    for (;;) {
        const ktime_t t = stamp();
        while (!p.deadlines.empty() && p.deadlines.begin()->first <= t) {
            sc_core::sc_event* ev = p.deadlines.begin()->second;
            p.deadlines.erase(p.deadlines.begin());
            ev->notify();
        }
        if (p.deadlines.empty()) {
            p.deadlines_wake = ~ktime_t(0);
            wait(p.deadline_added);
        } else {
            p.deadlines_wake = p.deadlines.begin()->first;
            wait(ps(p.deadlines_wake - t), p.deadline_added);
        }
    }
}

// Blocks the current context until `wq` is woken or `deadline` comes.
void kernel::wait_until(wait_queue& wq, ktime_t deadline) {
    const sc_core::sc_event& ev = wq.get().ev;
    context* ctx = current_;
    if (!ctx) {
        wait(ps(deadline - stamp()), ev);
        return;
    }
    if (!ctx->timed_out) ctx->timed_out = std::make_unique<sc_core::sc_event>();
    p_->deadlines.emplace(deadline, ctx->timed_out.get());
    if (deadline < p_->deadlines_wake) p_->deadline_added.notify(sc_core::SC_ZERO_TIME);
    wait(ev | *ctx->timed_out);
    // Woken by `ev`: the deadline is still there. Woken by the deadline: the
    // process took it out, and a later wait of this context may have the same key.
    for (auto [a, b] = p_->deadlines.equal_range(deadline); a != b; ++a)
        if (a->second == ctx->timed_out.get()) {
            p_->deadlines.erase(a);
            break;
        }
}

}  // namespace ioatsim::sw
