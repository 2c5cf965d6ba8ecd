// One I/O hub: its root complex, the eight IOAT functions (device 0x16 of a
// 5520/7500, device 4 of a processor's integrated I/O), its root ports and its
// DMA-remapping (VT-d) unit. Presence is a state the
// platform changes: the link can go down (surprise removal), power can be cut
// and restored (a fresh device, registers at reset values).
#pragma once
#include "models/ioat/ioat_function.h"
#include "models/ioh/ioh_layout.h"
#include "models/ioh/vtd.h"
#include "models/pcie/root_complex.h"
#include "models/pcie/root_port.h"

#include <systemc>

#include <functional>
#include <map>
#include <memory>
#include <vector>

namespace ioatsim::models {

struct ioh_config {
    unsigned index = 0;
    uint8_t bus_lo = 0x00, bus_hi = 0x7f;
    uint64_t ecam_base = 0, mmio_base = 0, mmio_size = 0;
    unsigned node = 0;               // NUMA node the IOH's QPI port attaches to
    unsigned ioat_functions = 8;
    unsigned root_ports = 0;
    bool shared_engine = true;       // one data mover for all its IOAT channels
    ioat_id_set ioat_ids = ioat_id_set::tbg;
    uint8_t ioat_device = 0x16;      // the IOAT functions' PCI device number
    ioat_config ioat;
    root_complex_timing rc;
    bool vtd_enabled = false;        // a remapping unit translating the functions' DMA
    vtd_config vtd;
};

class ioh : public sc_core::sc_module {
public:
    ioh(sc_core::sc_module_name name, const ioh_config& cfg);

    const ioh_config& cfg() const { return cfg_; }
    root_complex& rc() { return rc_; }
    unsigned ioat_count() const { return unsigned(ioat_.size()); }
    ioat_function& ioat(unsigned i) { return *ioat_.at(i); }
    root_port& port(unsigned i) { return *ports_.at(i); }
    unsigned port_count() const { return unsigned(ports_.size()); }
    // The DMA-remapping unit, or null when the IOH is built without one. The
    // platform binds its `mem` socket and maps its `regs`.
    vtd_unit* vtd() { return vtd_.get(); }
    pci_function_if* find(const std::string& bdf);
    std::vector<pci_function_if*> functions();

    // Link down: the IOH is unreachable but its engines keep whatever state they had.
    void link_down();
    // Power off (after an orderly eject, or the physical removal) and back on.
    void power_off();
    void power_on();
    std::function<void()> on_power_on;  // told when it answers again
    bool present() const { return rc_.present(); }
    bool powered() const { return powered_; }

    // A memory write from a device below this IOH (requester ID `rid`) carrying
    // a DCA tag: a prefetch hint when one of its IOAT functions' DCA tables
    // claims the requester, otherwise the hint is dropped (the write itself
    // lands either way [inference]); unreachable while the IOH is gone. Counted
    // (dca.prefetch_hints, dca.unclaimed_tags); the first unclaimed hint of a
    // run of them from one requester is traced.
    enum class dca_hint { prefetch, unclaimed, unreachable };
    dca_hint dca_write(uint16_t rid, uint8_t tag, uint64_t t_ps);

private:
    ioh_config cfg_;
    root_complex rc_;
    std::vector<std::unique_ptr<ioat_function>> ioat_;
    std::vector<std::unique_ptr<root_port>> ports_;
    std::unique_ptr<vtd_unit> vtd_;
    bool powered_ = true;
    std::map<uint16_t, bool> dca_unclaimed_;  // requester -> in a run of unclaimed hints
};

// The device ID of IOAT function `fn` in an ID set (TBG: ioat-hardware.md §1.2).
uint16_t ioat_device_id(unsigned fn, ioat_id_set ids = ioat_id_set::tbg);

}  // namespace ioatsim::models
