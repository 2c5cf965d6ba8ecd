// Sparse DRAM: a TLM target whose pages are allocated on first touch, so a
// machine with gigabytes of address space costs only what software uses.
#pragma once
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace ioatsim::models {

struct dram_timing {
    // Local DRAM load latency of a Nehalem-EX socket: 160 ns (AnandTech X7560,
    // timing-defaults.md §1.2). Charged once per transaction.
    sc_core::sc_time latency{160, sc_core::SC_NS};
};

class dram : public sc_core::sc_module {
public:
    static constexpr uint64_t page_size = 64 * 1024;  // also the DMI grant unit

    tlm_utils::simple_target_socket<dram> tsock;

    dram(sc_core::sc_module_name name, uint64_t base, uint64_t size, dram_timing t = {});
    ~dram() override;

    uint64_t base() const { return base_; }
    uint64_t size() const { return size_; }
    size_t pages_touched() const { return pages_.size(); }

    // Backdoor for firmware, tests and scenario mem.* actions; no time passes.
    void peek(uint64_t addr, void* dst, uint64_t len);
    void poke(uint64_t addr, const void* src, uint64_t len);

    // In a process just forked from one that goes on simulating (torture's
    // instants): every page is now shared with it. A page is copied into
    // memory of this process before its first write here, and until then
    // granted for reading only, so the host's copy-on-write (a fault and a
    // TLB flush per 4 KiB written) never meets the pages.
    void unshare();

private:
    struct page_slot {
        uint8_t* data = nullptr;
        uint32_t gen = 0;  // the sharing generation it was allocated or copied in
    };
    uint8_t* page(uint64_t index, bool write);
    uint8_t* new_page();
    bool in_range(uint64_t addr, uint64_t len) const;
    void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    unsigned transport_dbg(tlm::tlm_generic_payload& gp);
    bool get_direct_mem_ptr(tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi);
    void copy(uint64_t addr, uint8_t* buf, uint64_t len, bool write);

    uint64_t base_, size_;
    dram_timing t_;
    std::unordered_map<uint64_t, page_slot> pages_;
    std::vector<std::pair<void*, uint64_t>> chunks_;  // mapped here, unmapped when the dram goes
    uint32_t gen_ = 0;
    uint8_t* pool_ = nullptr;  // the chunk pages are cut from
    uint64_t pool_left_ = 0;
};

}  // namespace ioatsim::models
