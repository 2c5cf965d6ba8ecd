// RCU as the designs need it: read sections tracked per context, and grace
// periods that wait for every section older than themselves.
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include "sw/kernel/kernel_impl.h"

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

void kernel::synchronize_rcu() {
    uint64_t gen = p_->rcu_gen++;  // sections begun from now on do not hold us
    auto older_left = [this, gen] { return p_->rcu_readers.empty() || p_->rcu_readers.begin()->first > gen; };
    waiting w(*this, "synchronize_rcu");  // wait_rcu_gp sleeps uninterruptibly
    schedule_timeout(cfg_.rcu_grace_period);
    while (!older_left()) block([&] { wait(p_->rcu_reader_left); });
}

void kernel::call_rcu(std::function<void()> fn) {
    uint64_t gen = p_->rcu_gen++;
    unsigned cpu = smp_processor_id();
    p_->rcu_callbacks.push_back(tasklet{});
    tasklet* t = &p_->rcu_callbacks.back();
    t->fn = [this, fn = std::move(fn)] {
        fn();
        task_done();
    };
    ++live_tasks_;  // pending RCU work keeps the run going
    sc_core::sc_spawn([this, gen, cpu, t] {
        wait(ps(cfg_.rcu_grace_period));
        while (!p_->rcu_readers.empty() && p_->rcu_readers.begin()->first <= gen) wait(p_->rcu_reader_left);
        cpu_rt& c = p_->cpus[cpu_online(cpu) ? cpu : fallback_cpu(cpu)];
        t->scheduled = true;
        c.tasklets.push_back(t);
        c.irq_ev.notify(sc_core::SC_ZERO_TIME);
    });
}

}  // namespace ioatsim::sw
