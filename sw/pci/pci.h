// The simulated PCI core: enumeration through configuration cycles, BAR sizing and
// assignment, MSI-X set-up, and binding drivers by ID, logging as Linux does.
#pragma once
#include "sw/kernel/kernel.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ioatsim::sw {

struct pci_driver;

struct pci_dev {
    uint16_t domain = 0;
    uint8_t bus = 0, devfn = 0;
    uint16_t vendor = 0, device = 0;
    uint32_t class_code = 0;
    uint8_t revision = 0;
    uint64_t cfg_base = 0;          // ECAM address of this function
    uint64_t resource_start[6] = {}, resource_len[6] = {};
    std::string name;               // "0000:00:16.0"
    pci_driver* driver = nullptr;
    void* drvdata = nullptr;
    bool msix_enabled = false;
    unsigned irq_cpu = 0;
    int msix_vector = -1;           // kernel vector of entry 0
};

struct pci_device_id { uint16_t vendor, device; };

struct pci_driver {
    std::string name;
    std::vector<pci_device_id> id_table;
    std::function<int(pci_dev&)> probe;
    std::function<void(pci_dev&)> remove;
};

class pci_subsys {
public:
    struct host_bridge { uint8_t bus; uint64_t ecam_base, mmio_base, mmio_size; };

    pci_subsys(kernel& k, std::vector<host_bridge> bridges);

    void scan();                          // enumerate every bridge's bus, assign BARs
    void register_driver(pci_driver& drv);  // and bind it to every matching device
    const std::vector<std::unique_ptr<pci_dev>>& devices() const { return devs_; }
    pci_dev* find(const std::string& name);

    uint32_t read_config(pci_dev& d, unsigned off, unsigned len);
    void write_config(pci_dev& d, unsigned off, unsigned len, uint32_t v);
    int enable_device(pci_dev& d);
    void set_master(pci_dev& d);
    unsigned find_capability(pci_dev& d, uint8_t id);
    // One MSI-X vector (entry 0) targeting `cpu`; returns 0 or -errno.
    int enable_msix(pci_dev& d, unsigned cpu, const std::string& name, std::function<void()> handler);
    void disable_msix(pci_dev& d);

private:
    void probe_function(host_bridge& hb, uint8_t dev, uint8_t fn);
    void size_bars(pci_dev& d, host_bridge& hb);
    bool bind(pci_dev& d, pci_driver& drv);
    void log(pci_dev& d, const std::string& text) { k_.dev_printk("pci", d.name, text); }

    kernel& k_;
    std::vector<host_bridge> bridges_;
    std::vector<uint64_t> next_mmio_;
    std::vector<std::unique_ptr<pci_dev>> devs_;
    std::vector<pci_driver*> drivers_;
};

}  // namespace ioatsim::sw
