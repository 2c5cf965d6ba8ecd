// The kernel's view of memory: ioremap'd MMIO and its uncached accesses,
// physical pages, and the shared cache lines the coherence model costs.
#include "sw/kernel/kernel.h"

#include "models/cpu/cpu.h"
#include "sw/kernel/kernel_impl.h"
#include "sw/kernel/memory_watch.h"

#include <systemc>

namespace ioatsim::sw {
using sc_core::sc_time;

ktime_t kernel::touch(cacheline& l, coh_op op, coh_kind kind) {
    unsigned cpu = smp_processor_id();
    if (!current_) {  // code before the simulation runs: the state moves, nothing is charged
        coh_->access(l, cpu, op, stamp(), kind);
        return 0;
    }
    if (l.poll_watch) poll_touched(l);
    if (!coh_->hit(l, cpu, op)) sync();  // a miss meets the line at the CPU's simulated time
    const uint64_t transfers = coh_->of(kind).transfers;
    ktime_t t = coh_->access(l, smp_processor_id(), op, now(), kind);  // sync may have moved the task
    if (current_->poll) poll_record(l, op, t, kind, coh_->of(kind).transfers - transfers);
    cost(t);
    return t;
}

void kernel::device_wrote(uint64_t pa, uint64_t len) {
    for (auto it = tracked_lines_.lower_bound(pa & ~63ull); it != tracked_lines_.end() && it->first < pa + len; ++it) {
        if (it->second->poll_watch) poll_wake(*static_cast<poll_group*>(it->second->poll_watch), stamp());
        coh_->device_write(*it->second);
    }
}

void kernel::ioremap(uint64_t addr, uint64_t len) { iomap_[addr] = len; }
void kernel::iounmap(uint64_t addr) { iomap_.erase(addr); }

bool kernel::mapped(uint64_t addr, unsigned len, const char* what) {
    // Mappings nest (a BAR and its MSI-X entry): any one starting at or below
    // `addr` may hold it, not only the nearest.
    for (auto it = iomap_.upper_bound(addr); it != iomap_.begin();) {
        --it;
        if (addr - it->first + len <= it->second) return true;
    }
    oops(strfmt("unable to handle kernel paging request at %#llx (%s outside every live ioremap)",
                (unsigned long long)addr, what));
    return false;
}

// The fabric may wait inside a transaction (a read's completion), letting other
// contexts run: the caller's context is restored afterwards.
uint64_t kernel::mmio_read(uint64_t addr, unsigned len, bool* answered) {
    if (answered) *answered = false;
    ++activity_;
    if (!mapped(addr, len, "read")) return len == 8 ? ~0ull : (1ull << (8 * len)) - 1;
    sync();  // the device must see the access at the task's time
    context* ctx = current_;
    sc_time d = sc_core::SC_ZERO_TIME;
    uint64_t v = 0;
    const bool ok = cpus_[smp_processor_id()]->io_read(addr, len, v, d);
    if (answered) *answered = ok;
    current_ = ctx;
    if (ctx) ctx->offset += ktime_t(d.value());  // an uncached read stalls the CPU
    return v;
}

void kernel::io_changed() {
    p_->io_changed.notify(sc_core::SC_ZERO_TIME);
    poll_disturb();
}

uint64_t kernel::spin_mmio(uint64_t addr, unsigned len, uint64_t mask, uint64_t want, ktime_t relax,
                           ktime_t deadline, bool& timed_out) {
    timed_out = false;
    for (;;) {
        const ktime_t start = now();
        bool answered = false;
        const uint64_t v = mmio_read(addr, len, &answered);
        if ((v & mask) == want) return v;
        const ktime_t read_done = now();
        if (read_done >= deadline) {
            timed_out = true;
            return v;
        }
        cost(relax);
        context* ctx = current_;
        const ktime_t period = now() - start;
        if (answered || !ctx || ctx->irq || period <= 0) continue;
        // Iteration k's read ends at read_done + k * period; the first at or
        // past the deadline is the last. Sleep to the start of that one.
        const uint64_t n = uint64_t((deadline - read_done + period - 1) / period);
        if (n < 2) continue;
        sync();
        const ktime_t from = stamp(), until = start + ktime_t(n) * period;
        wait(ps(until - from), p_->io_changed);
        current_ = ctx;
        const uint64_t skipped = uint64_t((stamp() - from) / period);
        rep().counter("pcie.unsupported_requests") += int64_t(skipped);
        rep().counter("kernel.spin_reads_slept") += int64_t(skipped);
    }
}

void kernel::mmio_write(uint64_t addr, unsigned len, uint64_t v) {
    ++activity_;
    if (!mapped(addr, len, "write")) return;
    sync();
    context* ctx = current_;
    sc_time d = sc_core::SC_ZERO_TIME;  // posted: the CPU waits only to issue it
    cpus_[smp_processor_id()]->io_write(addr, len, v, d);
    current_ = ctx;
    if (ctx) ctx->offset += ktime_t(d.value());
}

void kernel::mem_read(uint64_t pa, void* dst, uint64_t len) {
    cpus_[smp_processor_id()]->mem_read(pa, dst, len);
}

namespace {
struct cpu_write_watcher {
    const kernel* k = nullptr;
    std::function<void(uint64_t, uint64_t)> fn;
} cpu_write_watch;
}  // namespace

void set_cpu_write_watch(const kernel& k, std::function<void(uint64_t, uint64_t)> fn) {
    cpu_write_watch.k = fn ? &k : nullptr;
    cpu_write_watch.fn = std::move(fn);
}

void kernel::mem_write(uint64_t pa, const void* src, uint64_t len) {
    ++activity_;
    cpus_[smp_processor_id()]->mem_write(pa, src, len);
    if (cpu_write_watch.k == this) cpu_write_watch.fn(pa, len);
}

void kernel::mem_read_in_place(uint64_t pa, uint64_t len, const mem_piece& fn) {
    cpus_[smp_processor_id()]->mem_in_place(pa, len, false, fn);
}

void kernel::mem_write_in_place(uint64_t pa, uint64_t len, const mem_piece& fn) {
    ++activity_;
    cpus_[smp_processor_id()]->mem_in_place(pa, len, true, fn);
    if (cpu_write_watch.k == this) cpu_write_watch.fn(pa, len);
}

uint64_t take_range(std::map<uint64_t, uint64_t>& free, uint64_t size, uint64_t align) {
    for (auto it = free.begin(); it != free.end(); ++it) {
        uint64_t a = it->first, s = it->second;
        uint64_t at = (a + align - 1) / align * align;
        if (at + size > a + s) continue;
        free.erase(it);
        if (at > a) free[a] = at - a;
        if (at + size < a + s) free[at + size] = a + s - (at + size);
        return at;
    }
    return 0;
}

void give_range(std::map<uint64_t, uint64_t>& free, uint64_t a, uint64_t s) {
    auto next = free.lower_bound(a);
    if (next != free.end() && next->first == a + s) {
        s += next->second;
        free.erase(next);
    }
    auto prev = free.lower_bound(a);
    if (prev != free.begin() && std::prev(prev)->first + std::prev(prev)->second == a) {
        --prev;
        prev->second += s;
    } else {
        free[a] = s;
    }
}

uint64_t kernel::alloc_phys(uint64_t size, uint64_t align) {
    if (!size) size = 1;
    size = (size + 63) & ~63ull;
    const uint64_t at = take_range(free_, size, align);
    if (at) used_[at] = size;
    return at;
}

void kernel::free_phys(uint64_t pa) {
    auto u = used_.find(pa);
    if (u == used_.end()) return;
    give_range(free_, pa, u->second);
    used_.erase(u);
}

uint64_t kernel::phys_in_use() const {
    uint64_t n = 0;
    for (auto& [a, s] : used_) n += s;
    return n;
}

}  // namespace ioatsim::sw
