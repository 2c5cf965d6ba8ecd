// dma-debug (3.4 lib/dma-debug.c; dma-mapping-vtd.md §4) as a stacked ops
// layer over a device's ops: every live mapping recorded per device (address,
// size, direction, type), each unmap, free and sync checked against it with
// 3.4's messages, leaks reported when the driver lets go of the device. Each
// error is a checker violation of kind `dma_debug` ("DRIVER DEVICE: DMA-API:
// ..."); as in 3.4 only the first is WARNed in the log unless all_errors.
// Two checks 3.4 lacks: a device's DMA that no live mapping allows (kind
// `dma_debug_device`, model-only: the platform calls it from the DMA path) and
// a CPU write to a page a device may be writing (3.14's assert_idle message).
#pragma once
#include "sw/dma-mapping/dma_mapping.h"

#include <map>
#include <string>

namespace ioatsim::sw {

class dma_debug {
public:
    enum entry_type { dma_debug_single, dma_debug_page, dma_debug_sg, dma_debug_coherent };
    struct entry {
        pci_dev* dev = nullptr;
        int type = dma_debug_single;
        uint64_t paddr = 0;
        dma_addr_t dev_addr = 0;
        uint64_t size = 0;
        int direction = DMA_NONE;
        int sg_call_ents = 0, sg_mapped_ents = 0;
        std::string mapped_by;  // the task that mapped it (the saved stack trace's stand-in)
    };

    static entry sg_entry(pci_dev* d, const scatterlist& s, dma_data_direction dir, int nents);

    dma_debug(dma_mapping& dm, unsigned nr_entries);
    // The layer over `lower` (kept alive by the caller).
    dma_map_ops wrap(const dma_map_ops* lower);
    // The bus notifier's UNBOUND_DRIVER: mappings left are reported.
    void device_released(pci_dev& dev);
    // Model-only: `dev` (or, without one, requester `sid` of segment 0) reads or
    // writes [addr, addr + len) at a bus address no live mapping allowing it covers.
    void check_device_access(pci_dev* dev, dma_addr_t addr, uint64_t len, bool is_write, int sid = -1);
    // The CPU writes [pa, pa + len): a page with a live FROM_DEVICE or
    // BIDIRECTIONAL streaming mapping is reported.
    void cpu_write(uint64_t pa, uint64_t len);

    // debugfs dma-api/
    unsigned error_count() const { return error_count_; }
    unsigned num_free_entries() const { return num_free_; }
    unsigned min_free_entries() const { return min_free_; }
    bool disabled() const { return global_disable_; }
    size_t live_entries(const pci_dev& dev) const;
    static const char* type_name(int type);

private:
    struct per_device {
        std::multimap<dma_addr_t, entry> entries;  // the hash, per device, by device address
        uint64_t max_size = 0;
    };
    void add_entry(const entry& e);
    // check_unmap, check_sync with `lower` answering mapping_error.
    void check_unmap(const entry& ref, const dma_map_ops* lower);
    void check_sync(pci_dev* dev, dma_addr_t addr, uint64_t size, int dir, bool to_cpu);
    void err_printk(pci_dev* dev, const entry* e, const std::string& msg);
    void hook_cost();
    void track_pfns(const entry& e, int delta);

    dma_mapping& dm_;
    kernel& k_;
    const ktime_t cost_;
    std::map<std::string, per_device> devices_;  // by device name
    std::map<uint64_t, int> active_pfns_;        // writable streaming mappings per page
    unsigned num_free_, min_free_, error_count_ = 0;
    int show_num_errors_ = 1;
    bool global_disable_ = false;
};

}  // namespace ioatsim::sw
