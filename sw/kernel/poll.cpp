// kernel::poll: busy-wait loops that sleep once their passes have settled.
//
// A task draining a dead channel (tcp_service_net_dma, dma_sync_wait) repeats
// the same pass for as long as 3.4's removal takes, 1.6 s of simulated time, ten
// million passes each. A pass that made the same accesses at the same cost as
// the one before, and reported nothing, will go on doing so until something
// outside the polls changes what it reads; polls that contend for a line
// (readers on one channel taking its cleanup lock in turn) settle into the
// same pattern each pass, so they sleep and wake as one group. While they
// sleep the lines they touch are watched: another context's access, a device
// write, an interrupt on a member's CPU, CPU hotplug, a kfree or the deadline
// wakes the group, and each member resumes at its next pass boundary after
// that instant. What the passes would have cost stays charged: the time, and
// the coherence time and transfers of each pass times the passes skipped.
// What is approximate is one pass at each wake: the waker finds the lines as a
// pass leaves them, not as they are midway through one.
#include "sw/kernel/kernel.h"
#include "sw/kernel/kernel_impl.h"

#include <algorithm>

namespace ioatsim::sw {
using sc_core::wait;

namespace {
struct poll_touch {
    cacheline* line;
    coh_op op;
    ktime_t cost;
    bool operator==(const poll_touch& o) const { return line == o.line && op == o.op && cost == o.cost; }
};
}  // namespace

struct poll_group {
    std::vector<context*> members;
    std::vector<cacheline*> lines;
    bool woken = false;
};

struct poll_state {
    std::vector<poll_touch> cur, last;  // this pass's accesses, the previous pass's
    coherence::stats cur_per[2];        // this pass's coherence share (path, refs)
    ktime_t last_d = 0;                 // the previous pass's duration
    coherence::stats last_per[2];       // and its coherence share (path, refs)
    bool steady = false;                // the previous two passes were alike
    // In a group (asleep, or to sleep when this pass ends):
    std::shared_ptr<poll_group> group;
    ktime_t d = 0;                      // the settled pass's duration
    coherence::stats per[2];
    bool asleep = false;
    ktime_t from = 0;                   // the pass boundary it fell asleep at
    ktime_t wake_at = 0;
    ktime_t deadline = 0;
    sc_core::sc_event wake;
};

uint64_t kernel::activity() { return activity_ + rep().activity(); }

void kernel::poll(const std::function<bool()>& pass, ktime_t deadline) {
    context* ctx = current_;
    if (!ctx || ctx->irq || !cfg_.poll_skip || ctx->poll) {  // a poll inside a poll spins
        while (!pass()) {}
        return;
    }
    poll_state st;
    st.deadline = deadline;
    ctx->poll = &st;
    p_->pollers.push_back(ctx);
    struct leave {  // also when an oops kills the task inside a pass
        kernel& k;
        context* ctx;
        ~leave() {
            poll_state& s = *ctx->poll;
            if (s.group) k.poll_wake(*s.group, k.now());  // the others' passes change
            auto& v = k.p_->pollers;
            v.erase(std::find(v.begin(), v.end(), ctx));
            ctx->poll = nullptr;
        }
    } guard{*this, ctx};
    for (;;) {
        st.cur.clear();
        st.cur_per[0] = st.cur_per[1] = {};
        const ktime_t start = now();
        const uint64_t act = activity();
        if (pass()) return;
        current_ = ctx;
        const ktime_t d = now() - start;
        st.steady = d > 0 && d == st.last_d && activity() == act && st.cur == st.last;
        std::swap(st.cur, st.last);
        st.last_d = d;
        std::copy(st.cur_per, st.cur_per + 2, st.last_per);
        if (st.group) {  // the group fell asleep while this pass ran
            if (st.group->woken) st.group.reset();
            else poll_sleep(ctx);
            continue;
        }
        if (!st.steady || (deadline != ~ktime_t(0) && now() + 2 * d > deadline)) continue;
        if (poll_form(ctx)) poll_sleep(ctx);
    }
}

// The polls sharing a line with ctx's, and theirs, as one group: formed when
// every one of them has settled, its lines watched.
std::shared_ptr<poll_group> kernel::poll_form(context* ctx) {
    std::vector<context*> in{ctx};
    auto shares = [](const poll_state& a, const poll_state& b) {
        for (const poll_touch& x : a.last)
            for (const poll_touch& y : b.last)
                if (x.line == y.line) return true;
        return false;
    };
    for (size_t i = 0; i < in.size(); ++i) {
        if (!in[i]->poll->steady || in[i]->poll->group) return nullptr;
        for (context* q : p_->pollers)
            if (std::find(in.begin(), in.end(), q) == in.end() && shares(*in[i]->poll, *q->poll)) in.push_back(q);
    }
    auto g = std::make_shared<poll_group>();
    g->members = in;
    for (context* m : in) {
        poll_state& s = *m->poll;
        s.group = g;
        s.d = s.last_d;
        std::copy(s.last_per, s.last_per + 2, s.per);
        for (const poll_touch& t : s.last)
            if (!t.line->poll_watch) {
                t.line->poll_watch = g.get();
                g->lines.push_back(t.line);
            }
    }
    return g;
}

// At a pass boundary: sleep until the group wakes (or the last pass boundary
// that ends before the deadline), then resume at the first boundary at or
// after the wake and count the passes in between.
void kernel::poll_sleep(context* ctx) {
    poll_state& s = *ctx->poll;
    std::shared_ptr<poll_group> g = s.group;
    s.from = now();
    if (s.deadline != ~ktime_t(0) && s.from + 2 * s.d > s.deadline) {  // nothing left to skip
        poll_wake(*g, s.from);
        s.group.reset();
        return;
    }
    sync();
    current_ = ctx;
    if (g->woken) {
        s.group.reset();
        return;
    }
    s.asleep = true;
    if (s.deadline == ~ktime_t(0)) {
        wait(s.wake);
    } else {
        const ktime_t n = (s.deadline - s.from) / s.d;  // passes that end by the deadline
        const ktime_t until = s.from + (n ? n - 1 : 0) * s.d;
        if (until > stamp()) wait(ps(until - stamp()), s.wake);
    }
    current_ = ctx;
    s.asleep = false;
    if (!g->woken) poll_wake(*g, stamp());  // its deadline: the others resume with it
    const ktime_t t = std::max(s.wake_at, s.from);
    const uint64_t k = (t - s.from + s.d - 1) / s.d;
    ctx->offset = s.from + k * s.d - stamp();
    coh_->add(coh_kind::path, s.per[0], k);
    coh_->add(coh_kind::refs, s.per[1], k);
    rep().counter("kernel.poll_passes_slept") += int64_t(k);
    s.group.reset();
    s.last.clear();  // settle again before sleeping again
    s.steady = false;
}

void kernel::poll_wake(poll_group& g, ktime_t at) {
    if (g.woken) return;
    g.woken = true;
    for (cacheline* l : g.lines) l->poll_watch = nullptr;
    at = std::max(at, stamp());
    for (context* m : g.members) {
        poll_state& s = *m->poll;
        s.wake_at = at;
        if (s.asleep) s.wake.notify(ps(at - stamp()));
    }
}

void kernel::poll_record(cacheline& l, coh_op op, ktime_t cost, coh_kind kind, uint64_t transfers) {
    poll_state& s = *current_->poll;
    s.cur.push_back({&l, op, cost});
    s.cur_per[int(kind)].time += cost;
    s.cur_per[int(kind)].transfers += transfers;
}

void kernel::poll_interrupted(context* owner) {
    if (owner && owner->poll && owner->poll->group) poll_wake(*owner->poll->group, stamp());
}

void kernel::poll_touched(cacheline& l) {
    auto* g = static_cast<poll_group*>(l.poll_watch);
    if (current_ && current_->poll && current_->poll->group.get() == g) return;  // a member's last pass
    poll_wake(*g, now());
}

void kernel::poll_disturb() {
    const ktime_t t = current_ ? now() : stamp();
    for (context* c : p_->pollers)
        if (c->poll->group) poll_wake(*c->poll->group, t);
}

void kernel::settle_polls() {
    for (context* c : p_->pollers) {
        poll_state& s = *c->poll;
        if (!s.asleep || stamp() <= s.from) continue;
        const uint64_t k = (stamp() - s.from) / s.d;
        coh_->add(coh_kind::path, s.per[0], k);
        coh_->add(coh_kind::refs, s.per[1], k);
        rep().counter("kernel.poll_passes_slept") += int64_t(k);
        s.from += k * s.d;
    }
}

}  // namespace ioatsim::sw
