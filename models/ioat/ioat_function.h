// One IOAT (QuickData CB3) PCI function: configuration space, BAR0 registers as a
// table, the MSI-X vector, and its DMA channel(s). On the 5520/7500 IOH each of
// the eight functions at device 0x16 has one channel (and, on an integrated I/O,
// each of those at device 4 [inference]).
#pragma once
#include "models/ioat/ioat_channel.h"
#include "models/ioat/regs.h"
#include "models/memory/bandwidth.h"
#include "models/pcie/root_complex.h"

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ioatsim::models {

struct ioat_config {
    uint16_t device_id = 0x3430;  // TBG0; functions 1-3 0x3431-3, 4-7 0x3429-0x342C
    uint8_t cbver = 0x30;
    uint8_t xfercap = 20;         // log2 bytes per descriptor (1 MiB, ioat-hardware.md §1.2)
    uint8_t chancnt = 1;
    unsigned node = 0;            // NUMA node of the IOH, carried on its DMA requests
    // FILL, XOR and PQ, the operations modelled; the 5520's own value is unpublished.
    uint32_t dmacapability = ioat::DMACAP_FILL | ioat::DMACAP_XOR | ioat::DMACAP_PQ;
    ioat_timing timing;
    // DCA requester slots (GREQID entries) of this function; 0: no DCA block
    // (DCAOFFSET reads 0). The 5520/7500's count is unpublished: 2 [estimate],
    // as the driver's IOAT3_DCA_MAX_REQ.
    unsigned dca_slots = 2;
    // The engine's data mover, shared by the IOH's channels ("one engine with
    // eight channels", C5500 datasheet S7); null: each channel streams at
    // timing.bandwidth_gbps on its own.
    std::shared_ptr<bandwidth> mover;
    // The memory path beyond the IOH (DRAM nodes, QPI links), shared with the
    // CPUs: when `bytes` at `addr`, asked for at `at_ps`, are through. Null: free.
    std::function<uint64_t(uint64_t at_ps, uint64_t addr, uint64_t bytes)> memory;
};

class ioat_function : public sc_core::sc_module, public pci_function_if {
public:
    tlm_utils::simple_target_socket<ioat_function> bar0;     // MMIO from the root complex
    tlm_utils::simple_initiator_socket<ioat_function> dma;   // descriptor, data, completion, MSI

    ioat_function(sc_core::sc_module_name name, const std::string& bdf, ioat_config cfg);

    // pci_function_if
    config_space& config() override { return cfg_space_; }
    void config_written(unsigned off, unsigned len) override;
    std::string bdf() const override { return bdf_; }

    const ioat_config& cfg() const { return cfg_; }
    ioat_channel& chan(unsigned n) { return *chans_.at(n); }
    unsigned chan_count() const { return unsigned(chans_.size()); }

    // Register file access used by channels.
    uint64_t reg(unsigned off, unsigned width) const;
    void set_reg(unsigned off, unsigned width, uint64_t v);

    void reset_channel(unsigned chan) { reset_regs(int(chan)); }
    // A DMA or message request from this function, tagged with its requester ID.
    void dma_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    // Power lost (channels drop their work) and restored (registers at reset values).
    void power_off();
    void power_on();
    // DCA: whether a memory write from requester `rid` carrying a DCA hint is
    // honoured here (PCI MEMWR and CSI prefetch on, `rid` VALID in the GREQID
    // table; IGNOREFUN matches any function of its device [inference]).
    bool dca_claims(uint16_t rid) const;
    // A channel asks for its interrupt; at most one per arm (the channel tracks arming).
    void raise_interrupt(unsigned chan);
    // The legacy INTx line, for whoever routes it (level-triggered).
    void set_intx(std::function<void(bool)> f) { intx_ = std::move(f); }
    // Current simulated time of the caller plus an annotation, in ps, for traces.
    static uint64_t stamp(const sc_core::sc_time& extra = sc_core::SC_ZERO_TIME);

private:
    struct reg_def;
    using hook = void (ioat_function::*)(const reg_def&, unsigned chan);
    struct reg_def {
        const char* name;
        unsigned off;       // within the global block, or within a channel block
        unsigned width;
        uint64_t wmask;     // writable bits
        uint64_t w1c;       // write-one-to-clear bits
        uint64_t reset;
        hook before_read, after_read, after_write;
    };
    struct reg_inst { const reg_def* def; unsigned base; int chan; };
    static const reg_def global_regs[], channel_regs[], msix_regs[], dca_regs[], greqid_regs[];

    void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    unsigned transport_dbg(tlm::tlm_generic_payload& gp);
    bool access(tlm::tlm_generic_payload& gp, bool debug);
    void place(const reg_def* defs, size_t n, unsigned base, int chan);
    void reset_regs(int chan);  // chan -1: global + MSI-X

    // hooks
    void rd_intrctrl(const reg_def&, unsigned);
    void rd_attnstatus_clear(const reg_def&, unsigned);
    void rd_chansts(const reg_def&, unsigned);
    void rd_chanctrl_in_use(const reg_def&, unsigned);
    void wr_chanctrl(const reg_def&, unsigned);
    void wr_chancmd(const reg_def&, unsigned);
    void wr_dmacount(const reg_def&, unsigned);
    void wr_chainaddr(const reg_def&, unsigned);
    void wr_msix(const reg_def&, unsigned);
    void deliver_pending();
    void coalesce_expired();
    void send_message(uint64_t addr, uint32_t data, const char* kind);

    std::string bdf_;
    uint16_t requester_id_ = 0;  // bus << 8 | devfn
    ioat_config cfg_;
    config_space cfg_space_;
    std::vector<uint8_t> bar_;          // BAR0 backing bytes
    std::vector<int> owner_;            // byte -> index into regs_, -1 undefined
    std::vector<reg_inst> regs_;
    std::vector<std::unique_ptr<ioat_channel>> chans_;
    uint32_t pending_ = 0;              // channels whose interrupt waits for a mask/enable
    bool coalescing_ = false, intx_level_ = false;
    sc_core::sc_event coalesce_ev_;
    std::function<void(bool)> intx_;
};

}  // namespace ioatsim::models
