// The simulated kernel: tasks pinned to CPUs, CPU time charged with cost(),
// sleeping and waking, completions, spinlocks, interrupts and tasklets, MMIO and
// memory through the CPU a task runs on, a page allocator over simulated DRAM and
// a dmesg-style log. The only part of sw/ that touches SystemC; this header
// keeps SystemC out of drivers and clients.
#pragma once
#include "models/core/report.h"
#include "sw/kernel/coherence.h"

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ioatsim::models { class cpu; }

namespace ioatsim::sw {

using ktime_t = uint64_t;  // picoseconds
constexpr ktime_t NSEC = 1'000, USEC = 1'000'000, MSEC = 1'000'000'000;

struct context;     // a task or a CPU's interrupt context
struct poll_group;  // polls asleep together (kernel::poll)

std::string strfmt(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

class wait_queue {
public:
    wait_queue();
    ~wait_queue();
    wait_queue(const wait_queue&) = delete;
    void wake_up_all();
    struct impl;
    impl& get() { return *p_; }
private:
    std::unique_ptr<impl> p_;
};

class completion {
public:
    void complete() { ++done_; wq_.wake_up_all(); }
    void reinit() { done_ = 0; }
    bool done() const { return done_ != 0; }
private:
    friend class kernel;
    unsigned done_ = 0;
    wait_queue wq_;
};

// A spinlock on which simulated contexts really wait: SystemC threads only switch
// at waits, so without it an interrupt could run inside a driver's critical section.
// Ticket-ordered, as x86 spinlocks are: a context that unlocks and relocks in a
// loop cannot starve the waiters.
class spinlock {
public:
    bool locked() const { return owner_ != nullptr; }
    const char* name = "spinlock";  // for the hung-task report
    cacheline line;                 // the lock word's line, and the fields laid out beside it
private:
    friend class kernel;
    context* owner_ = nullptr;
    uint64_t next_ = 0, serving_ = 0;
    wait_queue wq_;
};

// A sleeping lock (dma_list_mutex): waiters give their CPU away.
class mutex {
public:
    bool locked() const { return owner_ != nullptr; }
    const char* name = "mutex";  // for the hung-task report
    cacheline line;              // its count's line
private:
    friend class kernel;
    context* owner_ = nullptr;
    wait_queue wq_;
};

struct tasklet {
    std::function<void()> fn;
    bool scheduled = false;
    int disabled = 0;      // tasklet_disable depth: a scheduled one waits until enabled
    bool deferred = false; // scheduled while disabled
};

// A timer: `fn` runs in the softirq context of the CPU that armed it.
struct timer_list {
    std::function<void()> fn;
    struct state;
    std::shared_ptr<state> s;  // the kernel's, created when first armed
};

// What shared cache lines cost (sw/kernel/atomic.h): Westmere-EX latencies from
// SOSP'13 (ccbench), at 2.13 GHz.

struct kernel_config {
    ktime_t quantum = 1 * USEC;
    // Single-thread copy rate of a Nehalem-EX core, ~5 GB/s (AnandTech X7560 stream,
    // timing-defaults.md §1.2).
    double memcpy_gbps = 5.0;
    // Byte-at-a-time loops (dmatest's pattern fill and check): about 2 cycles per
    // byte at 2.13 GHz [estimate].
    double byte_loop_gbps = 1.0;
    uint64_t ram_base = 16ull << 20;  // the allocator's pool
    uint64_t ram_size = 1ull << 30;
    // Each NUMA node's DRAM (base, size), node 0 first. Kernel memory comes from
    // node 0's pool above (the layout `movable_node` gives: the other nodes hold
    // only movable pages, so they can be offlined); user pages and kmalloc_node
    // allocations from their node's.
    std::vector<std::pair<uint64_t, uint64_t>> node_ram;
    // The shortest RCU grace period (rcu.grace_period; rcu.expedited picks the
    // expedited figure instead), and it lasts until every online CPU has passed a
    // quiescent state.
    ktime_t rcu_grace_period = 3 * MSEC;
    // A task that waits without progress for longer is hung (check.hung_after).
    ktime_t hung_after = 5 * MSEC;
    // The software's timing parameters by key (sw/kernel/costs.h); missing keys
    // take the table's default.
    std::map<std::string, ktime_t> timing;
    // The memory path a CPU on `node` shares with the DMA engines (DRAM nodes,
    // QPI links): when `bytes` at `pa`, asked for at `at`, are through. Unset: free.
    std::function<ktime_t(unsigned node, uint64_t pa, uint64_t bytes, ktime_t at)> memory;
    coherence_costs coherence;
    int topology = 0;  // coherence_topology's kind: 0 fully connected, 1 twisted hypercube
    // run.poll_skip: a poll whose passes have settled sleeps until something
    // could change them (kernel::poll); off, every pass runs.
    bool poll_skip = true;
};

class kernel {
public:
    kernel(std::vector<models::cpu*> cpus, kernel_config cfg);
    ~kernel();

    const kernel_config& config() const { return cfg_; }
    unsigned nr_cpus() const { return unsigned(cpus_.size()); }

    // Tasks. kthread_run may be called before the simulation starts or from a task.
    // A daemon (a worker that waits for work forever) does not count as live.
    // A task that is not `bound` may wake on another CPU when its own is busy.
    void kthread_run(const std::string& name, unsigned cpu, std::function<void()> fn, bool daemon = false,
                     bool bound = false);
    unsigned live_tasks() const { return live_tasks_; }
    bool idle() const;
    // Called whenever software becomes idle (see idle()).
    void set_idle_callback(std::function<void()> fn) { on_idle_ = std::move(fn); }
    unsigned smp_processor_id() const;
    // Where the scheduler would put a task that may run anywhere: `prefer` if it
    // is free, else the first online CPU with nothing to run, else `prefer`.
    unsigned idle_cpu(unsigned prefer) const;
    unsigned wake_cpu(unsigned prev) const;  // where a waking task runs (select_idle_sibling)
    unsigned cpu_node(unsigned cpu) const;  // the NUMA node (socket) of a CPU
    std::string current_name() const;
    bool in_interrupt() const;
    // An oops: the report (a checker violation naming the caller) and, in a
    // task, the task's death where it stands (do_exit), keeping every lock it
    // holds, as the kernel does. In interrupt context only the report: the
    // kernel would panic ("Fatal exception in interrupt"), the run goes on to
    // show what else was wrong. Returns only when the caller was not killed.
    void oops(const std::string& what);

    // Time.
    ktime_t now() const;                 // as seen by the calling context
    ktime_t timing(const char* key) const;  // a software timing parameter (costs.h)
    // The calling CPU loads, stores or RMWs a shared line: its cost charged, a
    // miss first caught up to SystemC time so that misses meet the line in
    // simulated-time order whatever the quantum.
    ktime_t touch(cacheline& l, coh_op op, coh_kind kind = coh_kind::path);
    coherence& coh() { return *coh_; }
    // Lines at physical addresses that devices write (completion words): a
    // device write there invalidates the CPUs' copies.
    void track_line(uint64_t pa, cacheline* l) { tracked_lines_[pa & ~63ull] = l; }
    void untrack_line(uint64_t pa) { tracked_lines_.erase(pa & ~63ull); }
    void device_wrote(uint64_t pa, uint64_t len);
    void cost(ktime_t t);                // CPU time of plain code
    void cost_bytes(uint64_t n, double gbps) { cost(ktime_t(double(n) * 1000.0 / gbps)); }
    // Work over `n` bytes of memory at `pa` at `gbps`, no faster than the memory
    // path gives them; a copy reads one buffer and writes the other at memcpy rate.
    void cost_mem(uint64_t pa, uint64_t n, double gbps);
    void cost_copy(uint64_t dst, uint64_t src, uint64_t n);
    void udelay(uint64_t us) { cost(us * USEC); }
    void schedule_timeout(ktime_t t);    // sleeps, gives the CPU away (interruptible)
    void cond_resched();                 // lets a task waiting for this CPU run first
    void msleep(uint64_t ms) { schedule_timeout(ms * MSEC); }

    // The hung-task check (khungtaskd, scaled to simulated time): a task that
    // stays in one uninterruptible wait (wait_for_completion, mutex_lock,
    // spin_lock, synchronize_rcu) or in a poll loop marked by `waiting` for longer
    // than config().hung_after is reported as hung, naming what it waits on.
    // Nested waits belong to the outermost. Interruptible sleeps (data to read,
    // work to do) are not watched, as in Linux.
    // The function a context is in, for an oops's IP line: drivers name their
    // entry points, as the symbol of the faulting instruction would.
    class in_function {
    public:
        in_function(kernel& k, const char* fn) : k_(k), prev_(k.enter(fn)) {}
        ~in_function() { k_.leave(prev_); }
        in_function(const in_function&) = delete;
    private:
        kernel& k_;
        const char* prev_;
    };
    const char* enter(const char* fn);
    void leave(const char* prev);

    class waiting {
    public:
        waiting(kernel& k, const std::string& what) : k_(k) { k_.wait_begin(what); }
        ~waiting() { k_.wait_end(); }
        waiting(const waiting&) = delete;
    private:
        kernel& k_;
    };
    void wait_begin(const std::string& what);
    void wait_end();
    void check_hung();  // end of run: tasks still waiting too long

    // An open-coded busy-wait on cacheable memory (tcp_service_net_dma's drain,
    // dma_sync_wait): `pass` runs one iteration and returns true to leave; the
    // task keeps its CPU throughout, as spinning does. Once two passes in a row
    // took the same time, made the same accesses to the same lines at the same
    // cost and reported nothing, and every other poll sharing a line with it
    // has settled too, the next passes would repeat them until something from
    // outside changes what they read: another context or a device touches one
    // of those lines, an interrupt or a CPU hotplug comes, an object is freed,
    // or the passes would reach `deadline`. The polls then sleep, keeping their
    // CPUs, until that moment, resume at their next pass boundary and count the
    // passes they stood for, with those passes' coherence time and transfers
    // (kernel.poll_passes_slept). With kernel_config::poll_skip off every pass runs.
    void poll(const std::function<bool()>& pass, ktime_t deadline = ~ktime_t(0));
    void poll_disturb();  // something polls may read changed: every sleeping one resumes
    void settle_polls();  // end of run: sleeping polls count the passes up to now

    // Sleeping.
    bool wait_event_timeout(wait_queue& wq, const std::function<bool()>& cond, ktime_t timeout);
    void wait_for_completion(completion& c);
    bool wait_for_completion_timeout(completion& c, ktime_t timeout);
    void spin_lock(spinlock& l);
    void spin_unlock(spinlock& l);
    void mutex_lock(mutex& m);
    void mutex_unlock(mutex& m);

    // Interrupts: a vector on a CPU, its handler run in that CPU's interrupt context;
    // tasklets run there after the handler, as softirqs do on interrupt exit.
    // `retarget(cpu, vector)` reprograms the interrupt's source when the CPU goes
    // offline and the interrupt moves (MSI address and data).
    int request_irq(unsigned cpu, const std::string& name, std::function<void()> handler,
                    std::function<void(unsigned, int)> retarget = {});
    void free_irq(unsigned cpu, int vector);
    void tasklet_schedule(tasklet& t);
    void tasklet_disable(tasklet& t) { ++t.disabled; }
    void tasklet_enable(tasklet& t);
    uint64_t msi_address(unsigned cpu) const;  // the APIC address of a CPU

    // Timers. A pending timer does not keep the kernel busy (see idle()).
    void mod_timer(timer_list& t, ktime_t expires);  // absolute time
    void del_timer_sync(timer_list& t);
    bool timer_pending(const timer_list& t) const;

    // RCU as 3.4's non-preemptible tree RCU: a read section must not sleep; a
    // grace period lasts at least config().rcu_grace_period and ends once every
    // CPU online when it began has passed a quiescent state (a context switch,
    // idle, or cond_resched) and every read section begun before it has ended.
    // A CPU spinning in kernel code without cond_resched holds it up. call_rcu
    // runs `fn` as a softirq on this CPU after one.
    void rcu_read_lock();
    void rcu_read_unlock();
    void synchronize_rcu();
    void call_rcu(std::function<void()> fn);

    // Single-threaded workqueues: items run in order on a worker task, bound to
    // `cpu` or, unbound, moved to an idle online CPU when work arrives.
    struct workqueue;
    workqueue* create_workqueue(const std::string& name, unsigned cpu, bool unbound = false);
    void queue_work(workqueue* w, std::function<void()> fn);

    // CPU hotplug (from a task on another CPU): tasks move, interrupts move with
    // their sources reprogrammed, notifiers run; an offline CPU runs nothing and
    // accepts no interrupt.
    bool cpu_online(unsigned cpu) const;
    unsigned num_online_cpus() const;
    int cpu_down(unsigned cpu);
    int cpu_up(unsigned cpu);
    // acpi_processor_remove / hot-add: a CPU not present cannot come up.
    void set_cpu_present(unsigned cpu, bool present);
    bool cpu_present(unsigned cpu) const;
    void register_cpu_notifier(std::function<void(unsigned cpu, bool online)> fn);

    // MMIO mappings (ioremap): every uncached access must fall in a live one;
    // one through a mapping already torn down is an oops (a checker violation
    // naming the caller), reads all-ones and never reaches the device.
    void ioremap(uint64_t addr, uint64_t len);
    void iounmap(uint64_t addr);

    // Uncached MMIO and configuration cycles through the current CPU. A failed
    // access reads all-ones, like a PC.
    uint64_t mmio_read(uint64_t addr, unsigned len, bool* answered = nullptr);
    // An open-coded spin on a register (3.4's ioat_reset_hw waiting for
    // CHANCMD.RESET to clear): read, stop when (value & mask) == want or at
    // the deadline, pay `relax`, again. While the device answers Unsupported
    // Request every further read gives the same all-ones until an IOH comes
    // back (io_changed): the task then keeps its CPU asleep until the read that
    // would see the deadline, or that change, and counts the reads it stands
    // for. Returns the last value; `timed_out` when the deadline passed.
    uint64_t spin_mmio(uint64_t addr, unsigned len, uint64_t mask, uint64_t want, ktime_t relax, ktime_t deadline,
                       bool& timed_out);
    void io_changed();  // the platform: a device may answer again
    void mmio_write(uint64_t addr, unsigned len, uint64_t v);
    uint8_t readb(uint64_t a) { return uint8_t(mmio_read(a, 1)); }
    uint16_t readw(uint64_t a) { return uint16_t(mmio_read(a, 2)); }
    uint32_t readl(uint64_t a) { return uint32_t(mmio_read(a, 4)); }
    uint64_t readq(uint64_t a) { return mmio_read(a, 8); }
    void writeb(uint8_t v, uint64_t a) { mmio_write(a, 1, v); }
    void writew(uint16_t v, uint64_t a) { mmio_write(a, 2, v); }
    void writel(uint32_t v, uint64_t a) { mmio_write(a, 4, v); }
    void writeq(uint64_t v, uint64_t a) { mmio_write(a, 8, v); }

    // Cacheable memory (physical addresses); callers charge the time.
    void mem_read(uint64_t pa, void* dst, uint64_t len);
    void mem_write(uint64_t pa, const void* src, uint64_t len);
    // Loads and stores in place, as code on the direct map does them: fn gets
    // each piece of [pa, pa + len) (host pointer, offset, bytes). A write is
    // seen as one mem_write of the range once every piece is written.
    using mem_piece = std::function<void(uint8_t*, uint64_t, uint64_t)>;
    void mem_read_in_place(uint64_t pa, uint64_t len, const mem_piece& fn);
    void mem_write_in_place(uint64_t pa, uint64_t len, const mem_piece& fn);
    template <class T> T load(uint64_t pa) { T v; mem_read(pa, &v, sizeof v); return v; }
    template <class T> void store(uint64_t pa, T v) { mem_write(pa, &v, sizeof v); }

    // Physically contiguous memory (kmalloc / dma_alloc_coherent backing).
    uint64_t alloc_phys(uint64_t size, uint64_t align);
    void free_phys(uint64_t pa);
    uint64_t phys_in_use() const;

    // Memory of a NUMA node (memory_hotplug.cpp): `movable` pages are a task's
    // user pages (migrated when their node goes offline; `moved` hears the new
    // address), the others kmalloc_node's (they keep their node from going
    // offline). An offline node's requests fall back to node 0. 0 when full.
    uint64_t alloc_pages_node(unsigned node, uint64_t size, bool movable, const std::string& owner,
                              std::function<void(uint64_t)> moved = {});
    void free_pages_node(uint64_t pa);
    // get_user_pages / put_page on a movable range: a pinned page cannot migrate.
    void pin_user_pages(uint64_t pa);
    void unpin_user_pages(uint64_t pa);
    // offline_pages over a whole node, as a memory block's offline does it:
    // 0, -EBUSY (an unmovable page) or -EAGAIN (pages still pinned at the
    // timeout), with `why`. online_pages brings it back empty.
    int offline_node_memory(unsigned node, std::string& why);
    void online_node_memory(unsigned node);
    bool node_memory_online(unsigned node) const;
    unsigned nr_nodes() const { return unsigned(cfg_.node_ram.size()); }

    // Log and trace, stamped with the caller's time.
    void printk(const std::string& text);
    void dev_printk(const std::string& driver, const std::string& dev, const std::string& text) {
        printk(driver + " " + dev + ": " + text);
    }
    void trace(const std::string& src, const std::string& ev, json_obj fields = {});
    report& rep() { return sim_report(); }

    struct impl;
    struct node_mem;  // memory_hotplug.cpp
private:
    void sync();
    void block(const std::function<void()>& do_wait);
    void acquire(context* ctx);
    void release(context* ctx);
    void task_done();
    void check_idle();
    unsigned fallback_cpu(unsigned dead) const;
    void quiescent(unsigned cpu);
    struct rcu_snapshot;
    rcu_snapshot rcu_start();
    bool rcu_done(const rcu_snapshot& s) const;
    void deliver(unsigned cpu, uint8_t vector);
    void irq_thread(unsigned cpu);
    void deadline_thread();
    void wait_until(wait_queue& wq, ktime_t deadline);
    void poll_touched(cacheline& l);
    void poll_record(cacheline& l, coh_op op, ktime_t cost, coh_kind kind, uint64_t transfers);
    void poll_interrupted(context* owner);
    void poll_wake(poll_group& g, ktime_t at);
    std::shared_ptr<poll_group> poll_form(context* ctx);
    void poll_sleep(context* ctx);
    uint64_t activity();
    uint64_t activity_ = 0;  // MMIO, memory writes, timers: what a poll pass must not do

    kernel_config cfg_;
    std::vector<models::cpu*> cpus_;
    std::unique_ptr<impl> p_;
    ktime_t irq_entry_;
    std::unique_ptr<coherence> coh_;
    std::map<uint64_t, cacheline*> tracked_lines_;
    context* current_ = nullptr;
    int oopses_ = 0;
    unsigned live_tasks_ = 0;
    std::function<void()> on_idle_;
    std::vector<std::unique_ptr<workqueue>> workqueues_;
    bool mapped(uint64_t addr, unsigned len, const char* what);
    std::map<uint64_t, uint64_t> iomap_;  // ioremapped address -> length
    std::map<uint64_t, uint64_t> free_;   // address -> size
    std::map<uint64_t, uint64_t> used_;   // address -> size
    void init_nodes();
    std::vector<node_mem> nodes_;
};

}  // namespace ioatsim::sw
