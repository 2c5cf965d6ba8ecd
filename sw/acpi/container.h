// A processor socket's hot-plug as an ACPI container (ACPI0004) holding its
// CPUs, its memory node and, on integrated-IIO parts, the PCI host bridge of
// its IIO (docs/sources/socket-hotplug.md §1). Removal as 3.10's
// acpi_bus_device_eject / acpi_scan_hot_remove does it: offline every CPU and
// the memory (rolled back, "Offline failed.", when one cannot go), then trim
// (the host bridge's devices removed, processors and memory unregistered),
// then _EJ0. Hot-add scans the container: processors, memory, host bridge.
#pragma once
#include "sw/kernel/kernel.h"
#include "sw/pci/pci.h"

#include <functional>
#include <string>
#include <vector>

namespace ioatsim::sw {

class acpi_container {
public:
    struct socket {
        std::vector<unsigned> cpus;
        unsigned node = 0;
        int bridge = -1;  // the IIO's host bridge (pci_subsys index), or none
    };
    // `hpc` is the ACPI hot-plug registers' base: _EJ0 is a command there (the
    // firmware powers the socket off).
    acpi_container(kernel& k, pci_subsys& pci, uint64_t hpc, std::vector<socket> sockets);

    // On the kacpi_hotplug worker: an eject request, or the socket back.
    void eject_request(unsigned s);
    void hot_add(unsigned s);

    // The operation's progress, for the platform: each step as it begins, and
    // the end (`err` < 0: the step that failed and why; the OS rolled back).
    std::function<void(unsigned s, const std::string& step)> on_step;
    std::function<void(unsigned s, bool added, int err, const std::string& why)> on_done;
    // The host bridge's own resources (ioh_hotplug::host_bridge_hook).
    std::function<void(unsigned bridge, bool added)> host_bridge_hook;

private:
    void remove(unsigned s);
    void add(unsigned s);
    void step(unsigned s, const std::string& what);
    void run_off_socket(unsigned s, const std::string& name, std::function<void()> fn);
    std::string name(unsigned s) const { return strfmt("ACPI0004:%02x", s); }

    kernel& k_;
    pci_subsys& pci_;
    uint64_t hpc_;
    std::vector<socket> sockets_;
    mutex device_hotplug_lock_;
};

}  // namespace ioatsim::sw
