#include "sw/kernel/percpu_ref.h"

namespace ioatsim::sw {

void percpu_ref::init(shared_memory& m, std::function<void()> release) {
    m_ = &m;
    release_ = std::move(release);
    count_.value = BIAS + 1;
    pcpu_.v.assign(m.k().nr_cpus(), 0);
    dead_ = atomic_mode_ = released_ = folded_ = false;
}

// Under rcu_read_lock_sched: the mode cannot change under a per-CPU add that
// began before the switch, because the fold waits a grace period.
void percpu_ref::add(long d) {
    kernel& k = m_->k();
    k.rcu_read_lock();
    if (!atomic_mode_) {
        m_->this_cpu_add(pcpu_, d);
    } else if (m_->atomic_add_return(count_, d) == 0 && !released_) {
        released_ = true;
        if (release_) release_();
    }
    k.rcu_read_unlock();
}

void percpu_ref::get() { add(1); }
void percpu_ref::put() { add(-1); }

bool percpu_ref::tryget_live() {
    if (dead_) return false;
    add(1);
    return true;
}

void percpu_ref::kill() {
    if (dead_) return;
    dead_ = true;
    atomic_mode_ = true;           // new gets and puts go to the atomic
    m_->atomic_add_return(count_, 1);  // the extra reference the fold drops
    m_->k().call_rcu([this] {
        // No per-CPU op runs any more (atomic mode, and a grace period has passed).
        long sum = m_->percpu_sum(pcpu_);
        m_->atomic_add_return(count_, sum - BIAS);
        for (long& v : pcpu_.v) v = 0;
        folded_ = true;
        put();  // the extra reference
    });
    put();  // the initial reference
}

long percpu_ref::count() const {
    if (folded_) return count_.value;
    long n = count_.value - BIAS;
    for (long v : pcpu_.v) n += v;
    return n;
}

}  // namespace ioatsim::sw
