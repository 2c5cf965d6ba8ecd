// Turns a scenario's platform and software sections into a module hierarchy, an
// address map and interrupt routing, then boots the simulated software. The only
// place that wires models/ to sw/.
#pragma once
#include "models/core/json.h"
#include "platform/params.h"
#include "platform/scenario.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ioatsim::models {
class cpu; class dram; class router; class msi_bus; class ioh; class ioat_function;
class pci_function_if; class hotplug_controller; class bandwidth;
}
namespace ioatsim::sw {
class kernel; class pci_subsys; class dmaengine; class dmatest; class ioh_hotplug; class net_dma;
class async_tx; struct module; class acpi_container;
class dca_core; class dca_requester; class dma_mapping;
}

namespace ioatsim {

// The system address map, as the BIOS of a Nehalem/Westmere machine lays it out.
struct address_map {
    static constexpr uint64_t low_dram_max = 0xC0000000;   // node 0 below the 3 GiB hole
    static constexpr uint64_t node_stride = 64ull << 30;   // node n >= 1 at n * 64 GiB
    static constexpr uint64_t mmio_base = 0xC0000000;      // BAR windows, split among IOHs
    static constexpr uint64_t mmio_size = 0x20000000;
    static constexpr uint64_t ecam_base = 0xE0000000;      // segment 0, buses 0-255
    static uint64_t dram_base(unsigned node) { return node ? node * node_stride : 0; }
    // IOH n's VT-d register block (4 KiB): 0xFBFFE000 is the X58/5520 DRHD base
    // of a public DMAR table (dma-mapping-vtd.md 5.7); each further IOH 8 KiB
    // lower, leaving +0x1000 to the isochronous unit as on that board [inference].
    static constexpr uint64_t vtd_top = 0xFBFFE000, vtd_stride = 0x2000, vtd_size = 0x1000;
    static uint64_t vtd_base(unsigned ioh) { return vtd_top - ioh * vtd_stride; }
};

class platform {
public:
    platform(const scenario& sc, const params& p);
    ~platform();

    void boot();    // spawns the boot task (no-op without an OS)
    // End of run, for the checker: tasks hung, copies lost, module pins leaked,
    // operations unfinished, boot unfinished, clients that made no progress.
    void finish();

    unsigned cpu_count() const { return unsigned(cpus_.size()); }
    models::cpu& cpu(unsigned i) { return *cpus_.at(i); }
    unsigned ioh_count() const { return unsigned(iohs_.size()); }
    models::ioh& ioh(unsigned i) { return *iohs_.at(i); }
    models::pci_function_if* find_function(const std::string& bdf);
    unsigned ioat_count() const;
    models::ioat_function& ioat(unsigned i);  // over all IOHs, in bus order

    bool in_memory(uint64_t addr, uint64_t len) const;
    void mem_peek(uint64_t addr, void* dst, uint64_t len);
    void mem_poke(uint64_t addr, const void* src, uint64_t len);

    sw::kernel* kernel() { return kernel_.get(); }
    sw::pci_subsys* pci() { return pci_.get(); }
    sw::dmaengine* dma() { return dma_.get(); }
    sw::dca_core* dca() { return dca_.get(); }
    // The DMA-mapping layer (software.iommu, software.dma_debug); null when both
    // are off: drivers and clients then hand the engine physical addresses.
    sw::dma_mapping* dma_mapping() { return dma_map_.get(); }

    // Timeline events. With an OS the software takes part as Linux would; without
    // one they change the hardware only.
    void ioh_remove(unsigned n, bool surprise);
    void ioh_add(unsigned n);
    void cpu_set_online(unsigned n, bool online);
    // A processor socket as an ACPI container (platform_socket.cpp): its CPUs,
    // its memory node and, with ioh.integrated, its IIO.
    void socket_remove(unsigned n);
    void socket_add(unsigned n);
    unsigned socket_count() const { return unsigned(drams_.size()); }
    // In a process forked from one that goes on simulating: see dram::unshare.
    void unshare_memory();
    bool integrated() const;  // ioh.integrated: IOH n is socket n's IIO
    void pci_unbind(const std::string& bdf);
    void pci_bind(const std::string& bdf);

    // For summary.json (metrics.cpp): removal (requests, completion, latency to
    // the OS's end of it and to the last device memory freed), throughput
    // before, during and after, copies by outcome in all and per client, and
    // what channel references cost. Every key is there whatever happened.
    void removal_summary(json_obj& summary);
    // summary.json's dma_mapping (when the layer exists): what mapping cost per
    // operation, from the dma_map.* and vtd.* counters; `dma_ops`: the copies
    // the clients submitted.
    json_obj dma_mapping_summary(uint64_t dma_ops);

    // An operation the timeline asked the OS for (a removal, unbind, hot-add,
    // CPU offline or online): unfinished at the end, it is removal_incomplete.
    struct os_op {
        std::string what;
        bool removal = false;
        int ioh = -1;            // the IOH it acts on, if any
        uint64_t requested_ps = 0, done_ps = 0;
        bool done = false;
        int socket = -1;         // the socket it acts on, if any
        std::string step;        // what the OS is doing for it (socket operations)
        std::string failed;      // done, but failed: why (the OS rolled back)
    };
    const std::vector<os_op>& os_ops() const { return ops_; }
    bool ops_pending() const;  // an operation asked for has not finished

private:
    size_t op_begin(const std::string& what, bool removal, int ioh = -1);
    void op_end(size_t i);
    void boot_step(const std::string& what);
    void firmware_assign_bars(models::ioh& h);
    void firmware_dca(models::ioh& h);  // the BIOS programs each function's APICID_TAG_MAP
    void make_dca();                    // the DCA service and the requester NIC
    void make_container();              // platform_socket.cpp: the sockets' ACPI containers
    void socket_power(unsigned n, bool on);
    uint32_t socket_status(unsigned n) const;
    // platform_dma.cpp: the DMA-mapping layer and its wiring; at boot,
    // pci_iommu_init; at an IOH's removal and return, its DMAR unit.
    void make_dma_mapping();
    void boot_iommu();
    void dmar_ioh_changed(unsigned ioh, bool added);
    models::dram* node_of(uint64_t addr, uint64_t len) const;
    // The memory path from `from_node`: the DRAM node of `addr`, and the QPI link
    // when that is another node. When `bytes` asked for at `at_ps` are through.
    uint64_t memory_path(unsigned from_node, uint64_t at_ps, uint64_t addr, uint64_t bytes);
    void run_as_root(const std::string& what, std::function<void()> fn);

    const scenario& sc_;
    const params& p_;
    std::vector<std::unique_ptr<models::cpu>> cpus_;
    std::unique_ptr<models::router> router_;
    std::vector<std::unique_ptr<models::dram>> drams_;
    std::vector<std::unique_ptr<models::bandwidth>> dram_bw_;            // per node
    std::map<std::pair<unsigned, unsigned>, std::unique_ptr<models::bandwidth>> qpi_;  // per direction
    double qpi_gbps_ = 0;
    std::unique_ptr<models::msi_bus> msi_;
    std::vector<std::unique_ptr<models::ioh>> iohs_;
    std::unique_ptr<models::hotplug_controller> hpc_;
    std::unique_ptr<sw::kernel> kernel_;
    std::unique_ptr<sw::pci_subsys> pci_;
    std::unique_ptr<sw::dmaengine> dma_;
    std::unique_ptr<sw::ioh_hotplug> hotplug_;
    std::unique_ptr<sw::dmatest> dmatest_;
    std::unique_ptr<sw::net_dma> net_dma_;
    std::unique_ptr<sw::async_tx> async_tx_;
    std::unique_ptr<sw::acpi_container> container_;
    std::vector<bool> socket_present_;
    std::unique_ptr<sw::dca_core> dca_;
    std::unique_ptr<sw::dca_requester> dca_requester_;
    sw::module* ioat_module_ = nullptr;
    std::unique_ptr<sw::dma_mapping> dma_map_;
    struct watch_guard {  // the kernel's CPU-write watcher goes before the kernel
        const sw::kernel* k = nullptr;
        ~watch_guard();
    } watch_;
    std::vector<os_op> ops_;
    std::string boot_step_;        // what init is doing; empty once boot has finished
    uint64_t boot_step_since_ = 0;
};

}  // namespace ioatsim
