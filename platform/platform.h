// Turns a scenario's platform and software sections into a module hierarchy, an
// address map and interrupt routing, then boots the simulated software. The only
// place that wires models/ to sw/.
#pragma once
#include "platform/params.h"
#include "platform/scenario.h"

#include <memory>
#include <vector>

namespace ioatsim::models {
class cpu; class dram; class router; class msi_bus; class root_complex; class ioat_function;
class pci_function_if;
}
namespace ioatsim::sw {
class kernel; class pci_subsys; class dmaengine; class dmatest;
}

namespace ioatsim {

// The system address map of one IOH machine (below 4 GiB, as a BIOS lays it out).
struct address_map {
    static constexpr uint64_t dram_base = 0;
    static constexpr uint64_t dram_max = 0xC0000000;   // 3 GiB, then the MMIO hole
    static constexpr uint64_t mmio_base = 0xD0000000;  // BARs
    static constexpr uint64_t mmio_size = 0x10000000;
    static constexpr uint64_t ecam_base = 0xE0000000;  // bus 0 configuration space
};

class platform {
public:
    platform(const scenario& sc, const params& p);
    ~platform();

    // Called once the simulation is about to start; spawns the boot task.
    void boot();
    bool software_idle() const;

    models::dram& memory() { return *dram_; }
    models::cpu& cpu(unsigned i) { return *cpus_.at(i); }
    models::pci_function_if* find_function(const std::string& bdf);
    bool in_memory(uint64_t addr, uint64_t len) const;
    models::ioat_function& ioat(unsigned i) { return *ioat_.at(i); }
    unsigned ioat_count() const { return unsigned(ioat_.size()); }
    sw::kernel* kernel() { return kernel_.get(); }

private:
    void firmware_assign_bars();

    const scenario& sc_;
    const params& p_;
    std::vector<std::unique_ptr<models::cpu>> cpus_;
    std::unique_ptr<models::router> router_;
    std::unique_ptr<models::dram> dram_;
    std::unique_ptr<models::msi_bus> msi_;
    std::unique_ptr<models::root_complex> rc_;
    std::vector<std::unique_ptr<models::ioat_function>> ioat_;
    std::unique_ptr<sw::kernel> kernel_;
    std::unique_ptr<sw::pci_subsys> pci_;
    std::unique_ptr<sw::dmaengine> dma_;
    std::unique_ptr<sw::dmatest> dmatest_;
};

}  // namespace ioatsim
