#include "sw/acpi/container.h"

#include "models/ioh/hotplug_controller.h"

#include <algorithm>

namespace ioatsim::sw {

acpi_container::acpi_container(kernel& k, pci_subsys& pci, uint64_t hpc, std::vector<socket> sockets)
    : k_(k), pci_(pci), hpc_(hpc), sockets_(std::move(sockets)) {
    device_hotplug_lock_.name = "device_hotplug_lock";
}

void acpi_container::step(unsigned s, const std::string& what) {
    k_.trace("acpi", "container.step", json_obj().set("socket", s).set("step", what));
    if (on_step) on_step(s, what);
}

// The work runs in a task bound to a CPU outside the socket: an unbound worker
// would be migrated off a CPU being offlined; this one never sits on one.
void acpi_container::run_off_socket(unsigned s, const std::string& name, std::function<void()> fn) {
    const auto& cpus = sockets_.at(s).cpus;
    auto outside = [&](unsigned c) { return k_.cpu_online(c) && std::find(cpus.begin(), cpus.end(), c) == cpus.end(); };
    unsigned first = 0;
    while (first < k_.nr_cpus() && !outside(first)) ++first;
    if (first == k_.nr_cpus()) {  // nothing else online: the OS cannot take its last CPUs away
        k_.printk("acpi " + this->name(s) + ": no CPU outside the container is online");
        if (on_done) on_done(s, false, -16, "no CPU outside the socket is online");
        return;
    }
    const unsigned idle = k_.idle_cpu(first);
    k_.kthread_run(name, outside(idle) ? idle : first, std::move(fn), false, true);
}

void acpi_container::eject_request(unsigned s) {
    k_.printk("acpi " + name(s) + ": eject request");
    run_off_socket(s, "acpi_eject", [this, s] { remove(s); });
}

void acpi_container::hot_add(unsigned s) {
    k_.printk("acpi " + name(s) + ": hot add");
    run_off_socket(s, "acpi_scan", [this, s] { add(s); });
}

void acpi_container::remove(unsigned s) {
    const socket& so = sockets_.at(s);
    k_.mutex_lock(device_hotplug_lock_);
    // acpi_scan_try_to_offline: children first, in namespace order: the
    // processors, then the memory device [inference: the order of the
    // container's objects in the firmware's namespace].
    std::vector<unsigned> offlined;
    int err = 0;
    std::string why;
    for (unsigned c : so.cpus) {
        if (!k_.cpu_online(c)) continue;
        step(s, strfmt("offline CPU %u", c));
        const int rc = k_.cpu_down(c);
        if (rc < 0) {
            err = rc;
            why = strfmt("CPU %u offline failed (%d)", c, rc);
            break;
        }
        offlined.push_back(c);
    }
    if (!err && k_.node_memory_online(so.node)) {
        step(s, strfmt("offline memory of node %u", so.node));
        const uint64_t lo = k_.config().node_ram.at(so.node).first;
        const uint64_t hi = lo + k_.config().node_ram.at(so.node).second - 1;
        err = k_.offline_node_memory(so.node, why);
        if (err) {
            if (err == -11)  // the timeout's failed_removal logs; 3.10's isolation failure does not
                k_.printk(strfmt("memory offlining [mem %#010llx-%#010llx] failed", (unsigned long long)lo,
                                 (unsigned long long)hi));
            why = strfmt("memory of node %u: ", so.node) + why;
        }
    }
    if (err) {
        // acpi_bus_online: what this attempt took offline comes back; _OST
        // reports the failure to the firmware, which keeps the socket.
        k_.printk("acpi " + name(s) + ": Offline failed.");
        for (unsigned c : offlined) k_.cpu_up(c);
        k_.mutex_unlock(device_hotplug_lock_);
        if (on_done) on_done(s, false, err, why);
        return;
    }
    // acpi_bus_trim: the host bridge's devices (their drivers' remove), then
    // the processors and the memory device unregistered.
    if (so.bridge >= 0) {
        step(s, strfmt("remove PCI host bridge pci0000:%02x", pci_.bridges().at(unsigned(so.bridge)).bus_lo));
        k_.mutex_lock(pci_.scan_lock());
        pci_.remove_bridge(unsigned(so.bridge));
        if (host_bridge_hook) host_bridge_hook(unsigned(so.bridge), false);
        k_.mutex_unlock(pci_.scan_lock());
    }
    step(s, "remove processors and memory");
    for (unsigned c : so.cpus) k_.set_cpu_present(c, false);
    step(s, "_EJ0");
    using namespace models::hpc;
    k_.writel(CMD_EJECT, hpc_ + SOCKET_BLOCK + IOH_STRIDE * s + COMMAND);
    k_.printk("acpi " + name(s) + ": ejected");
    k_.mutex_unlock(device_hotplug_lock_);
    if (on_done) on_done(s, false, 0, "");
}

// acpi_bus_scan of the container: its processors made present, its memory
// added, its host bridge scanned (the devices probed) in the scan itself;
// memory and CPUs come online afterwards, from user space, as the udev rules
// of the era do it [inference: the order of the container's objects].
void acpi_container::add(unsigned s) {
    const socket& so = sockets_.at(s);
    k_.mutex_lock(device_hotplug_lock_);
    step(s, "add processors");
    for (unsigned c : so.cpus) {
        k_.set_cpu_present(c, true);
        k_.printk(strfmt("CPU%u has been hot-added", c));
    }
    if (so.bridge >= 0) {
        step(s, strfmt("scan PCI host bridge pci0000:%02x", pci_.bridges().at(unsigned(so.bridge)).bus_lo));
        k_.mutex_lock(pci_.scan_lock());
        if (host_bridge_hook) host_bridge_hook(unsigned(so.bridge), true);
        pci_.scan_bridge(unsigned(so.bridge));
        k_.mutex_unlock(pci_.scan_lock());
    }
    k_.mutex_unlock(device_hotplug_lock_);
    step(s, strfmt("online memory of node %u", so.node));
    k_.online_node_memory(so.node);
    for (unsigned c : so.cpus) {
        step(s, strfmt("online CPU %u", c));
        k_.cpu_up(c);
    }
    if (on_done) on_done(s, true, 0, "");
}

}  // namespace ioatsim::sw
