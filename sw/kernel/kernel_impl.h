// The kernel's private state, shared by its source files (SystemC lives here).
#pragma once
#include "sw/kernel/kernel.h"

#include <systemc>

#include <deque>
#include <map>

namespace ioatsim::sw {

struct wait_queue::impl { sc_core::sc_event ev; };

struct poll_state;  // poll.cpp

struct context {
    context(std::string n, unsigned c, bool i) : name(std::move(n)), cpu(c), irq(i) {}
    std::string name;
    unsigned cpu;
    bool irq;
    bool bound = false;  // kthread_bind: runs on its CPU only (until that CPU goes)
    const char* fn = nullptr;  // the function it is in (kernel::in_function)
    ktime_t offset = 0;  // local time ahead of SystemC time (temporal decoupling)
    int rcu_nesting = 0; // rcu_read_lock depth
    int spin_depth = 0;  // spin locks held: not preemptible, so not migratable
    uint64_t rcu_gen = 0;  // the grace-period generation its read section began in
    // The hung-task check: what the task waits on without progress, and since when.
    int wait_depth = 0;
    std::string wait_what;
    ktime_t wait_since = 0;
    poll_state* poll = nullptr;  // inside kernel::poll
    std::unique_ptr<sc_core::sc_event> timed_out;  // the deadline process wakes it (timeout.cpp)
};

struct irq_desc {
    std::string name;
    std::function<void()> handler;
    std::function<void(unsigned, int)> retarget;  // reprograms the source for a new CPU/vector
};

struct timer_list::state {
    sc_core::sc_event ev;
    ktime_t expires = 0;
    ktime_t wake_at = 0;  // when the timer's process wakes by itself; ~0: only on `ev`
    bool pending = false;
    unsigned cpu = 0;
    tasklet run;  // the expiry, queued like a softirq on `cpu`
};

struct cpu_rt {
    bool online = true;
    bool present = true;        // in cpu_present_mask
    context* owner = nullptr;   // the task running here; non-preemptive between tasks
    sc_core::sc_event freed;
    unsigned waiters = 0;       // tasks waiting to run here
    std::deque<context*> queue; // in the order they came: the CPU goes to the first
    ktime_t stolen = 0;         // interrupt time the running task has not yet paid
    std::unique_ptr<context> irq_ctx;
    std::deque<uint8_t> pending;
    sc_core::sc_event irq_ev;
    std::map<int, irq_desc> handlers;
    std::deque<tasklet*> tasklets;
    int next_vector = 0x30;
    uint64_t qs = 0;            // RCU quiescent states passed (context switches, cond_resched)
    // Offline: vectors its APIC latched in the fixup_irqs window, and where
    // each of its vectors went (old vector -> new CPU and vector).
    ktime_t down_at = 0;
    std::vector<uint8_t> irr;
    std::map<int, std::pair<unsigned, int>> moved;
};

struct kernel::impl {
    std::deque<cpu_rt> cpus;  // sc_event is not movable
    std::deque<context> tasks;
    std::vector<std::function<void(unsigned, bool)>> cpu_notifiers;
    // RCU: read sections open per generation; a grace period waits for the older
    // ones and for every online CPU to pass a quiescent state.
    uint64_t rcu_gen = 1;
    std::map<uint64_t, unsigned> rcu_readers;
    sc_core::sc_event rcu_reader_left;  // also: a CPU passed a quiescent state
    std::deque<tasklet> rcu_callbacks;  // call_rcu work, run as softirqs; kept to the end
    sc_core::sc_event io_changed;       // an IOH came back: spins on its registers read again
    std::vector<context*> pollers;      // tasks inside kernel::poll, in the order they entered
    // Deadlines of waits that usually end early (wait_event_timeout): one
    // process wakes each waiter whose deadline comes (timeout.cpp).
    std::multimap<ktime_t, sc_core::sc_event*> deadlines;
    sc_core::sc_event deadline_added;
    ktime_t deadlines_wake = ~ktime_t(0);  // when that process wakes by itself; ~0: never
};

// Free lists (address -> size), memory.cpp: the first fit of `size` bytes at an
// `align`ed address (0 when none), and a range given back, merged with its
// neighbours.
uint64_t take_range(std::map<uint64_t, uint64_t>& free, uint64_t size, uint64_t align);
void give_range(std::map<uint64_t, uint64_t>& free, uint64_t pa, uint64_t size);

// A NUMA node's DRAM beyond the kernel's pool (memory_hotplug.cpp): its free
// ranges, and what is allocated there.
struct kernel::node_mem {
    struct region {
        uint64_t size = 0;
        bool movable = false;
        int pins = 0;
        std::string owner;
        std::function<void(uint64_t)> moved;
    };
    uint64_t base = 0, size = 0;
    bool online = true;
    bool isolated = false;                 // offline in progress: nothing new lands here
    std::map<uint64_t, uint64_t> free;     // address -> size
    std::map<uint64_t, region> used;       // address -> region
};

inline sc_core::sc_time ps(ktime_t t) { return sc_core::sc_time::from_value(t); }

// fixup_irqs (3.4, arch/x86/kernel/irq.c): its mdelay(1) before the IRR check.
constexpr ktime_t FIXUP_IRQS_DELAY = 1 * MSEC;
inline ktime_t stamp() { return ktime_t(sc_core::sc_time_stamp().value()); }

}  // namespace ioatsim::sw
