// dma-debug: the records, the 3.4 checks and their messages (dma-mapping-vtd.md §4.2).
#include "sw/dma-mapping/dma_debug.h"

#include <algorithm>
#include <vector>

namespace ioatsim::sw {

namespace {
unsigned long long ull(uint64_t v) { return (unsigned long long)v; }
}  // namespace

const char* dma_debug::type_name(int type) {
    static const char* const names[] = {"single", "page", "scather-gather", "coherent"};  // [sic], as 3.4
    return type >= 0 && type < 4 ? names[type] : "?";
}

dma_debug::dma_debug(dma_mapping& dm, unsigned nr_entries)
    : dm_(dm), k_(dm.k()), cost_(k_.timing("cost.dma_debug_hook")), num_free_(nr_entries), min_free_(nr_entries) {
    for (const char* c : {"violations.dma_debug", "violations.dma_debug_device"}) k_.rep().declare(c);
    k_.printk("DMA-API: preallocated " + std::to_string(nr_entries) + " debug entries");
    k_.printk("DMA-API: debugging enabled by kernel config");
}

void dma_debug::hook_cost() { k_.cost(cost_); }

size_t dma_debug::live_entries(const pci_dev& dev) const {
    auto it = devices_.find(dev.name);
    return it == devices_.end() ? 0 : it->second.entries.size();
}

// err_printk: every error counted and a checker violation; the log's WARN only
// for the first num_errors (1) unless all_errors.
void dma_debug::err_printk(pci_dev* dev, const entry* e, const std::string& msg) {
    ++error_count_;
    const std::string text = dev_driver_string(dev) + " " + (dev ? dev->name : std::string("NULL")) + ": " + msg;
    std::string one_line = text;
    std::replace(one_line.begin(), one_line.end(), '\n', ' ');
    k_.rep().violation(k_.now(), "dma_debug", one_line);
    if (!dm_.config().dma_debug_all_errors && show_num_errors_ <= 0) return;
    --show_num_errors_;
    k_.printk("WARNING: at lib/dma-debug.c err_printk()");
    size_t at = 0;
    for (size_t nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1) k_.printk(text.substr(at, nl - at));
    k_.printk(text.substr(at));
    if (e) k_.printk("Mapped at: " + e->mapped_by);
}

void dma_debug::track_pfns(const entry& e, int delta) {
    // 3.14's active-pfn tracking, for mappings the device may write (3.16
    // dropped read-only ones); coherent memory is the CPU's to write.
    if (e.type == dma_debug_coherent || (e.direction != DMA_FROM_DEVICE && e.direction != DMA_BIDIRECTIONAL)) return;
    if (!e.size) return;
    for (uint64_t pfn = e.paddr >> 12; pfn <= (e.paddr + e.size - 1) >> 12; ++pfn) {
        int& n = active_pfns_[pfn];
        n += delta;
        if (n <= 0) active_pfns_.erase(pfn);
    }
}

void dma_debug::add_entry(const entry& e) {
    if (global_disable_) return;
    if (num_free_ == 0) {
        k_.printk("DMA-API: debugging out of memory - disabling");
        global_disable_ = true;
        return;
    }
    min_free_ = std::min(min_free_, --num_free_);
    per_device& pd = devices_[e.dev ? e.dev->name : std::string("NULL")];
    entry copy = e;
    copy.mapped_by = k_.current_name();
    pd.entries.emplace(e.dev_addr, copy);
    pd.max_size = std::max(pd.max_size, e.size);
    track_pfns(copy, +1);
}

// bucket_find_exact: among this device's entries at the address, the one
// matching size, type, direction and sg count; the only one if there is one;
// otherwise none.
void dma_debug::check_unmap(const entry& ref, const dma_map_ops* lower) {
    if (global_disable_) return;
    pci_dev* dev = ref.dev;
    const int is_err = lower->mapping_error ? lower->mapping_error(dev, ref.dev_addr) : ref.dev_addr == DMA_ERROR_CODE;
    if (is_err) {
        err_printk(dev, nullptr, "DMA-API: device driver tries to free an invalid DMA memory address");
        return;
    }
    auto pd = devices_.find(dev ? dev->name : std::string("NULL"));
    std::multimap<dma_addr_t, entry>::iterator found;
    bool have = false;
    if (pd != devices_.end()) {
        auto [b, e] = pd->second.entries.equal_range(ref.dev_addr);
        int matches = 0;
        for (auto it = b; it != e; ++it) {
            ++matches;
            const entry& x = it->second;
            if (x.size == ref.size && x.type == ref.type && x.direction == ref.direction &&
                (x.type != dma_debug_sg || x.sg_call_ents == ref.sg_call_ents)) {
                found = it;
                have = true;
                break;
            }
        }
        if (!have && matches == 1) {
            found = b;
            have = true;
        }
    }
    if (!have) {
        err_printk(dev, nullptr,
                   strfmt("DMA-API: device driver tries to free DMA memory it has not allocated [device "
                          "address=0x%016llx] [size=%llu bytes]",
                          ull(ref.dev_addr), ull(ref.size)));
        return;
    }
    const entry e = found->second;
    if (ref.size != e.size)
        err_printk(dev, &e,
                   strfmt("DMA-API: device driver frees DMA memory with different size [device address=0x%016llx] "
                          "[map size=%llu bytes] [unmap size=%llu bytes]",
                          ull(ref.dev_addr), ull(e.size), ull(ref.size)));
    if (ref.type != e.type)
        err_printk(dev, &e,
                   strfmt("DMA-API: device driver frees DMA memory with wrong function [device address=0x%016llx] "
                          "[size=%llu bytes] [mapped as %s] [unmapped as %s]",
                          ull(ref.dev_addr), ull(ref.size), type_name(e.type), type_name(ref.type)));
    else if (e.type == dma_debug_coherent && ref.paddr != e.paddr)
        err_printk(dev, &e,
                   strfmt("DMA-API: device driver frees DMA memory with different CPU address [device "
                          "address=0x%016llx] [size=%llu bytes] [cpu alloc address=0x%016llx] [cpu free "
                          "address=0x%016llx]",
                          ull(ref.dev_addr), ull(ref.size), ull(e.paddr), ull(ref.paddr)));
    if (e.type == dma_debug_sg && ref.sg_call_ents && ref.sg_call_ents != e.sg_call_ents)
        err_printk(dev, &e,
                   strfmt("DMA-API: device driver frees DMA sg list with different entry count [map count=%d] "
                          "[unmap count=%d]",
                          e.sg_call_ents, ref.sg_call_ents));
    if (ref.direction != e.direction)
        err_printk(dev, &e,
                   strfmt("DMA-API: device driver frees DMA memory with different direction [device "
                          "address=0x%016llx] [size=%llu bytes] [mapped with %s] [unmapped with %s]",
                          ull(ref.dev_addr), ull(ref.size), dma_dir_name(e.direction), dma_dir_name(ref.direction)));
    track_pfns(e, -1);
    pd->second.entries.erase(found);
    ++num_free_;
}

// check_sync: the entry containing the address, the range, and the direction.
void dma_debug::check_sync(pci_dev* dev, dma_addr_t addr, uint64_t size, int dir, bool to_cpu) {
    if (global_disable_) return;
    hook_cost();
    const entry* e = nullptr;
    auto pd = devices_.find(dev ? dev->name : std::string("NULL"));
    if (pd != devices_.end()) {
        auto& m = pd->second.entries;
        for (auto it = m.upper_bound(addr); it != m.begin();) {
            --it;
            if (it->first + pd->second.max_size <= addr) break;
            if (addr < it->first + it->second.size) {
                e = &it->second;
                break;
            }
        }
    }
    if (!e) {
        err_printk(dev, nullptr,
                   strfmt("DMA-API: device driver tries to sync DMA memory it has not allocated [device "
                          "address=0x%016llx] [size=%llu bytes]",
                          ull(addr), ull(size)));
        return;
    }
    const uint64_t end = addr - e->dev_addr + size;  // sync offset + size
    if (end > e->size)
        err_printk(dev, e,
                   strfmt("DMA-API: device driver syncs DMA memory outside allocated range [device address=0x%016llx] "
                          "[allocation size=%llu bytes] [sync offset+size=%llu]",
                          ull(e->dev_addr), ull(e->size), ull(end)));
    if (e->direction == DMA_BIDIRECTIONAL) return;
    if (dir != e->direction)
        err_printk(dev, e,
                   strfmt("DMA-API: device driver syncs DMA memory with different direction [device "
                          "address=0x%016llx] [size=%llu bytes] [mapped with %s] [synced with %s]",
                          ull(addr), ull(e->size), dma_dir_name(e->direction), dma_dir_name(dir)));
    if (to_cpu && e->direction != DMA_FROM_DEVICE && dir != DMA_TO_DEVICE)
        err_printk(dev, e,
                   strfmt("DMA-API: device driver syncs device read-only DMA memory for cpu [device "
                          "address=0x%016llx] [size=%llu bytes] [mapped with %s] [synced with %s]",
                          ull(addr), ull(e->size), dma_dir_name(e->direction), dma_dir_name(dir)));
    if (!to_cpu && e->direction != DMA_TO_DEVICE && dir != DMA_FROM_DEVICE)
        err_printk(dev, e,
                   strfmt("DMA-API: device driver syncs device write-only DMA memory to device [device "
                          "address=0x%016llx] [size=%llu bytes] [mapped with %s] [synced with %s]",
                          ull(addr), ull(e->size), dma_dir_name(e->direction), dma_dir_name(dir)));
}

// The record of one element of a scatterlist of `nents` (debug_dma_map_sg's).
dma_debug::entry dma_debug::sg_entry(pci_dev* d, const scatterlist& s, dma_data_direction dir, int nents) {
    entry e;
    e.dev = d;
    e.type = dma_debug_sg;
    e.paddr = sg_phys(s);
    e.dev_addr = s.dma_address;
    e.size = s.dma_length;
    e.direction = dir;
    e.sg_call_ents = nents;
    return e;
}

dma_map_ops dma_debug::wrap(const dma_map_ops* lower) {
    dma_map_ops o = stack_dma_ops(lower, "dma-debug/" + lower->name);
    auto is_err = [lower](pci_dev* d, dma_addr_t a) {
        return lower->mapping_error ? lower->mapping_error(d, a) != 0 : a == DMA_ERROR_CODE;
    };
    if (lower->map_page)
        o.map_page = [this, lower, is_err](pci_dev* d, uint64_t page, unsigned long off, size_t size,
                                           dma_data_direction dir, const dma_attrs* at) {
            const dma_addr_t a = lower->map_page(d, page, off, size, dir, at);
            hook_cost();
            if (!is_err(d, a)) {  // a failed mapping is not recorded
                entry e;
                e.dev = d;
                e.type = at && at->map_single ? dma_debug_single : dma_debug_page;
                e.paddr = page + off;
                e.dev_addr = a;
                e.size = size;
                e.direction = dir;
                add_entry(e);
            }
            return a;
        };
    o.unmap_page = [this, lower](pci_dev* d, dma_addr_t a, size_t size, dma_data_direction dir,
                                 const dma_attrs* at) {
        if (lower->unmap_page) lower->unmap_page(d, a, size, dir, at);
        hook_cost();
        entry ref;
        ref.dev = d;
        ref.type = at && at->map_single ? dma_debug_single : dma_debug_page;
        ref.dev_addr = a;
        ref.size = size;
        ref.direction = dir;
        check_unmap(ref, lower);
    };
    if (lower->map_sg)
        o.map_sg = [this, lower](pci_dev* d, scatterlist* sg, int nents, dma_data_direction dir, const dma_attrs* at) {
            const int mapped = lower->map_sg(d, sg, nents, dir, at);
            hook_cost();
            for (int i = 0; i < mapped; ++i) {
                entry e = sg_entry(d, sg[i], dir, nents);
                e.sg_mapped_ents = mapped;
                add_entry(e);
            }
            return mapped;
        };
    // 3.4 checks a list before the ops unmap it; the mapped count is the
    // first element's record's.
    o.unmap_sg = [this, lower](pci_dev* d, scatterlist* sg, int nents, dma_data_direction dir, const dma_attrs* at) {
        hook_cost();
        int mapped = nents;
        if (auto pd = devices_.find(d ? d->name : std::string("NULL")); pd != devices_.end() && nents > 0) {
            auto [b, e] = pd->second.entries.equal_range(sg[0].dma_address);
            for (auto it = b; it != e; ++it)
                if (it->second.type == dma_debug_sg) mapped = it->second.sg_mapped_ents;
        }
        for (int i = 0; i < std::min(mapped, nents); ++i) check_unmap(sg_entry(d, sg[i], dir, nents), lower);
        if (lower->unmap_sg) lower->unmap_sg(d, sg, nents, dir, at);
    };
    if (lower->alloc)
        o.alloc = [this, lower](pci_dev* d, size_t size, dma_addr_t* h, gfp_t g, const dma_attrs* at) {
            const uint64_t v = lower->alloc(d, size, h, g, at);
            hook_cost();
            if (v) {
                entry e;
                e.dev = d;
                e.type = dma_debug_coherent;
                e.paddr = v;
                e.dev_addr = *h;
                e.size = size;
                e.direction = DMA_BIDIRECTIONAL;
                add_entry(e);
            }
            return v;
        };
    o.free = [this, lower](pci_dev* d, size_t size, uint64_t v, dma_addr_t h, const dma_attrs* at) {
        hook_cost();
        entry ref;
        ref.dev = d;
        ref.type = dma_debug_coherent;
        ref.paddr = v;
        ref.dev_addr = h;
        ref.size = size;
        ref.direction = DMA_BIDIRECTIONAL;
        check_unmap(ref, lower);
        if (lower->free) lower->free(d, size, v, h, at);
    };
    // Sync ops exist in the layer even where the lower ops have none (the
    // generic wrapper calls dma-debug's hook either way).
    o.sync_single_for_cpu = [this, lower](pci_dev* d, dma_addr_t a, size_t s, dma_data_direction dir) {
        if (lower->sync_single_for_cpu) lower->sync_single_for_cpu(d, a, s, dir);
        check_sync(d, a, s, dir, true);
    };
    o.sync_single_for_device = [this, lower](pci_dev* d, dma_addr_t a, size_t s, dma_data_direction dir) {
        if (lower->sync_single_for_device) lower->sync_single_for_device(d, a, s, dir);
        check_sync(d, a, s, dir, false);
    };
    o.sync_sg_for_cpu = [this, lower](pci_dev* d, scatterlist* sg, int n, dma_data_direction dir) {
        if (lower->sync_sg_for_cpu) lower->sync_sg_for_cpu(d, sg, n, dir);
        for (int i = 0; i < n; ++i) check_sync(d, sg[i].dma_address, sg[i].dma_length, dir, true);
    };
    o.sync_sg_for_device = [this, lower](pci_dev* d, scatterlist* sg, int n, dma_data_direction dir) {
        if (lower->sync_sg_for_device) lower->sync_sg_for_device(d, sg, n, dir);
        for (int i = 0; i < n; ++i) check_sync(d, sg[i].dma_address, sg[i].dma_length, dir, false);
    };
    return o;
}

void dma_debug::device_released(pci_dev& dev) {
    if (global_disable_) return;
    auto pd = devices_.find(dev.name);
    if (pd == devices_.end() || pd->second.entries.empty()) return;
    const entry& e = pd->second.entries.begin()->second;
    err_printk(&dev, nullptr,
               strfmt("DMA-API: device driver has pending DMA allocations while released from device [count=%d]\n"
                      "One of leaked entries details: [device address=0x%016llx] [size=%llu bytes] [mapped with %s] "
                      "[mapped as %s]",
                      int(pd->second.entries.size()), ull(e.dev_addr), ull(e.size), dma_dir_name(e.direction),
                      type_name(e.type)));
}

void dma_debug::check_device_access(pci_dev* dev, dma_addr_t addr, uint64_t len, bool is_write, int sid) {
    if (global_disable_ || !len) return;
    const std::string name = dev ? dev->name
                                 : strfmt("0000:%02x:%02x.%d", (sid >> 8) & 0xff, (sid >> 3) & 0x1f, sid & 7);
    // The live mappings this access may use, as intervals, then their union.
    std::vector<std::pair<uint64_t, uint64_t>> ok;
    if (auto pd = devices_.find(name); pd != devices_.end()) {
        auto& m = pd->second.entries;
        if (!dev && !m.empty()) dev = m.begin()->second.dev;  // for the driver's name
        for (auto it = m.upper_bound(addr + len - 1); it != m.begin();) {
            --it;
            if (it->first + pd->second.max_size <= addr) break;
            const entry& e = it->second;
            const bool allowed = e.direction == DMA_BIDIRECTIONAL ||
                                 (is_write ? e.direction == DMA_FROM_DEVICE : e.direction == DMA_TO_DEVICE);
            if (allowed && e.dev_addr + e.size > addr) ok.push_back({e.dev_addr, e.dev_addr + e.size});
        }
    }
    std::sort(ok.begin(), ok.end());
    uint64_t covered = addr;
    for (auto& [lo, hi] : ok)
        if (lo <= covered && hi > covered) covered = hi;
    if (covered >= addr + len) return;
    const std::string drv = dev ? dev_driver_string(dev) : "pci";
    k_.rep().violation(k_.now(), "dma_debug_device",
                       strfmt("%s %s: device DMA %s at 0x%016llx+%llu outside its live mappings (first byte not "
                              "allowed: 0x%016llx)",
                              drv.c_str(), name.c_str(), is_write ? "write" : "read", ull(addr), ull(len),
                              ull(covered)));
}

void dma_debug::cpu_write(uint64_t pa, uint64_t len) {
    if (global_disable_ || !len || active_pfns_.empty()) return;
    for (uint64_t pfn = pa >> 12; pfn <= (pa + len - 1) >> 12; ++pfn) {
        if (!active_pfns_.count(pfn)) continue;
        // The first live entry on that page names the device.
        for (auto& [name, pd] : devices_)
            for (auto& [a, e] : pd.entries)
                if (e.type != dma_debug_coherent &&
                    (e.direction == DMA_FROM_DEVICE || e.direction == DMA_BIDIRECTIONAL) && e.size &&
                    e.paddr >> 12 <= pfn && (e.paddr + e.size - 1) >> 12 >= pfn) {
                    err_printk(e.dev, &e,
                               strfmt("DMA-API: cpu touching an active dma mapped page [pfn=0x%llx]", ull(pfn)));
                    return;
                }
    }
}

}  // namespace ioatsim::sw
