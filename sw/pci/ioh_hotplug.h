// IOH hot-plug for the OS, in the role of the ACPI container/host-bridge hot-plug
// code: an eject request removes every device below the IOH's host bridge, then
// ejects it; a surprise removal is cleaned up after the fact; a hot-add rescans.
// The controller's address comes from the platform's ACPI description. The work
// runs on kacpi_hotplug, an unbound single-threaded workqueue in 3.4
// (drivers/acpi/osl.c): any idle CPU takes it.
#pragma once
#include "sw/acpi/container.h"
#include "sw/kernel/kernel.h"
#include "sw/pci/pci.h"

#include <functional>

namespace ioatsim::sw {

class ioh_hotplug {
public:
    ioh_hotplug(kernel& k, pci_subsys& pci, uint64_t base);
    void init();  // from a task: interrupt, enable
    // Called when the OS has finished with an IOH's event: its devices all
    // removed (and, when asked, the IOH ejected), or its devices scanned.
    void on_done(std::function<void(unsigned ioh, bool added)> fn) { done_ = std::move(fn); }
    // The host bridge's own resources as later kernels handle them in
    // acpi_pci_root_add/remove (4.x: dmar_device_add before its bus is scanned,
    // dmar_device_remove once its devices are removed, before the eject).
    // Unset, as in 3.4: nothing.
    std::function<void(unsigned ioh, bool added)> host_bridge_hook;
    // The sockets' container events go to `c` (before init).
    void set_container(acpi_container* c) { container_ = c; }

private:
    void handle();  // on the kacpi_hotplug worker
    std::string acpi_name(unsigned i) const { return strfmt("PNP0A08:%02x", i); }

    kernel& k_;
    pci_subsys& pci_;
    uint64_t base_;
    kernel::workqueue* wq_ = nullptr;
    acpi_container* container_ = nullptr;
    unsigned sockets_ = 0;  // container blocks, as the namespace lists them at init
    std::function<void(unsigned, bool)> done_;
};

}  // namespace ioatsim::sw
