// percpu_ref (lib/percpu-refcount.c as dmaengine-semantics.md §5.1 describes it):
// per-CPU gets and puts while live; kill marks it dead and, one RCU grace period
// later, folds the per-CPU counts into one atomic, after which the last put
// calls release(). The 2006 dmaengine "bigref" is the same mechanism. Every
// operation is charged through shared_memory.
#pragma once
#include "sw/kernel/atomic.h"

#include <functional>

namespace ioatsim::sw {

class percpu_ref {
public:
    static constexpr long BIAS = 1L << 40;  // keeps the atomic above zero until the fold

    // Live, in per-CPU mode, holding the initial reference.
    void init(shared_memory& m, std::function<void()> release);
    void get();
    bool tryget_live();  // fails once kill has been called
    void put();
    // Dead from now on, and the initial reference dropped; one grace period later
    // the per-CPU counts are folded into the atomic, which then counts alone.
    void kill();
    bool dead() const { return dead_; }
    bool atomic_mode() const { return atomic_mode_; }
    // The true count, for tests (no cost).
    long count() const;

private:
    void add(long d);
    shared_memory* m_ = nullptr;
    std::function<void()> release_;
    atomic_long count_;
    percpu_long pcpu_;
    bool dead_ = false, atomic_mode_ = false, released_ = false, folded_ = false;
};

}  // namespace ioatsim::sw
