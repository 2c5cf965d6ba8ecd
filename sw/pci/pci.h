// The simulated PCI core: enumeration through configuration cycles under every
// host bridge, BAR sizing and assignment (keeping what firmware assigned, as Linux
// does), MSI-X set-up, binding drivers by ID, and removal: unbind, bind, removing
// a whole host bridge's devices and rescanning it. Logs as Linux does.
#pragma once
#include "sw/kernel/kernel.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ioatsim::sw {

struct pci_driver;
struct dma_map_ops;
class dma_mapping;

// arch/x86/include/asm/device.h (3.4, X86_64): the device's own DMA ops, NULL
// for the global ones, and the IOMMU's per-device data (intel-iommu's
// device_domain_info). Set by sw/dma-mapping's bus notifier.
struct dev_archdata {
    const dma_map_ops* dma_ops = nullptr;
    void* iommu = nullptr;
};

// include/linux/device.h (3.4): what a bus notifier is told, and when.
enum : unsigned long {
    BUS_NOTIFY_ADD_DEVICE = 1,      // added, before any driver probes it
    BUS_NOTIFY_DEL_DEVICE = 2,      // being removed, before its driver is unbound
    BUS_NOTIFY_BIND_DRIVER = 3,     // a driver is about to probe it
    BUS_NOTIFY_BOUND_DRIVER = 4,    // probe succeeded
    BUS_NOTIFY_UNBIND_DRIVER = 5,   // its driver is about to let go
    BUS_NOTIFY_UNBOUND_DRIVER = 6,  // its driver has let go (remove and managed resources done)
};

struct pci_dev {
    uint16_t domain = 0;
    uint8_t bus = 0, devfn = 0;
    uint16_t vendor = 0, device = 0;
    uint32_t class_code = 0;
    uint8_t revision = 0, header_type = 0;
    unsigned bridge = 0;            // index of the host bridge above it
    unsigned node = 0;              // NUMA node of that host bridge
    uint64_t cfg_base = 0;          // ECAM address of this function
    uint64_t resource_start[6] = {}, resource_len[6] = {};
    std::string name;               // "0000:00:16.0"
    pci_driver* driver = nullptr;
    void* drvdata = nullptr;
    bool msix_enabled = false;
    unsigned irq_cpu = 0;
    int msix_vector = -1;           // kernel vector of entry 0
    uint64_t msix_table = 0;        // its ioremapped entry
    bool removed = false;           // gone from the bus; kept so old pointers stay valid
    // device_lock: held across probe, remove and error reporting, so a removal
    // waits for a probe in progress (and the other way round).
    mutex lock;
    // Managed resources (pcim_*, devm_*): released in reverse order after the
    // driver's remove() returns.
    std::vector<std::function<void()>> devres;
    // struct device's DMA fields: pci_setup_device gives every function 32-bit
    // masks; 0 stands for a NULL dma_mask (not DMA capable).
    uint64_t dma_mask = 0xffffffffull, coherent_dma_mask = 0xffffffffull;
    dev_archdata archdata;
    // Model-only: the platform's DMA-mapping layer, set when the device gets
    // its ops; none (software.iommu off, dma_debug off) means the bus address
    // is the physical one at no cost, as the model ran before the layer.
    dma_mapping* dma_layer = nullptr;
};

struct pci_device_id { uint16_t vendor, device; };

struct pci_driver {
    std::string name;
    std::vector<pci_device_id> id_table;
    std::function<int(pci_dev&)> probe;
    std::function<void(pci_dev&)> remove;
    // err_handler->error_detected with pci_channel_io_perm_failure: the device is
    // gone for good; the driver stops using it before remove() comes.
    std::function<void(pci_dev&)> error_detected;
};

class pci_subsys {
public:
    struct host_bridge {
        uint8_t bus_lo, bus_hi;
        uint64_t ecam_base;   // of bus_lo
        uint64_t mmio_base, mmio_size;
        unsigned node;
    };

    pci_subsys(kernel& k, std::vector<host_bridge> bridges);

    void scan();                                // every host bridge, at boot
    // The callers of scan_bridge, remove_bridge and report_offline hold scan_lock:
    // the ACPI scan at boot and the hotplug work are serialised by it (3.9's
    // acpi_scan_lock), so a removal never meets a bus half enumerated.
    mutex& scan_lock() { return scan_lock_; }
    void scan_bridge(unsigned b);               // enumerate, assign, bind what is new
    void remove_bridge(unsigned b);             // remove every device below it, last first
    void report_offline(unsigned b);            // tell every driver below it its device is gone
    void register_driver(pci_driver& drv);      // and bind it to every matching device
    int unbind(const std::string& name);        // sysfs driver/unbind
    int bind(const std::string& name);          // sysfs drivers_probe
    const std::vector<host_bridge>& bridges() const { return bridges_; }
    std::vector<pci_dev*> devices() const;      // present ones, in bus order
    pci_dev* find(const std::string& name);

    uint32_t read_config(pci_dev& d, unsigned off, unsigned len);
    void write_config(pci_dev& d, unsigned off, unsigned len, uint32_t v);
    int enable_device(pci_dev& d);
    void set_master(pci_dev& d);
    // The managed forms a driver's probe uses: enable (pci_disable_device, which
    // clears Bus Master, at release) and map a BAR (unmapped at release).
    int pcim_enable_device(pci_dev& d);
    uint64_t pcim_iomap(pci_dev& d, int bar);
    unsigned find_capability(pci_dev& d, uint8_t id);
    // One MSI-X vector (entry 0) targeting `cpu`; returns 0 or -errno. The entry is
    // reprogrammed if the CPU goes offline. The managed form is disabled, its
    // vector freed, at release (devm_request_irq, pcim).
    int enable_msix(pci_dev& d, unsigned cpu, const std::string& name, std::function<void()> handler);
    int pcim_enable_msix(pci_dev& d, unsigned cpu, const std::string& name, std::function<void()> handler);
    void disable_msix(pci_dev& d);
    int enable_msi(pci_dev& d, unsigned cpu, const std::string& name, std::function<void()> handler);

    // bus_register_notifier(&pci_bus_type, ...): every notifier is told each
    // BUS_NOTIFY_* event, in the order they registered (the DMA-mapping layer
    // chooses a device's ops on ADD_DEVICE).
    using bus_notifier = std::function<void(unsigned long action, pci_dev& d)>;
    void bus_register_notifier(bus_notifier fn) { notifiers_.push_back(std::move(fn)); }
    void bus_notify(unsigned long action, pci_dev& d) {
        for (auto& fn : notifiers_) fn(action, d);
    }

private:
    void probe_function(unsigned b, uint8_t dev, uint8_t fn);
    void size_bars(pci_dev& d, unsigned b);
    bool probe(pci_dev& d, pci_driver& drv);             // device_lock held
    void attach(pci_dev& d, pci_driver* only = nullptr);  // any driver, or `only`
    void remove_device(pci_dev& d);
    void log(pci_dev& d, const std::string& text) { k_.dev_printk("pci", d.name, text); }

    kernel& k_;
    const ktime_t cfg_code_;  // costs.h
    std::vector<host_bridge> bridges_;
    std::vector<uint64_t> next_mmio_;
    std::vector<std::unique_ptr<pci_dev>> devs_;  // every device ever seen
    std::vector<pci_driver*> drivers_;
    mutex scan_lock_;
    std::vector<bus_notifier> notifiers_;
};

}  // namespace ioatsim::sw
