// PCIe root complex of one IOH: ECAM configuration space for its bus range, the
// MMIO window that decodes BARs to functions, and the upstream path carrying
// functions' DMA and MSI writes into the system fabric. Its presence is a state:
// a removed root complex answers all-ones (Unsupported Request), drops posted
// writes and upstream DMA, and fails requests in flight at the instant of removal
// after the completion timeout.
#pragma once
#include "models/pcie/config_space.h"

#include <systemc>

#include <functional>
#include <tlm>
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/multi_passthrough_target_socket.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <string>
#include <vector>

namespace ioatsim::models {

// What the root complex needs of a function besides its sockets.
class pci_function_if {
public:
    virtual ~pci_function_if() = default;
    virtual config_space& config() = 0;
    virtual void config_written(unsigned off, unsigned len) {}  // side effects (MSI-X enable, ...)
    virtual std::string bdf() const = 0;
    virtual int bar_count() const { return 1; }  // a BAR socket to bind to bar_out
};

// The IOH's DMA remapping (VT-d, models/ioh/vtd.h) as the upstream path sees it.
// The root complex asks it only while it translates, so with none attached, or
// with translation off, a request takes exactly the path it took before.
class dma_remapper {
public:
    virtual ~dma_remapper() = default;
    virtual bool translating() const = 0;
    // The 4 KiB page holding [iova, iova + len) for requester `sid` (bus << 8 |
    // devfn): the physical address of iova, or false when the request is blocked
    // (the remapper has recorded the fault). `delay` grows by the page walk's reads.
    virtual bool remap(uint16_t sid, uint64_t iova, uint64_t len, bool write, uint64_t& phys,
                       sc_core::sc_time& delay) = 0;
    // The same, for debug transport: no time, no fault recorded, no cache filled.
    virtual bool remap_dbg(uint16_t sid, uint64_t iova, uint64_t len, bool write, uint64_t& phys) = 0;
};

struct root_complex_timing {
    // Config requests through the root complex: an estimate of a few internal hops;
    // no published figure for the 5520/7500.
    sc_core::sc_time cfg_latency{100, sc_core::SC_NS};
    // PCIe completion timeout for a request whose completer vanished: the spec's
    // default range is 50 us to 50 ms; the lower end [estimate for this IOH].
    sc_core::sc_time completion_timeout{50, sc_core::SC_US};
};

class root_complex : public sc_core::sc_module {
public:
    tlm_utils::simple_target_socket<root_complex> tsock;                   // CPU side: ECAM + MMIO
    tlm_utils::multi_passthrough_initiator_socket<root_complex> bar_out;   // to functions' BAR0
    tlm_utils::multi_passthrough_target_socket<root_complex> upstream;     // functions' DMA / MSI
    tlm_utils::simple_initiator_socket<root_complex> fabric;               // to the system router

    root_complex(sc_core::sc_module_name name, uint8_t bus_lo, uint8_t bus_hi, uint64_t ecam_base,
                 uint64_t mmio_base, uint64_t mmio_size, root_complex_timing t = {});

    // Attaches a function at bus:dev.fn. Bind its upstream initiator to `upstream`
    // and, when it has a BAR, its BAR socket to `bar_out`, in attach order.
    void attach(uint8_t bus, uint8_t dev, uint8_t fn, pci_function_if& f);

    // Told of every memory write a function makes (address, length) once it
    // reached the fabric: the platform lets the CPUs' caches see it.
    std::function<void(uint64_t, uint64_t)> on_dma_write;
    // Told of every memory request of a function (not an interrupt message)
    // that reached memory: requester id, bus address (before translation),
    // length, write. Unset, nothing is asked (the platform's dma-debug check).
    std::function<void(uint16_t, uint64_t, uint64_t, bool)> on_dma_access;

    // Every memory request of a function goes through `r` while it translates;
    // interrupt messages (the 0xFEEx_xxxx window) never do: they are interrupt
    // requests, not DMA (reference §6.1), and interrupt remapping is not modelled.
    void set_remapper(dma_remapper* r) { remapper_ = r; }
    static constexpr uint64_t interrupt_window = 0xFEE00000, interrupt_window_size = 0x100000;

    uint64_t ecam_base() const { return ecam_base_; }  // of bus_lo
    uint64_t ecam_size() const { return uint64_t(bus_hi_ - bus_lo_ + 1) << 20; }
    uint64_t mmio_base() const { return mmio_base_; }
    uint64_t mmio_size() const { return mmio_size_; }
    uint8_t bus() const { return bus_lo_; }

    // Link state of the whole IOH: down = removed.
    void set_present(bool present);
    bool present() const { return present_; }

private:
    struct slot { uint8_t bus, dev, fn; pci_function_if* f; int bar_port; };
    slot* find(uint8_t bus, uint8_t dev, uint8_t fn);
    void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    unsigned transport_dbg(tlm::tlm_generic_payload& gp);
    bool route(tlm::tlm_generic_payload& gp, sc_core::sc_time* delay);  // false: nobody claimed it
    void config_access(tlm::tlm_generic_payload& gp);
    void unsupported(tlm::tlm_generic_payload& gp, const char* why);
    void trace_write(const tlm::tlm_generic_payload& gp, pci_function_if& f, uint64_t offset,
                     const sc_core::sc_time& delay);
    void up_b_transport(int port, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    unsigned up_transport_dbg(int port, tlm::tlm_generic_payload& gp);
    bool remapped(const tlm::tlm_generic_payload& gp) const;
    static bool interrupt(uint64_t addr);  // in the interrupt-message window
    uint16_t source_id(int port, const tlm::tlm_generic_payload& gp) const;
    void remapped_transport(int port, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    uint64_t now_ps(const sc_core::sc_time& extra = sc_core::SC_ZERO_TIME) const;

    uint8_t bus_lo_, bus_hi_;
    uint64_t ecam_base_, mmio_base_, mmio_size_;
    root_complex_timing t_;
    std::vector<slot> slots_;
    int bar_ports_ = 0;
    bool present_ = true;
    sc_core::sc_event removed_ev_;
    dma_remapper* remapper_ = nullptr;
};

}  // namespace ioatsim::models
