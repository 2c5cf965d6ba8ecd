#include "tools/lspci.h"

#include "platform/params.h"
#include "platform/platform.h"
#include "sw/kernel/kernel.h"
#include "sw/pci/pci.h"

#include <systemc>

#include <cstdio>
#include <map>

namespace ioatsim {

namespace {

std::string device_name(uint16_t vendor, uint16_t device) {
    if (vendor != 0x8086) return "Device";
    switch (device) {
    case 0x3408: return "5520/5500/X58 I/O Hub PCI Express Root Port 1";
    case 0x340a: return "5520/5500/X58 I/O Hub PCI Express Root Port 3";
    case 0x3429: case 0x342a: case 0x342b: case 0x342c:
    case 0x3430: case 0x3431: case 0x3432: case 0x3433:
        return "5520/5500/X58 Chipset QuickData Technology Device";
    case 0x0e20: case 0x0e21: case 0x0e22: case 0x0e23:
    case 0x0e24: case 0x0e25: case 0x0e26: case 0x0e27:  // pci.ids' names, as pciconf prints them
        return "Xeon E7 v2/Xeon E5 v2/Core i7 Crystal Beach DMA Channel " + std::to_string(device - 0x0e20);
    }
    return "Device";
}

std::string class_name(uint32_t class_code) {
    switch (class_code >> 8) {
    case 0x0604: return "PCI bridge";
    case 0x0880: return "System peripheral";
    }
    return "Class";
}

std::string slot(const sw::pci_dev& d) {
    char b[8];
    std::snprintf(b, sizeof b, "%02x.%u", d.devfn >> 3, d.devfn & 7);
    return b;
}

}  // namespace

void lspci(const scenario& in, std::ostream& out) {
    scenario sc = in;  // enumeration only: an OS, no clients, no timeline
    sc.os = "linux";
    sc.dmatest.enabled = false;
    sc.timeline.clear();
    params p = params::resolve(sc);
    platform plat(sc, p);
    plat.kernel()->set_idle_callback([] { sc_core::sc_stop(); });
    plat.boot();
    sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_SEC));

    std::map<unsigned, std::vector<sw::pci_dev*>, std::greater<unsigned>> buses;
    for (sw::pci_dev* d : plat.pci()->devices()) buses[d->bus].push_back(d);
    size_t i = 0;
    for (auto& [bus, devs] : buses) {
        char head[24];
        std::snprintf(head, sizeof head, "[0000:%02x]-", bus);
        std::string lead = buses.size() == 1 ? "-" : i == 0 ? "-+-" : i + 1 == buses.size() ? " \\-" : " +-";
        std::string pad = std::string(lead.size() + 10, ' ');
        if (buses.size() > 1 && i + 1 < buses.size()) pad[1] = '|';
        for (size_t j = 0; j < devs.size(); ++j) {
            std::string branch = devs.size() == 1 ? "--" : j + 1 == devs.size() ? "\\-" : "+-";
            std::string prefix = j == 0 ? lead + head + branch : pad + branch;
            out << prefix << slot(*devs[j]) << "  Intel Corporation " << device_name(devs[j]->vendor, devs[j]->device)
                << '\n';
        }
        ++i;
    }
    out << '\n';
    for (sw::pci_dev* d : plat.pci()->devices()) {
        char line[200];
        std::snprintf(line, sizeof line, "%02x:%s %s [%04x]: Intel Corporation %s [%04x:%04x] (rev %02x)", d->bus,
                      slot(*d).c_str(), class_name(d->class_code).c_str(), d->class_code >> 8,
                      device_name(d->vendor, d->device).c_str(), d->vendor, d->device, d->revision);
        out << line << '\n';
        if (d->driver) out << "\tKernel driver in use: " << d->driver->name << '\n';
    }
}

}  // namespace ioatsim
