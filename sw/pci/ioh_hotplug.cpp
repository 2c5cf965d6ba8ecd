#include "sw/pci/ioh_hotplug.h"

#include "models/ioh/hotplug_controller.h"

namespace ioatsim::sw {
using namespace models::hpc;

ioh_hotplug::ioh_hotplug(kernel& k, pci_subsys& pci, uint64_t base) : k_(k), pci_(pci), base_(base) {}

void ioh_hotplug::init() {
    k_.ioremap(base_, models::hpc::SIZE);  // the ACPI-described registers, mapped for good
    unsigned cpu = k_.smp_processor_id();
    wq_ = k_.create_workqueue("kacpi_hotplug", cpu, true);
    auto program = [this](unsigned to_cpu, int vector) {
        k_.writel(uint32_t(k_.msi_address(to_cpu)), base_ + MSI_ADDR);
        k_.writel(uint32_t(k_.msi_address(to_cpu) >> 32), base_ + MSI_ADDR_HI);
        k_.writel(uint32_t(vector), base_ + MSI_DATA);
    };
    // The interrupt only queues the work: removal sleeps, interrupts may not.
    int vector = k_.request_irq(cpu, "acpi-hotplug", [this] { k_.queue_work(wq_, [this] { handle(); }); }, program);
    program(cpu, vector);
    if (container_) sockets_ = k_.readl(base_ + SOCKET_COUNT);
    k_.writel(CTRL_INT_EN, base_ + CTRL);
}

void ioh_hotplug::handle() {
    unsigned n = k_.readl(base_ + COUNT);
    for (unsigned i = 0; i < n && i < pci_.bridges().size(); ++i) {
        uint64_t reg = base_ + IOH_BLOCK + IOH_STRIDE * i;
        uint32_t ev = k_.readl(reg + EVENT);
        if (!ev || ev == 0xffffffffu) continue;
        k_.writel(ev, reg + EVENT);
        uint32_t st = k_.readl(reg + STATUS);
        // The event is noted at once; acting on it waits for any scan in progress.
        if (ev & EVENT_EJECT_REQUEST) {
            k_.printk("acpi " + acpi_name(i) + ": eject request");
            k_.mutex_lock(pci_.scan_lock());
            pci_.remove_bridge(i);
            if (host_bridge_hook) host_bridge_hook(i, false);
            k_.writel(CMD_EJECT, reg + COMMAND);
            k_.printk("acpi " + acpi_name(i) + ": ejected");
            if (done_) done_(i, false);
        } else if ((ev & EVENT_PRESENCE) && !(st & STATUS_PRESENT)) {
            k_.printk("pci_root " + acpi_name(i) + ": device gone (surprise removal)");
            k_.mutex_lock(pci_.scan_lock());
            pci_.report_offline(i);
            pci_.remove_bridge(i);
            if (host_bridge_hook) host_bridge_hook(i, false);
            if (done_) done_(i, false);
        } else if ((ev & EVENT_PRESENCE) && (st & STATUS_PRESENT)) {
            k_.printk("pci_root " + acpi_name(i) + ": hot add");
            k_.mutex_lock(pci_.scan_lock());
            if (host_bridge_hook) host_bridge_hook(i, true);
            pci_.scan_bridge(i);
            if (done_) done_(i, true);
        } else {
            continue;
        }
        k_.mutex_unlock(pci_.scan_lock());
    }
    for (unsigned i = 0; i < sockets_; ++i) {
        uint64_t reg = base_ + SOCKET_BLOCK + IOH_STRIDE * i;
        uint32_t ev = k_.readl(reg + EVENT);
        if (!ev || ev == 0xffffffffu) continue;
        k_.writel(ev, reg + EVENT);
        uint32_t st = k_.readl(reg + STATUS);
        if (ev & EVENT_EJECT_REQUEST) container_->eject_request(i);
        else if ((ev & EVENT_PRESENCE) && (st & STATUS_PRESENT)) container_->hot_add(i);
    }
}

}  // namespace ioatsim::sw
