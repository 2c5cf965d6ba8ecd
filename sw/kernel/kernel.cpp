#define SC_INCLUDE_DYNAMIC_PROCESSES
#include "sw/kernel/kernel.h"

#include "models/cpu/cpu.h"
#include "sw/kernel/costs.h"
#include "sw/kernel/kernel_impl.h"

#include <systemc>

#include <algorithm>
#include <cstdarg>
#include <cstdio>

namespace ioatsim::sw {
using sc_core::sc_time;
using sc_core::wait;

std::string strfmt(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char buf[512];
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return buf;
}


wait_queue::wait_queue() : p_(new impl) {}
wait_queue::~wait_queue() = default;
void wait_queue::wake_up_all() { p_->ev.notify(); }

namespace {
// An oops in a task ends it where it stands (do_exit): thrown by kernel::oops,
// caught only where the task began.
struct task_killed {};
}  // namespace

kernel::kernel(std::vector<models::cpu*> cpus, kernel_config cfg)
    : cfg_(cfg), cpus_(std::move(cpus)), p_(new impl), irq_entry_(timing("cost.irq_entry")) {
    unsigned nodes = 1;
    for (auto* c : cpus_) nodes = std::max(nodes, c->node() + 1);
    coh_ = std::make_unique<coherence>(cfg_.coherence, coherence_topology(cfg_.topology, nodes),
                                       [this](unsigned cpu) { return cpu_node(cpu); });
    for (size_t i = 0; i < cpus_.size(); ++i) p_->cpus.emplace_back();
    for (unsigned c = 0; c < cpus_.size(); ++c) {
        p_->cpus[c].irq_ctx.reset(new context{"irq/" + std::to_string(c), c, true});
        cpus_[c]->set_interrupt_handler([this, c](uint8_t v) { deliver(c, v); });
        sc_core::sc_spawn([this, c] { irq_thread(c); }, ("kernel_irq" + std::to_string(c)).c_str());
    }
    sc_core::sc_spawn([this] { deadline_thread(); }, "kernel_deadlines");
    free_[cfg_.ram_base] = cfg_.ram_size;
    init_nodes();
    rep().declare("violations.oops");
    rep().declare("kernel.spin_reads_slept");
    rep().declare("kernel.poll_passes_slept");
}

kernel::~kernel() = default;


ktime_t kernel::timing(const char* key) const {
    auto it = cfg_.timing.find(key);
    if (it != cfg_.timing.end()) return it->second;
    for (const sw_timing_def& d : sw_timing)
        if (std::string(d.key) == key) return d.ps;
    throw std::logic_error(std::string("no software timing parameter ") + key);
}

// The report as the kernel prints it, the checker's violation naming the
// context, and the task's end. Locks it holds stay held, as after a real oops.
const char* kernel::enter(const char* fn) {
    if (!current_) return nullptr;
    const char* prev = current_->fn;
    current_->fn = fn;
    return prev;
}

void kernel::leave(const char* prev) {
    if (current_) current_->fn = prev;
}

void kernel::oops(const std::string& what) {
    ++oopses_;
    bool gp = what.rfind("general protection fault", 0) == 0;
    const char* fn = current_ ? current_->fn : nullptr;
    printk(gp ? what : "BUG: " + what);
    if (fn) printk(std::string("IP: ") + fn);
    printk(strfmt("%s: 0000 [#%d] SMP", gp ? "general protection fault" : "Oops", oopses_));
    rep().violation(now(), "oops", current_name() + (fn ? std::string(" in ") + fn : "") + ": " + what);
    if (!current_ || current_->irq) return;  // the kernel would panic; the run goes on to show the rest
    printk("Process " + current_->name + " killed");
    throw task_killed{};
}

void kernel::kthread_run(const std::string& name, unsigned cpu, std::function<void()> fn, bool daemon, bool bound) {
    ++activity_;
    p_->tasks.push_back(context{name, cpu % nr_cpus(), false});
    context* ctx = &p_->tasks.back();
    ctx->bound = bound;
    if (!daemon) ++live_tasks_;
    sc_core::sc_spawn([this, ctx, daemon, fn = std::move(fn)] {
        acquire(ctx);
        current_ = ctx;
        try {
            fn();
        } catch (const task_killed&) {
        }
        current_ = ctx;
        sync();
        release(ctx);
        if (!daemon) task_done();
    }, sc_core::sc_gen_unique_name(("task_" + name).c_str()));
}

void kernel::task_done() {
    --live_tasks_;
    check_idle();
}

// Idle: no task alive, no work queued, no interrupt or tasklet waiting to run.
bool kernel::idle() const {
    if (live_tasks_) return false;
    for (auto& c : p_->cpus)
        if (!c.pending.empty() || !c.tasklets.empty()) return false;
    return true;
}

void kernel::check_idle() {
    if (on_idle_ && idle()) on_idle_();
}

// Takes the task's CPU, moving the task first if that CPU went offline. Tasks
// waiting for a busy CPU queue in order and the CPU is handed to the first when
// it is released: SystemC wakes an event's waiters last-come first, which would
// starve the oldest under load. CFS runs the least vruntime, for equal tasks
// about the longest waiter [inference: CFS itself is not modelled].
void kernel::acquire(context* ctx) {
    for (;;) {
        cpu_rt& c = p_->cpus[ctx->cpu];
        if (!c.online) {
            ctx->cpu = fallback_cpu(ctx->cpu);
            continue;
        }
        if (c.owner == ctx) return;
        if (!c.owner && c.queue.empty()) {
            c.owner = ctx;
            return;
        }
        if (!ctx->bound) {  // a busy CPU: wake where one is idle
            unsigned to = wake_cpu(ctx->cpu);
            if (to != ctx->cpu) {
                ctx->cpu = to;
                continue;
            }
        }
        c.queue.push_back(ctx);
        ++c.waiters;
        while (c.owner != ctx && c.online) wait(c.freed);
        --c.waiters;
        if (c.owner == ctx) return;
        c.queue.erase(std::remove(c.queue.begin(), c.queue.end(), ctx), c.queue.end());  // it went offline
    }
}

// A context switch is an RCU quiescent state for the CPU.
void kernel::release(context* ctx) {
    cpu_rt& c = p_->cpus[ctx->cpu];
    if (c.owner == ctx) {
        c.owner = nullptr;
        if (!c.queue.empty() && c.online) {
            c.owner = c.queue.front();
            c.queue.pop_front();
        }
    }
    c.freed.notify();
    quiescent(ctx->cpu);
}

unsigned kernel::smp_processor_id() const { return current_ ? current_->cpu : 0; }
unsigned kernel::cpu_node(unsigned cpu) const { return cpus_.at(cpu)->node(); }
std::string kernel::current_name() const { return current_ ? current_->name : "swapper"; }
bool kernel::in_interrupt() const { return current_ && current_->irq; }

ktime_t kernel::now() const { return stamp() + (current_ ? current_->offset : 0); }

void kernel::sync() {
    context* ctx = current_;
    if (!ctx || !ctx->offset) return;
    ktime_t t = ctx->offset;
    ctx->offset = 0;
    wait(ps(t));
    // Its CPU went down meanwhile: it moves once it may be preempted (stop_machine
    // cannot run on a CPU inside a spin lock or an RCU read section).
    if (!ctx->irq && !p_->cpus[ctx->cpu].online && !ctx->spin_depth && !ctx->rcu_nesting) {
        release(ctx);
        acquire(ctx);
    }
    current_ = ctx;
}

void kernel::cost_mem(uint64_t pa, uint64_t n, double gbps) {
    ktime_t t = ktime_t(double(n) * 1000.0 / gbps);
    if (cfg_.memory && current_) {
        ktime_t start = now();
        t = std::max(t, cfg_.memory(cpu_node(smp_processor_id()), pa, n, start) - start);
    }
    cost(t);
}

void kernel::cost_copy(uint64_t dst, uint64_t src, uint64_t n) {
    ktime_t t = ktime_t(double(n) * 1000.0 / cfg_.memcpy_gbps);
    if (cfg_.memory && current_) {
        ktime_t start = now();
        unsigned node = cpu_node(smp_processor_id());
        t = std::max({t, cfg_.memory(node, src, n, start) - start, cfg_.memory(node, dst, n, start) - start});
    }
    cost(t);
}

void kernel::cost(ktime_t t) {
    context* ctx = current_;
    if (!ctx) return;  // boot-time code before the simulation: free
    if (!ctx->irq) {
        cpu_rt& c = p_->cpus[ctx->cpu];
        t += c.stolen;
        c.stolen = 0;
    }
    ctx->offset += t;
    if (ctx->offset >= cfg_.quantum) sync();
}

// Gives the CPU away (tasks) around a wait, then takes it back.
void kernel::block(const std::function<void()>& do_wait) {
    context* ctx = current_;
    sync();
    if (ctx && !ctx->irq) {
        release(ctx);
        do_wait();
        acquire(ctx);
    } else {
        do_wait();
    }
    current_ = ctx;
}

// A grace period in progress has RCU ask the CPU to reschedule (3.4's
// force_quiescent_state), so cond_resched reports a quiescent state [inference].
void kernel::cond_resched() {
    context* ctx = current_;
    if (!ctx || ctx->irq) return;
    sync();
    quiescent(ctx->cpu);
    if (p_->cpus[ctx->cpu].waiters) block([] { wait(sc_core::SC_ZERO_TIME); });
}

void kernel::schedule_timeout(ktime_t t) {
    block([&] { wait(ps(t)); });
}

bool kernel::wait_event_timeout(wait_queue& wq, const std::function<bool()>& cond, ktime_t timeout) {
    if (cond()) return true;
    ktime_t deadline = now() + timeout;
    while (!cond()) {
        sync();
        if (cond()) break;
        if (stamp() >= deadline) return false;
        block([&] { wait_until(wq, deadline); });
    }
    return true;
}

void kernel::wait_begin(const std::string& what) {
    context* ctx = current_;
    if (!ctx || ctx->irq || ctx->wait_depth++) return;
    ctx->wait_what = what;
    ctx->wait_since = now();
}

static std::string ms(ktime_t t) { return strfmt("%.3f ms", double(t) / double(MSEC)); }

void kernel::wait_end() {
    context* ctx = current_;
    if (!ctx || ctx->irq || --ctx->wait_depth) return;
    ktime_t waited = now() - ctx->wait_since;
    if (waited > cfg_.hung_after)
        rep().violation(now(), "hung", strfmt("%s (cpu%u) was blocked for %s (more than %s) in %s from %.6f s",
                                              ctx->name.c_str(), ctx->cpu, ms(waited).c_str(),
                                              ms(cfg_.hung_after).c_str(), ctx->wait_what.c_str(),
                                              double(ctx->wait_since) / 1e12));
}

void kernel::check_hung() {
    ktime_t t = stamp();
    for (context& ctx : p_->tasks)
        if (ctx.wait_depth && t > ctx.wait_since && t - ctx.wait_since > cfg_.hung_after)
            rep().violation(t, "hung", strfmt("%s (cpu%u) has been blocked for %s (more than %s) in %s since %.6f s",
                                              ctx.name.c_str(), ctx.cpu, ms(t - ctx.wait_since).c_str(),
                                              ms(cfg_.hung_after).c_str(), ctx.wait_what.c_str(),
                                              double(ctx.wait_since) / 1e12));
}

void kernel::wait_for_completion(completion& c) {
    if (c.done_) {
        --c.done_;
        return;
    }
    waiting w(*this, "wait_for_completion");
    while (!c.done_) {
        sync();
        if (c.done_) break;
        block([&] { wait(c.wq_.get().ev); });
    }
    --c.done_;
}

bool kernel::wait_for_completion_timeout(completion& c, ktime_t timeout) {
    waiting w(*this, "wait_for_completion_timeout");
    if (!wait_event_timeout(c.wq_, [&] { return c.done_ != 0; }, timeout)) return false;
    --c.done_;
    return true;
}

// Spinning keeps the CPU: a task waiting here blocks other tasks of its CPU.
void kernel::spin_lock(spinlock& l) {
    context* ctx = current_;
    // Tickets are drawn in simulated-time order, as for a mutex: a CPU running
    // ahead must not take one before an earlier CPU's turn.
    sync();
    touch(l.line, coh_op::rmw);  // the ticket's fetch-and-add
    sync();                      // ... and the lock is ours, or not, once it is done
    uint64_t ticket = l.next_++;
    if (ctx) ++ctx->spin_depth;  // from the ticket on: spinning is not preemptible either
    if (l.serving_ == ticket) {
        l.owner_ = ctx ? ctx : reinterpret_cast<context*>(&l);
        return;
    }
    waiting w(*this, std::string("spin_lock(") + l.name + ")");
    touch(l.line, coh_op::load);  // spinning on a Shared copy, which the unlock invalidates
    while (l.serving_ != ticket) {
        sync();  // the turn may come while catching up: look again before sleeping
        if (l.serving_ == ticket) break;
        wait(l.wq_.get().ev);
        current_ = ctx;
    }
    touch(l.line, coh_op::load);  // the handoff: the line comes from the unlocker
    l.owner_ = ctx ? ctx : reinterpret_cast<context*>(&l);
}

void kernel::spin_unlock(spinlock& l) {
    touch(l.line, coh_op::store);  // the ticket's owner half: a plain add
    sync();  // released at the holder's simulated time, not when its quantum is processed
    l.owner_ = nullptr;
    ++l.serving_;
    l.wq_.wake_up_all();
    if (current_ && current_->spin_depth) --current_->spin_depth;
}

void kernel::mutex_lock(mutex& m) {
    context* ctx = current_;
    // Who gets a released mutex is decided in simulated-time order: a task
    // running ahead must not take it again before an earlier waiter wakes.
    sync();
    touch(m.line, coh_op::rmw);  // the count's decrement
    if (!m.owner_) {
        m.owner_ = ctx ? ctx : reinterpret_cast<context*>(&m);
        return;
    }
    waiting w(*this, std::string("mutex_lock(") + m.name + ")");
    while (m.owner_) {
        sync();  // the mutex may be released while catching up: look again first
        if (!m.owner_) break;
        block([&] { wait(m.wq_.get().ev); });
    }
    m.owner_ = ctx ? ctx : reinterpret_cast<context*>(&m);
}

void kernel::mutex_unlock(mutex& m) {
    touch(m.line, coh_op::rmw);
    m.owner_ = nullptr;
    m.wq_.wake_up_all();
}

int kernel::request_irq(unsigned cpu, const std::string& name, std::function<void()> handler,
                        std::function<void(unsigned, int)> retarget) {
    cpu_rt& c = p_->cpus.at(cpu);
    int v = c.next_vector++;
    c.handlers[v] = {name, std::move(handler), std::move(retarget)};
    return v;
}

void kernel::free_irq(unsigned cpu, int vector) { p_->cpus.at(cpu).handlers.erase(vector); }

uint64_t kernel::msi_address(unsigned cpu) const {
    return models::msi_bus::base | uint64_t(cpus_.at(cpu)->apic_id()) << 12;
}

// A disabled tasklet stays pending until tasklet_enable.
void kernel::tasklet_schedule(tasklet& t) {
    ++activity_;
    if (t.disabled) {
        t.deferred = true;
        return;
    }
    if (t.scheduled) return;
    t.scheduled = true;
    cpu_rt& c = p_->cpus[smp_processor_id()];
    c.tasklets.push_back(&t);
    if (!in_interrupt()) c.irq_ev.notify(sc_core::SC_ZERO_TIME);
}

void kernel::tasklet_enable(tasklet& t) {
    if (t.disabled && --t.disabled == 0 && t.deferred) {
        t.deferred = false;
        tasklet_schedule(t);
    }
}

void kernel::deliver(unsigned cpu, uint8_t vector) {
    cpu_rt& c = p_->cpus[cpu];
    if (!c.online) {  // latched for fixup_irqs' IRR check, or lost after it
        if (stamp() <= c.down_at + FIXUP_IRQS_DELAY) c.irr.push_back(vector);
        return;
    }
    p_->cpus[cpu].pending.push_back(vector);
    p_->cpus[cpu].irq_ev.notify(sc_core::SC_ZERO_TIME);
}

// A CPU's interrupt context: hard handlers, then tasklets. Its time is stolen from
// whichever task the CPU was running.
void kernel::irq_thread(unsigned cpu) {
    cpu_rt& c = p_->cpus[cpu];
    context* ctx = c.irq_ctx.get();
    for (;;) {
        while (c.pending.empty() && c.tasklets.empty()) wait(c.irq_ev);
        poll_interrupted(c.owner);  // the time it steals shifts the poll's passes
        current_ = ctx;
        ktime_t start = stamp();
        while (!c.pending.empty()) {
            int v = c.pending.front();
            c.pending.pop_front();
            cost(irq_entry_);
            auto it = c.handlers.find(v);
            if (it == c.handlers.end()) printk("do_IRQ: " + std::to_string(cpu) + "." +
                                               std::to_string(v) + " No irq handler for vector");
            else it->second.handler();
            current_ = ctx;
        }
        while (!c.tasklets.empty()) {
            tasklet* t = c.tasklets.front();
            c.tasklets.pop_front();
            t->scheduled = false;
            if (t->disabled) {  // disabled after it was scheduled: it runs when enabled
                t->deferred = true;
                continue;
            }
            t->fn();
            current_ = ctx;
        }
        sync();
        if (c.owner) c.stolen += stamp() - start;
        check_idle();
    }
}


void kernel::mod_timer(timer_list& t, ktime_t expires) {
    ++activity_;
    if (!t.s) {
        t.s = std::make_shared<timer_list::state>();
        auto st = t.s;
        st->run.fn = [&t] { t.fn(); };
        sc_core::sc_spawn([this, st] {
            for (;;) {
                while (!st->pending) {
                    st->wake_at = ~ktime_t(0);
                    wait(st->ev);
                }
                if (st->expires > stamp()) {
                    st->wake_at = st->expires;
                    wait(ps(st->expires - stamp()), st->ev);  // re-armed earlier meanwhile?
                    continue;
                }
                st->pending = false;
                cpu_rt& c = p_->cpus[cpu_online(st->cpu) ? st->cpu : fallback_cpu(st->cpu)];
                if (!st->run.scheduled) {
                    st->run.scheduled = true;
                    c.tasklets.push_back(&st->run);
                    c.irq_ev.notify(sc_core::SC_ZERO_TIME);
                }
            }
        });
    }
    t.s->expires = expires;
    t.s->pending = true;
    t.s->cpu = smp_processor_id();
    // Pushed later (the driver's watchdog, re-armed per descriptor) the process
    // keeps its wake-up and looks again then: no switch, and no cancelled
    // timeout left in SystemC's queue for every re-arm.
    if (expires < t.s->wake_at) t.s->ev.notify(sc_core::SC_ZERO_TIME);
}

// A deleted timer's process finds it no longer pending when it wakes.
void kernel::del_timer_sync(timer_list& t) {
    ++activity_;
    if (t.s) t.s->pending = false;
}

bool kernel::timer_pending(const timer_list& t) const { return t.s && t.s->pending; }

struct kernel::workqueue {
    std::string name;
    std::deque<std::function<void()>> items;
    wait_queue wq;
};

kernel::workqueue* kernel::create_workqueue(const std::string& name, unsigned cpu, bool unbound) {
    workqueues_.push_back(std::make_unique<workqueue>());
    workqueue* w = workqueues_.back().get();
    w->name = name;
    // A daemon: an idle worker does not keep the run alive, a busy one does.
    kthread_run(name, unbound ? idle_cpu(cpu) : cpu, [this, w, unbound] {
        context* self = current_;
        for (;;) {
            while (w->items.empty()) {
                sync();
                if (!w->items.empty()) break;
                block([&] {
                    wait(w->wq.get().ev);
                    if (unbound) self->cpu = idle_cpu(self->cpu);
                });
            }
            auto fn = std::move(w->items.front());
            w->items.pop_front();
            try {
                fn();
            } catch (const task_killed&) {  // the worker dies; the pool's next one takes the queue
            }
            current_ = self;
            task_done();
        }
    }, true, !unbound);
    return w;
}

// `prefer` if it is online and free, else the first online CPU with nothing to
// run, else `prefer` (or where its tasks go when it is offline).
unsigned kernel::idle_cpu(unsigned prefer) const {
    auto free = [&](unsigned c) { return p_->cpus[c].online && !p_->cpus[c].owner && !p_->cpus[c].waiters; };
    if (free(prefer)) return prefer;
    for (unsigned c = 0; c < nr_cpus(); ++c)
        if (free(c)) return c;
    return p_->cpus[prefer].online ? prefer : fallback_cpu(prefer);
}

// 3.4's wake-up placement, reduced: a task whose CPU is busy runs on an idle
// one, of its own node first (select_idle_sibling), else of any node (idle
// balancing) [inference: CFS's balancing is not modelled beyond this].
unsigned kernel::wake_cpu(unsigned prev) const {
    auto idle = [&](unsigned c) { return p_->cpus[c].online && !p_->cpus[c].owner && !p_->cpus[c].waiters; };
    unsigned node = cpu_node(prev);
    for (unsigned c = 0; c < nr_cpus(); ++c)
        if (cpu_node(c) == node && idle(c)) return c;
    for (unsigned c = 0; c < nr_cpus(); ++c)
        if (idle(c)) return c;
    return prev;
}

void kernel::queue_work(workqueue* w, std::function<void()> fn) {
    ++live_tasks_;
    w->items.push_back(std::move(fn));
    w->wq.wake_up_all();
}

void kernel::printk(const std::string& text) { sim_report().log(now(), text); }

void kernel::trace(const std::string& src, const std::string& ev, json_obj fields) {
    sim_report().trace(now(), src, ev, std::move(fields));
}

}  // namespace ioatsim::sw
