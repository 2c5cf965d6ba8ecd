// CPU hotplug: what `echo 0 > /sys/devices/system/cpu/cpuN/online` does, reduced
// to what the simulated drivers observe.
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include "models/cpu/cpu.h"
#include "sw/kernel/kernel_impl.h"

namespace ioatsim::sw {

bool kernel::cpu_online(unsigned cpu) const { return cpu < nr_cpus() && p_->cpus[cpu].online; }

unsigned kernel::num_online_cpus() const {
    unsigned n = 0;
    for (auto& c : p_->cpus) n += c.online;
    return n;
}

unsigned kernel::fallback_cpu(unsigned dead) const {
    for (unsigned i = 1; i <= nr_cpus(); ++i) {
        unsigned c = (dead + i) % nr_cpus();
        if (p_->cpus[c].online) return c;
    }
    return dead;
}

void kernel::register_cpu_notifier(std::function<void(unsigned, bool)> fn) {
    p_->cpu_notifiers.push_back(std::move(fn));
}

int kernel::cpu_down(unsigned cpu) {
    poll_disturb();
    if (cpu >= nr_cpus() || !p_->cpus[cpu].online) return -22;   // -EINVAL
    if (num_online_cpus() == 1 || cpu == smp_processor_id()) return -16;  // -EBUSY
    cpu_rt& c = p_->cpus[cpu];
    c.online = false;
    cpus_[cpu]->set_online(false);
    unsigned to = fallback_cpu(cpu);
    // Interrupts follow a new CPU; their sources are reprogrammed (fixup_irqs).
    auto moving = std::move(c.handlers);
    c.handlers.clear();
    c.pending.clear();
    c.moved.clear();
    c.irr.clear();
    c.down_at = stamp();
    for (auto& [vector, d] : moving) {
        int v = p_->cpus[to].next_vector++;
        auto retarget = d.retarget;
        p_->cpus[to].handlers[v] = std::move(d);
        c.moved[vector] = {to, v};
        if (retarget) retarget(to, v);
    }
    // 3.4's fixup_irqs waits mdelay(1), then sends every vector latched in the
    // dying CPU's IRR again to its new target (irq_retrigger): an interrupt in
    // flight when the source was reprogrammed is late, not lost.
    sc_core::sc_spawn([this, cpu] {
        sc_core::wait(ps(FIXUP_IRQS_DELAY));
        cpu_rt& dead = p_->cpus[cpu];
        std::vector<uint8_t> irr;
        irr.swap(dead.irr);
        for (uint8_t v : irr) {
            auto m = dead.moved.find(v);
            if (m != dead.moved.end() && p_->cpus[m->second.first].online) deliver(m->second.first, uint8_t(m->second.second));
        }
    });
    // Scheduled tasklets run on this CPU instead (takeover_tasklets).
    for (tasklet* t : c.tasklets) p_->cpus[to].tasklets.push_back(t);
    c.tasklets.clear();
    p_->cpus[to].irq_ev.notify(sc_core::SC_ZERO_TIME);
    c.freed.notify();  // tasks waiting for this CPU move on
    printk(strfmt("CPU %u is now offline", cpu));
    for (auto& n : p_->cpu_notifiers) n(cpu, false);
    return 0;
}

void kernel::set_cpu_present(unsigned cpu, bool present) { p_->cpus.at(cpu).present = present; }
bool kernel::cpu_present(unsigned cpu) const { return cpu < nr_cpus() && p_->cpus[cpu].present; }

int kernel::cpu_up(unsigned cpu) {
    poll_disturb();
    // _cpu_up: -EINVAL for a CPU online already or not present.
    if (cpu >= nr_cpus() || p_->cpus[cpu].online || !p_->cpus[cpu].present) return -22;
    p_->cpus[cpu].online = true;
    cpus_[cpu]->set_online(true);
    printk(strfmt("Booting Node %u Processor %u APIC 0x%x", cpus_[cpu]->node(), cpu, cpus_[cpu]->apic_id()));
    for (auto& n : p_->cpu_notifiers) n(cpu, true);
    return 0;
}

}  // namespace ioatsim::sw
