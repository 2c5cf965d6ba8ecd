// The DMA-mapping API of Linux 3.4 on x86_64, per device: struct dma_map_ops,
// get_dma_ops(dev) falling back to the global ops (nommu), the generic
// wrappers of asm-generic/dma-mapping-common.h, masks, and the bus notifier
// that gives each device its ops when it is added (the 2008 per-device
// series' design: direct, swiotlb or intel-iommu, optionally under the
// dma-debug layer). Reference: dma-mapping-vtd.md §1-4.
//
// A "device" is a pci_dev (sw/pci/pci.h), whose archdata.dma_ops is the
// per-device pointer Linux keeps in dev->archdata. CPU addresses are physical
// (the direct map); a page is its physical address.
#pragma once
#include "sw/kernel/kernel.h"
#include "sw/pci/pci.h"

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ioatsim::sw {

using dma_addr_t = uint64_t;
constexpr dma_addr_t DMA_ERROR_CODE = 0;  // x86
constexpr uint64_t PAGE_SIZE = 4096;
constexpr unsigned PAGE_SHIFT = 12;
constexpr uint64_t DMA_BIT_MASK(unsigned n) { return n >= 64 ? ~0ull : (1ull << n) - 1; }

enum dma_data_direction : int {
    DMA_BIDIRECTIONAL = 0,
    DMA_TO_DEVICE = 1,
    DMA_FROM_DEVICE = 2,
    DMA_NONE = 3,  // invalid for every call: BUG_ON
};
inline bool valid_dma_direction(int dir) { return dir == DMA_BIDIRECTIONAL || dir == DMA_TO_DEVICE || dir == DMA_FROM_DEVICE; }
const char* dma_dir_name(int dir);  // dma-debug's dir2name

// gfp flags: only the zone bits matter here (3.4 clears them in dma_alloc_attrs).
using gfp_t = unsigned;
constexpr gfp_t GFP_KERNEL = 0x10, GFP_ATOMIC = 0x20, __GFP_DMA = 0x1, __GFP_HIGHMEM = 0x2, __GFP_DMA32 = 0x4;

struct dma_attrs {
    unsigned long flags = 0;  // DMA_ATTR_*: none used by 3.4's x86 paths
    // Model-only: which API call an op serves (dma_map_single rather than
    // dma_map_page), which 3.4's generic wrapper hands dma-debug directly.
    bool map_single = false;
};

struct scatterlist {
    uint64_t page = 0;  // page_to_phys(sg_page(sg))
    unsigned offset = 0, length = 0;
    dma_addr_t dma_address = 0;
    unsigned dma_length = 0;
};
inline uint64_t sg_phys(const scatterlist& s) { return s.page + s.offset; }

// struct dma_map_ops (3.4 include/linux/dma-mapping.h), a member left empty
// being a NULL pointer. mmap and get_required_mask are not modelled.
struct dma_map_ops {
    std::string name;
    std::function<uint64_t(pci_dev*, size_t, dma_addr_t*, gfp_t, const dma_attrs*)> alloc;
    std::function<void(pci_dev*, size_t, uint64_t vaddr, dma_addr_t, const dma_attrs*)> free;
    std::function<dma_addr_t(pci_dev*, uint64_t page, unsigned long offset, size_t, dma_data_direction,
                             const dma_attrs*)> map_page;
    std::function<void(pci_dev*, dma_addr_t, size_t, dma_data_direction, const dma_attrs*)> unmap_page;
    std::function<int(pci_dev*, scatterlist*, int, dma_data_direction, const dma_attrs*)> map_sg;
    std::function<void(pci_dev*, scatterlist*, int, dma_data_direction, const dma_attrs*)> unmap_sg;
    std::function<void(pci_dev*, dma_addr_t, size_t, dma_data_direction)> sync_single_for_cpu, sync_single_for_device;
    std::function<void(pci_dev*, scatterlist*, int, dma_data_direction)> sync_sg_for_cpu, sync_sg_for_device;
    std::function<int(pci_dev*, dma_addr_t)> mapping_error;
    std::function<int(pci_dev*, uint64_t)> dma_supported;
    std::function<int(pci_dev*, uint64_t)> set_dma_mask;
    int is_phys = 0;
    // A stacked layer's: the ops it forwards to (not in 3.4; the project's design).
    const dma_map_ops* lower = nullptr;
};

// Ops that forward every member `lower` has to it, and leave NULL what it
// lacks: the base of a stacked layer, which then replaces members. The
// answer to mapping_error stays with the layer that produced the address.
dma_map_ops stack_dma_ops(const dma_map_ops* lower, std::string name);

// dma_capable (3.4 arch/x86/include/asm/dma-mapping.h): the device's mask reaches [addr, addr+size).
inline bool dma_capable(const pci_dev* dev, dma_addr_t addr, size_t size) {
    if (!dev || !dev->dma_mask) return false;
    return addr + size - 1 <= dev->dma_mask;
}
inline std::string dev_name(const pci_dev* dev) { return dev ? dev->name : "?"; }
std::string dev_driver_string(const pci_dev* dev);

// Per-operation statistics, as counters in summary.json: dma_map.* counts and
// nanoseconds (kept in picoseconds, shown rounded down).
class dma_stats {
public:
    explicit dma_stats(kernel& k) : k_(k) {}
    void declare(const char* name) { k_.rep().declare(name); }
    void count(const char* name, int64_t n = 1) { k_.rep().counter(name) += n; }
    void time(const char* name, ktime_t t) {
        ktime_t& sum = ps_[name];
        sum += t;
        k_.rep().counter(name) = int64_t(sum / NSEC);
    }
private:
    kernel& k_;
    std::map<std::string, ktime_t> ps_;
};

// dma_generic_alloc_coherent / free (3.4 arch/x86/kernel/pci-dma.c): zeroed
// pages that the coherent mask reaches, else NULL. The simulated allocator has
// no zones (its pool starts at 16 MiB), so no GFP_DMA retry.
uint64_t dma_generic_alloc_coherent(kernel& k, pci_dev* dev, size_t size, dma_addr_t* handle, gfp_t gfp);
void dma_generic_free_coherent(kernel& k, uint64_t vaddr);
void zero_phys(kernel& k, uint64_t pa, uint64_t len);

class swiotlb;
class intel_iommu_driver;
class dma_debug;

// One remapping unit of the ACPI DMAR table (a DRHD; 3.4 struct dmar_drhd_unit
// with its device scope resolved to bus numbers and devfns).
struct dmar_drhd_unit {
    uint64_t reg_base_addr = 0;
    bool include_all = false;  // INCLUDE_PCI_ALL: every device no other unit's scope names
    std::vector<std::pair<uint8_t, uint8_t>> buses;  // bridge scopes: bus ranges, inclusive
    std::vector<uint16_t> devices;                   // endpoint scopes: bus << 8 | devfn
};

// A unit's registers as the driver reaches them: 32-bit accesses at physical
// addresses (64-bit registers as two, low half first).
struct dmar_reg_access {
    std::function<uint32_t(uint64_t addr)> readl;
    std::function<void(uint64_t addr, uint32_t v)> writel;
};

// software.iommu (read in platform/platform_dma.cpp): how the kernel was booted.
//   off    no intel_iommu=on: direct (nommu), or swiotlb when RAM ends above 4 GiB
//   strict intel_iommu=on,strict: page-selective IOTLB flush at every unmap
//   lazy   intel_iommu=on: deferred flush (250 entries or 10 ms)
//   pt     intel_iommu=on iommu=pt: context T=2 pass-through (identity)
enum class iommu_mode { off, strict, lazy, pt };
bool parse_iommu_mode(const std::string& s, iommu_mode& out);
const char* iommu_mode_name(iommu_mode m);

struct dma_mapping_config {
    iommu_mode iommu = iommu_mode::off;
    bool dma_debug = false;               // software.dma_debug (3.4: CONFIG_DMA_API_DEBUG, dma_debug=off)
    unsigned dma_debug_entries = 32768;   // PREALLOC_DMA_DEBUG_ENTRIES (dma_debug_entries=)
    bool dma_debug_all_errors = false;    // debugfs all_errors: 3.4 WARNs only the first error
    bool swiotlb_force = false;           // swiotlb=force
    uint64_t swiotlb_bytes = 64ull << 20; // swiotlb_init's default pool (swiotlb=<nslabs>)
    // Where RAM ends (max_pfn << PAGE_SHIFT); 0: the end of the kernel's pool.
    uint64_t ram_top = 0;
    bool forbid_dac = false, iommu_sac_force = false;  // VIA bridges' quirk, iommu=forcesac
    bool forcedac = false;                // intel_iommu=forcedac
    // The ACPI DMAR table's remapping units (DRHDs), INCLUDE_ALL ones matched last.
    std::vector<dmar_drhd_unit> drhd;
    // C-GROSS: the deferred-flush queue's high-water mark and timer.
    unsigned deferred_high_water_mark = 250;
    ktime_t deferred_flush_timeout = 10 * MSEC;
    unsigned fault_irq_cpu = 0;           // where dmar_set_interrupt's vector goes
    // How the DMAR driver reaches a unit's registers; empty: the CPU's uncached
    // accesses to its ioremapped page (tests put a stand-in here).
    std::function<dmar_reg_access(uint64_t reg_base)> reg_access;
    // DMAR unit hot-plug (dma-mapping-vtd.md §7). false, as 3.4: a unit is
    // never removed, and one whose IOH goes stays in every list. true, as the
    // 2014-2015 work (4.x dmar_device_remove/add): a unit is removed once no
    // device of its scope is left (-EBUSY otherwise), and set up when its
    // host bridge comes back, before the bus is scanned.
    bool dmar_hotplug = false;
    // Model-only: whether a unit's hardware answers (the platform's view of
    // its IOH); unset, always. Accesses to a unit that does not are counted.
    std::function<bool(uint64_t reg_base)> unit_present;
};

class dma_mapping {
public:
    dma_mapping(kernel& k, dma_mapping_config cfg);
    ~dma_mapping();
    dma_mapping(const dma_mapping&) = delete;

    // pci_iommu_alloc + pci_iommu_init: the swiotlb pool when it is needed,
    // dma-debug, intel_iommu_init when iommu is on and the table has units;
    // then every device present gets its ops and, with `pci`, the bus notifier
    // is registered for those to come. Run from a task (it programs units).
    void pci_iommu_init(pci_subsys* pci);
    // The bus notifier: ops chosen on ADD_DEVICE, dma-debug's leak check and
    // intel-iommu's detach on UNBOUND_DRIVER.
    void bus_notify(unsigned long action, pci_dev& dev);

    // get_dma_ops: the device's own ops, else the global ones.
    const dma_map_ops* get_dma_ops(const pci_dev* dev) const;
    const dma_map_ops& nommu_ops() const;
    const dma_map_ops* global_ops() const { return dma_ops_; }
    // What the notifier would choose for `dev` (before dma-debug's layer).
    const dma_map_ops* choose_ops(pci_dev& dev);

    // Masks (x86 pci-dma.c): dma_set_mask fails (-EIO) unless supported.
    int dma_supported(pci_dev* dev, uint64_t mask);
    int dma_set_mask(pci_dev* dev, uint64_t mask);
    int dma_set_coherent_mask(pci_dev* dev, uint64_t mask);
    int pci_set_dma_mask(pci_dev* dev, uint64_t mask) { return dma_set_mask(dev, mask); }
    int pci_set_consistent_dma_mask(pci_dev* dev, uint64_t mask) { return dma_set_coherent_mask(dev, mask); }
    uint64_t dma_get_required_mask() const;

    // The generic wrappers. A DMA_NONE (or other invalid) direction is 3.4's
    // BUG_ON: an oops that ends the calling task.
    int dma_mapping_error(pci_dev* dev, dma_addr_t addr);
    dma_addr_t dma_map_single(pci_dev* dev, uint64_t cpu_addr, size_t size, dma_data_direction dir);
    void dma_unmap_single(pci_dev* dev, dma_addr_t addr, size_t size, dma_data_direction dir);
    dma_addr_t dma_map_page(pci_dev* dev, uint64_t page, unsigned long offset, size_t size, dma_data_direction dir);
    void dma_unmap_page(pci_dev* dev, dma_addr_t addr, size_t size, dma_data_direction dir);
    int dma_map_sg(pci_dev* dev, scatterlist* sg, int nents, dma_data_direction dir);
    void dma_unmap_sg(pci_dev* dev, scatterlist* sg, int nents, dma_data_direction dir);
    void dma_sync_single_for_cpu(pci_dev* dev, dma_addr_t addr, size_t size, dma_data_direction dir);
    void dma_sync_single_for_device(pci_dev* dev, dma_addr_t addr, size_t size, dma_data_direction dir);
    void dma_sync_sg_for_cpu(pci_dev* dev, scatterlist* sg, int nents, dma_data_direction dir);
    void dma_sync_sg_for_device(pci_dev* dev, scatterlist* sg, int nents, dma_data_direction dir);
    // dma_alloc_coherent: the CPU address (physical here) or 0; *handle the device's address.
    uint64_t dma_alloc_coherent(pci_dev* dev, size_t size, dma_addr_t* handle, gfp_t gfp = GFP_KERNEL);
    void dma_free_coherent(pci_dev* dev, size_t size, uint64_t cpu_addr, dma_addr_t handle);

    // Model-only checks for the platform (dma-debug on): a device's DMA at a
    // bus address it has no live mapping for, in the direction it goes; a CPU
    // write to a page with a live mapping the device may write.
    void dma_debug_check_device_access(pci_dev* dev, dma_addr_t addr, uint64_t len, bool is_write);
    void dma_debug_check_device_access(uint16_t source_id, dma_addr_t addr, uint64_t len, bool is_write);
    void dma_debug_cpu_write(uint64_t pa, uint64_t len);
    // The layer's own copies (swiotlb's bounce into the original buffer) are
    // not the CPU touching a mapped page: the check is off around them.
    unsigned quiet_writes = 0;

    kernel& k() { return k_; }
    const dma_mapping_config& config() const { return cfg_; }
    dma_stats& stats() { return stats_; }
    swiotlb* swiotlb_pool() { return swiotlb_.get(); }
    intel_iommu_driver* iommu() { return iommu_.get(); }
    dma_debug* debug() { return debug_.get(); }
    pci_subsys* pci() { return pci_; }
    pci_dev* fallback_dev() { return &x86_dma_fallback_dev_; }

private:
    const dma_map_ops& ops_or_bug(pci_dev* dev);
    void bug_direction(int dir, const char* fn);
    dma_addr_t map_counted(const char* fn, pci_dev* dev, uint64_t page, unsigned long offset, size_t size,
                           dma_data_direction dir, const dma_attrs* attrs);
    void unmap_counted(const char* fn, pci_dev* dev, dma_addr_t addr, size_t size, dma_data_direction dir,
                       const dma_attrs* attrs);
    const dma_map_ops* install(pci_dev& dev);

    kernel& k_;
    dma_mapping_config cfg_;
    dma_stats stats_;
    std::unique_ptr<dma_map_ops> nommu_;
    std::unique_ptr<swiotlb> swiotlb_;
    std::unique_ptr<intel_iommu_driver> iommu_;
    std::unique_ptr<dma_debug> debug_;
    const dma_map_ops* dma_ops_ = nullptr;  // the global ops
    std::deque<dma_map_ops> layers_;        // per-device stacked layers (dma-debug's), kept for old pointers
    pci_subsys* pci_ = nullptr;
    pci_dev x86_dma_fallback_dev_;          // NULL-device allocations (coherent mask 32 bits without CONFIG_ISA)
    bool swiotlb_on_ = false;
};

// Nommu ("direct") ops (3.4 arch/x86/kernel/pci-nommu.c).
dma_map_ops make_nommu_ops(dma_mapping& dm);

}  // namespace ioatsim::sw
