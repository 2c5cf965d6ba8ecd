// The generic DMA-mapping wrappers (3.4 asm-generic/dma-mapping-common.h,
// arch/x86/include/asm/dma-mapping.h, arch/x86/kernel/pci-dma.c), masks, and
// the bus notifier that gives each device its ops (dma-mapping-vtd.md §1).
#include "sw/dma-mapping/dma_mapping.h"

#include "sw/dma-mapping/dma_debug.h"
#include "sw/dma-mapping/intel_iommu.h"
#include "sw/dma-mapping/swiotlb.h"

#include <algorithm>
namespace ioatsim::sw {

const char* dma_dir_name(int dir) {
    static const char* const names[] = {"DMA_BIDIRECTIONAL", "DMA_TO_DEVICE", "DMA_FROM_DEVICE", "DMA_NONE"};
    return dir >= 0 && dir <= 3 ? names[dir] : "DMA_NONE";
}

std::string dev_driver_string(const pci_dev* dev) {
    if (!dev) return "NULL";
    return dev->driver ? dev->driver->name : "pci";  // the bus name when unbound
}

bool parse_iommu_mode(const std::string& s, iommu_mode& out) {
    static const std::pair<const char*, iommu_mode> modes[] = {
        {"off", iommu_mode::off}, {"strict", iommu_mode::strict}, {"lazy", iommu_mode::lazy}, {"pt", iommu_mode::pt}};
    for (auto& [name, m] : modes)
        if (s == name) {
            out = m;
            return true;
        }
    return false;
}

const char* iommu_mode_name(iommu_mode m) {
    switch (m) {
    case iommu_mode::off: return "off";
    case iommu_mode::strict: return "strict";
    case iommu_mode::lazy: return "lazy";
    case iommu_mode::pt: return "pt";
    }
    return "off";
}

dma_map_ops stack_dma_ops(const dma_map_ops* lower, std::string name) {
    dma_map_ops o;
    o.name = std::move(name);
    o.lower = lower;
    o.is_phys = lower->is_phys;
    if (lower->alloc) o.alloc = [lower](pci_dev* d, size_t s, dma_addr_t* h, gfp_t g, const dma_attrs* a) {
        return lower->alloc(d, s, h, g, a);
    };
    if (lower->free) o.free = [lower](pci_dev* d, size_t s, uint64_t v, dma_addr_t h, const dma_attrs* a) {
        lower->free(d, s, v, h, a);
    };
    if (lower->map_page)
        o.map_page = [lower](pci_dev* d, uint64_t p, unsigned long off, size_t s, dma_data_direction dir,
                             const dma_attrs* a) { return lower->map_page(d, p, off, s, dir, a); };
    if (lower->unmap_page)
        o.unmap_page = [lower](pci_dev* d, dma_addr_t x, size_t s, dma_data_direction dir, const dma_attrs* a) {
            lower->unmap_page(d, x, s, dir, a);
        };
    if (lower->map_sg) o.map_sg = [lower](pci_dev* d, scatterlist* sg, int n, dma_data_direction dir,
                                          const dma_attrs* a) { return lower->map_sg(d, sg, n, dir, a); };
    if (lower->unmap_sg) o.unmap_sg = [lower](pci_dev* d, scatterlist* sg, int n, dma_data_direction dir,
                                              const dma_attrs* a) { lower->unmap_sg(d, sg, n, dir, a); };
    if (lower->sync_single_for_cpu)
        o.sync_single_for_cpu = [lower](pci_dev* d, dma_addr_t x, size_t s, dma_data_direction dir) {
            lower->sync_single_for_cpu(d, x, s, dir);
        };
    if (lower->sync_single_for_device)
        o.sync_single_for_device = [lower](pci_dev* d, dma_addr_t x, size_t s, dma_data_direction dir) {
            lower->sync_single_for_device(d, x, s, dir);
        };
    if (lower->sync_sg_for_cpu)
        o.sync_sg_for_cpu = [lower](pci_dev* d, scatterlist* sg, int n, dma_data_direction dir) {
            lower->sync_sg_for_cpu(d, sg, n, dir);
        };
    if (lower->sync_sg_for_device)
        o.sync_sg_for_device = [lower](pci_dev* d, scatterlist* sg, int n, dma_data_direction dir) {
            lower->sync_sg_for_device(d, sg, n, dir);
        };
    if (lower->mapping_error)
        o.mapping_error = [lower](pci_dev* d, dma_addr_t x) { return lower->mapping_error(d, x); };
    if (lower->dma_supported)
        o.dma_supported = [lower](pci_dev* d, uint64_t m) { return lower->dma_supported(d, m); };
    if (lower->set_dma_mask) o.set_dma_mask = [lower](pci_dev* d, uint64_t m) { return lower->set_dma_mask(d, m); };
    return o;
}

void zero_phys(kernel& k, uint64_t pa, uint64_t len) {
    static const std::vector<uint8_t> zeros(PAGE_SIZE, 0);
    for (uint64_t off = 0; off < len; off += PAGE_SIZE)
        k.mem_write(pa + off, zeros.data(), std::min<uint64_t>(PAGE_SIZE, len - off));
}

uint64_t dma_generic_alloc_coherent(kernel& k, pci_dev* dev, size_t size, dma_addr_t* handle, gfp_t gfp) {
    uint64_t mask = dev && dev->coherent_dma_mask ? dev->coherent_dma_mask
                                                  : (gfp & __GFP_DMA ? DMA_BIT_MASK(24) : DMA_BIT_MASK(32));
    const uint64_t bytes = (size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    k.cost(k.timing("cost.dma_alloc_pages"));
    uint64_t pa = k.alloc_phys(bytes, PAGE_SIZE);
    if (!pa) return 0;
    if (pa + size > mask) {  // the pool has no lower zone to retry in
        k.free_phys(pa);
        return 0;
    }
    zero_phys(k, pa, bytes);  // __GFP_ZERO
    k.cost_bytes(bytes, k.config().memcpy_gbps);
    *handle = pa;
    return pa;
}

void dma_generic_free_coherent(kernel& k, uint64_t vaddr) { k.free_phys(vaddr); }

dma_mapping::dma_mapping(kernel& k, dma_mapping_config cfg) : k_(k), cfg_(std::move(cfg)), stats_(k) {
    if (!cfg_.ram_top) cfg_.ram_top = k.config().ram_base + k.config().ram_size;
    for (const char* c : {"dma_map.maps", "dma_map.map_ns", "dma_map.unmaps", "dma_map.unmap_ns", "dma_map.map_errors",
                          "dma_map.sg_maps", "dma_map.syncs", "dma_map.sync_ns", "dma_map.allocs", "dma_map.alloc_ns",
                          "dma_map.frees", "dma_map.free_ns", "dma_map.iotlb_flushes", "dma_map.iotlb_flush_ns",
                          "dma_map.context_flushes", "dma_map.deferred_flushes", "dma_map.swiotlb_bounce_bytes",
                          "dma_map.swiotlb_full", "dma_map.pagetable_pages", "dma_map.dmar_faults"})
        stats_.declare(c);
    nommu_ = std::make_unique<dma_map_ops>(make_nommu_ops(*this));
    dma_ops_ = nommu_.get();
    x86_dma_fallback_dev_.name = "fallback device";
    x86_dma_fallback_dev_.dma_mask = x86_dma_fallback_dev_.coherent_dma_mask = DMA_BIT_MASK(32);
}

dma_mapping::~dma_mapping() = default;

const dma_map_ops& dma_mapping::nommu_ops() const { return *nommu_; }

const dma_map_ops* dma_mapping::get_dma_ops(const pci_dev* dev) const {
    if (dev && dev->archdata.dma_ops) return dev->archdata.dma_ops;
    return dma_ops_;
}

uint64_t dma_mapping::dma_get_required_mask() const {
    // The smallest all-ones mask covering the last byte of RAM.
    uint64_t last = cfg_.ram_top - 1, mask = 1;
    while (mask < last) mask = mask << 1 | 1;
    return mask;
}

void dma_mapping::pci_iommu_init(pci_subsys* pci) {
    pci_ = pci;
    if (cfg_.dma_debug) debug_ = std::make_unique<dma_debug>(*this, cfg_.dma_debug_entries);
    // intel_iommu_init when the DMAR table has units and intel_iommu=on; on
    // success it turns swiotlb off, otherwise the global ops stay as detected.
    bool iommu_on = false;
    if (cfg_.iommu != iommu_mode::off && !cfg_.drhd.empty()) {
        iommu_ = std::make_unique<intel_iommu_driver>(*this);
        if (iommu_->intel_iommu_init() == 0) iommu_on = true;
        else iommu_.reset();
    }
    // swiotlb when RAM ends above 4 GiB (pci_swiotlb_detect_4gb) or when forced.
    swiotlb_on_ = !iommu_on && (cfg_.ram_top > DMA_BIT_MASK(32) + 1 || cfg_.swiotlb_force);
    if (swiotlb_on_) {
        swiotlb_ = std::make_unique<swiotlb>(*this, cfg_.swiotlb_bytes);
        dma_ops_ = &swiotlb_->ops();
    }
    if (!pci) return;
    for (pci_dev* d : pci->devices()) install(*d);
    pci->bus_register_notifier([this](unsigned long action, pci_dev& d) { bus_notify(action, d); });
}

const dma_map_ops* dma_mapping::choose_ops(pci_dev& dev) {
    if (iommu_) {
        if (const dma_map_ops* o = iommu_->device_add(dev)) return o;
    }
    return dma_ops_;
}

const dma_map_ops* dma_mapping::install(pci_dev& dev) {
    const dma_map_ops* o = choose_ops(dev);
    if (debug_) {
        layers_.push_back(debug_->wrap(o));
        o = &layers_.back();
    }
    dev.archdata.dma_ops = o == dma_ops_ ? nullptr : o;  // the global ops need no pointer
    dev.dma_layer = this;
    return o;
}

void dma_mapping::bus_notify(unsigned long action, pci_dev& dev) {
    switch (action) {
    case BUS_NOTIFY_ADD_DEVICE: install(dev); break;
    case BUS_NOTIFY_UNBOUND_DRIVER:
        // dma-debug registered its notifier first (pci_iommu_init's order).
        if (debug_) debug_->device_released(dev);
        if (iommu_) iommu_->device_unbound(dev);
        break;
    default: break;
    }
}

// --- masks -------------------------------------------------------------------

int dma_mapping::dma_supported(pci_dev* dev, uint64_t mask) {
    if (mask > DMA_BIT_MASK(32) && cfg_.forbid_dac) {
        k_.dev_printk(dev_driver_string(dev), dev_name(dev), "PCI: Disallowing DAC for device");
        return 0;
    }
    const dma_map_ops* ops = get_dma_ops(dev);
    if (ops->dma_supported) return ops->dma_supported(dev, mask);
    if (mask < DMA_BIT_MASK(24)) return 0;
    if (cfg_.iommu_sac_force && mask >= DMA_BIT_MASK(40)) {
        k_.dev_printk(dev_driver_string(dev), dev_name(dev),
                      strfmt("Force SAC with mask %llx", (unsigned long long)mask));
        return 0;
    }
    return 1;
}

int dma_mapping::dma_set_mask(pci_dev* dev, uint64_t mask) {
    if (!dev || !dev->dma_mask || !dma_supported(dev, mask)) return -5;  // -EIO
    // [inference] the generic form defers to ops->set_dma_mask; x86's ops leave it NULL.
    if (const dma_map_ops* ops = get_dma_ops(dev); ops->set_dma_mask) return ops->set_dma_mask(dev, mask);
    dev->dma_mask = mask;
    return 0;
}

int dma_mapping::dma_set_coherent_mask(pci_dev* dev, uint64_t mask) {
    if (!dev || !dma_supported(dev, mask)) return -5;  // -EIO
    dev->coherent_dma_mask = mask;
    return 0;
}

// --- the wrappers ------------------------------------------------------------

void dma_mapping::bug_direction(int dir, const char* fn) {
    k_.oops(strfmt("kernel BUG at include/asm-generic/dma-mapping-common.h: %s: BUG_ON(!valid_dma_direction(%d))", fn,
                   dir));
}

int dma_mapping::dma_mapping_error(pci_dev* dev, dma_addr_t addr) {
    const dma_map_ops* ops = get_dma_ops(dev);
    if (ops->mapping_error) return ops->mapping_error(dev, addr);
    return addr == DMA_ERROR_CODE;
}

namespace {
const dma_attrs single_attrs{0, true};
}  // namespace

// 3.4's dma_map_single_attrs and dma_map_page both end in ops->map_page (the
// former with the page of its address), the unmaps in ops->unmap_page; each
// counted and timed for summary.json.
dma_addr_t dma_mapping::map_counted(const char* fn, pci_dev* dev, uint64_t page, unsigned long offset, size_t size,
                                    dma_data_direction dir, const dma_attrs* attrs) {
    kernel::in_function f(k_, fn);
    if (!valid_dma_direction(dir)) {
        bug_direction(dir, fn);
        return DMA_ERROR_CODE;
    }
    const ktime_t t0 = k_.now();
    dma_addr_t a = get_dma_ops(dev)->map_page(dev, page, offset, size, dir, attrs);
    stats_.count("dma_map.maps");
    if (dma_mapping_error(dev, a)) stats_.count("dma_map.map_errors");
    stats_.time("dma_map.map_ns", k_.now() - t0);
    return a;
}

void dma_mapping::unmap_counted(const char* fn, pci_dev* dev, dma_addr_t addr, size_t size, dma_data_direction dir,
                                const dma_attrs* attrs) {
    kernel::in_function f(k_, fn);
    if (!valid_dma_direction(dir)) return bug_direction(dir, fn);
    const ktime_t t0 = k_.now();
    const dma_map_ops* ops = get_dma_ops(dev);
    if (ops->unmap_page) ops->unmap_page(dev, addr, size, dir, attrs);
    stats_.count("dma_map.unmaps");
    stats_.time("dma_map.unmap_ns", k_.now() - t0);
}

dma_addr_t dma_mapping::dma_map_single(pci_dev* dev, uint64_t cpu_addr, size_t size, dma_data_direction dir) {
    return map_counted("dma_map_single_attrs", dev, cpu_addr & ~(PAGE_SIZE - 1), cpu_addr & (PAGE_SIZE - 1), size,
                       dir, &single_attrs);
}

void dma_mapping::dma_unmap_single(pci_dev* dev, dma_addr_t addr, size_t size, dma_data_direction dir) {
    unmap_counted("dma_unmap_single_attrs", dev, addr, size, dir, &single_attrs);
}

dma_addr_t dma_mapping::dma_map_page(pci_dev* dev, uint64_t page, unsigned long offset, size_t size,
                                     dma_data_direction dir) {
    return map_counted("dma_map_page", dev, page, offset, size, dir, nullptr);
}

void dma_mapping::dma_unmap_page(pci_dev* dev, dma_addr_t addr, size_t size, dma_data_direction dir) {
    unmap_counted("dma_unmap_page", dev, addr, size, dir, nullptr);
}

int dma_mapping::dma_map_sg(pci_dev* dev, scatterlist* sg, int nents, dma_data_direction dir) {
    kernel::in_function f(k_, "dma_map_sg_attrs");
    if (!valid_dma_direction(dir)) {
        bug_direction(dir, "dma_map_sg_attrs");
        return 0;
    }
    const ktime_t t0 = k_.now();
    int ents = get_dma_ops(dev)->map_sg(dev, sg, nents, dir, nullptr);
    stats_.count("dma_map.maps");
    stats_.count("dma_map.sg_maps");
    if (!ents) stats_.count("dma_map.map_errors");
    stats_.time("dma_map.map_ns", k_.now() - t0);
    return ents;
}

void dma_mapping::dma_unmap_sg(pci_dev* dev, scatterlist* sg, int nents, dma_data_direction dir) {
    kernel::in_function f(k_, "dma_unmap_sg_attrs");
    if (!valid_dma_direction(dir)) return bug_direction(dir, "dma_unmap_sg_attrs");
    const ktime_t t0 = k_.now();
    const dma_map_ops* ops = get_dma_ops(dev);
    if (ops->unmap_sg) ops->unmap_sg(dev, sg, nents, dir, nullptr);
    stats_.count("dma_map.unmaps");
    stats_.time("dma_map.unmap_ns", k_.now() - t0);
}

#define DMA_SYNC(fn, member, arg_t)                                                \
    void dma_mapping::fn(pci_dev* dev, arg_t a, size_t n, dma_data_direction dir) { \
        kernel::in_function f(k_, #fn);                                            \
        if (!valid_dma_direction(dir)) return bug_direction(dir, #fn);             \
        const ktime_t t0 = k_.now();                                               \
        const dma_map_ops* ops = get_dma_ops(dev);                                 \
        if (ops->member) ops->member(dev, a, n, dir);                              \
        stats_.count("dma_map.syncs");                                             \
        stats_.time("dma_map.sync_ns", k_.now() - t0);                             \
    }
DMA_SYNC(dma_sync_single_for_cpu, sync_single_for_cpu, dma_addr_t)
DMA_SYNC(dma_sync_single_for_device, sync_single_for_device, dma_addr_t)
#undef DMA_SYNC

void dma_mapping::dma_sync_sg_for_cpu(pci_dev* dev, scatterlist* sg, int nents, dma_data_direction dir) {
    kernel::in_function f(k_, "dma_sync_sg_for_cpu");
    if (!valid_dma_direction(dir)) return bug_direction(dir, "dma_sync_sg_for_cpu");
    const dma_map_ops* ops = get_dma_ops(dev);
    if (ops->sync_sg_for_cpu) ops->sync_sg_for_cpu(dev, sg, nents, dir);
    stats_.count("dma_map.syncs");
}

void dma_mapping::dma_sync_sg_for_device(pci_dev* dev, scatterlist* sg, int nents, dma_data_direction dir) {
    kernel::in_function f(k_, "dma_sync_sg_for_device");
    if (!valid_dma_direction(dir)) return bug_direction(dir, "dma_sync_sg_for_device");
    const dma_map_ops* ops = get_dma_ops(dev);
    if (ops->sync_sg_for_device) ops->sync_sg_for_device(dev, sg, nents, dir);
    stats_.count("dma_map.syncs");
}

uint64_t dma_mapping::dma_alloc_coherent(pci_dev* dev, size_t size, dma_addr_t* handle, gfp_t gfp) {
    kernel::in_function f(k_, "dma_alloc_attrs");
    gfp &= ~(__GFP_DMA | __GFP_HIGHMEM | __GFP_DMA32);
    if (!dev) dev = &x86_dma_fallback_dev_;
    if (!dev->dma_mask) return 0;  // !is_device_dma_capable
    const dma_map_ops* ops = get_dma_ops(dev);
    if (!ops->alloc) return 0;
    // dma_alloc_coherent_gfp_flags: the zone the coherent mask needs.
    uint64_t cmask = dev->coherent_dma_mask ? dev->coherent_dma_mask : DMA_BIT_MASK(24);
    if (cmask <= DMA_BIT_MASK(24)) gfp |= __GFP_DMA;
    else if (cmask <= DMA_BIT_MASK(32) && !(gfp & __GFP_DMA)) gfp |= __GFP_DMA32;
    const ktime_t t0 = k_.now();
    uint64_t v = ops->alloc(dev, size, handle, gfp, nullptr);
    stats_.count("dma_map.allocs");
    stats_.time("dma_map.alloc_ns", k_.now() - t0);
    return v;
}

void dma_mapping::dma_free_coherent(pci_dev* dev, size_t size, uint64_t cpu_addr, dma_addr_t handle) {
    kernel::in_function f(k_, "dma_free_attrs");
    if (!dev) dev = &x86_dma_fallback_dev_;
    if (k_.in_interrupt()) k_.printk("WARNING: at arch/x86/include/asm/dma-mapping.h dma_free_attrs()");  // irqs_disabled
    const ktime_t t0 = k_.now();
    const dma_map_ops* ops = get_dma_ops(dev);
    if (ops->free) ops->free(dev, size, cpu_addr, handle, nullptr);
    stats_.count("dma_map.frees");
    stats_.time("dma_map.free_ns", k_.now() - t0);
}

// --- dma-debug's model-only checks ------------------------------------------

void dma_mapping::dma_debug_check_device_access(pci_dev* dev, dma_addr_t addr, uint64_t len, bool is_write) {
    if (debug_) debug_->check_device_access(dev, addr, len, is_write);
}

void dma_mapping::dma_debug_check_device_access(uint16_t sid, dma_addr_t addr, uint64_t len, bool is_write) {
    if (debug_) debug_->check_device_access(nullptr, addr, len, is_write, sid);
}

void dma_mapping::dma_debug_cpu_write(uint64_t pa, uint64_t len) {
    if (debug_ && !quiet_writes) debug_->cpu_write(pa, len);
}

}  // namespace ioatsim::sw
