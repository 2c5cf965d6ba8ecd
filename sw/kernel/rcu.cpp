// RCU as 3.4's non-preemptible tree RCU behaves: grace periods that end once
// every CPU online at their start has passed a quiescent state, and (kept as a
// check) every read section older than them has ended.
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include "sw/kernel/kernel_impl.h"

#include <memory>

namespace ioatsim::sw {
using sc_core::wait;

void kernel::rcu_read_lock() {
    context* ctx = current_;
    if (!ctx || ctx->rcu_nesting++) return;
    ctx->rcu_gen = p_->rcu_gen;
    ++p_->rcu_readers[ctx->rcu_gen];
}

void kernel::rcu_read_unlock() {
    context* ctx = current_;
    if (!ctx || --ctx->rcu_nesting) return;
    auto it = p_->rcu_readers.find(ctx->rcu_gen);
    if (--it->second == 0) p_->rcu_readers.erase(it);
    p_->rcu_reader_left.notify();
}

struct kernel::rcu_snapshot {
    uint64_t gen;                 // read sections of this generation or older hold it
    std::vector<uint64_t> qs;     // each CPU's quiescent-state count at the start
    std::vector<bool> online;
};

void kernel::quiescent(unsigned cpu) {
    ++p_->cpus[cpu].qs;
    p_->rcu_reader_left.notify();
}

kernel::rcu_snapshot kernel::rcu_start() {
    rcu_snapshot s{p_->rcu_gen++, {}, {}};
    for (auto& c : p_->cpus) {
        s.qs.push_back(c.qs);
        s.online.push_back(c.online);
    }
    return s;
}

// Every CPU has passed a quiescent state since the start, or is idle or offline
// (an extended quiescent state), and no older read section is open.
bool kernel::rcu_done(const rcu_snapshot& s) const {
    if (!p_->rcu_readers.empty() && p_->rcu_readers.begin()->first <= s.gen) return false;
    for (size_t i = 0; i < p_->cpus.size(); ++i) {
        const cpu_rt& c = p_->cpus[i];
        if (s.online[i] && c.online && c.owner && c.qs == s.qs[i]) return false;
    }
    return true;
}

void kernel::synchronize_rcu() {
    rcu_snapshot snap = rcu_start();  // sections begun from now on do not hold us
    waiting w(*this, "synchronize_rcu");  // wait_rcu_gp sleeps uninterruptibly
    schedule_timeout(cfg_.rcu_grace_period);
    while (!rcu_done(snap)) block([&] { wait(p_->rcu_reader_left); });
}

void kernel::call_rcu(std::function<void()> fn) {
    auto snap = std::make_shared<rcu_snapshot>(rcu_start());
    unsigned cpu = smp_processor_id();
    p_->rcu_callbacks.push_back(tasklet{});
    tasklet* t = &p_->rcu_callbacks.back();
    t->fn = [this, fn = std::move(fn)] {
        fn();
        task_done();
    };
    ++live_tasks_;  // pending RCU work keeps the run going
    sc_core::sc_spawn([this, snap, cpu, t] {
        wait(ps(cfg_.rcu_grace_period));
        while (!rcu_done(*snap)) wait(p_->rcu_reader_left);
        cpu_rt& c = p_->cpus[cpu_online(cpu) ? cpu : fallback_cpu(cpu)];
        t->scheduled = true;
        c.tasklets.push_back(t);
        c.irq_ev.notify(sc_core::SC_ZERO_TIME);
    });
}

}  // namespace ioatsim::sw
