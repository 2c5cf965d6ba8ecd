// Tracked kernel memory: dma_pool and freed-object tracking. The simulated kernel
// never really frees a C++ object that software may still point to; it marks it
// freed, and every later use is reported to the checker (use after free, double
// free, a pool destroyed while busy) instead of becoming undefined behaviour.
#pragma once
#include "sw/kernel/kernel.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace ioatsim::sw {

// Base of objects Linux would kfree (or free as devm resources): dma_chan,
// the driver's device, per-CPU blocks.
class tracked {
public:
    explicit tracked(std::string kind) : kind_(std::move(kind)) {}
    virtual ~tracked() = default;
    void set_name(std::string n) { name_ = std::move(n); }
    const std::string& name() const { return name_; }
    bool freed() const { return freed_; }
    // Frees the object: later touches are reported; a second free is a double free.
    void kfree(kernel& k);
    // Checks a use; false (and a violation) when the object was freed.
    bool touch(kernel& k, const char* what) const;
private:
    std::string kind_, name_;
    bool freed_ = false;
};

// A dma_pool of fixed-size blocks carved from 4 KiB pages of simulated DRAM.
class dma_pool {
public:
    static constexpr uint64_t page_size = 4096;
    dma_pool(kernel& k, std::string name, std::string owner, uint64_t size, uint64_t align);
    // Where its pages come from: 3.4's pool_alloc_page takes each page with
    // dma_alloc_coherent on the pool's device and pool_free_page gives it back
    // with dma_free_coherent. Unset: the kernel's pages, bus address = physical.
    std::function<uint64_t(uint64_t size, uint64_t* dma)> page_alloc;
    std::function<void(uint64_t vaddr, uint64_t dma)> page_free;
    // A block's CPU address (physical), 0 when out of memory or destroyed;
    // `dma`, when given, gets its bus address (dma_pool_alloc's handle).
    uint64_t alloc(uint64_t* dma = nullptr);
    void free(uint64_t pa);
    // dma_pool_destroy: a page with live blocks is logged busy (and leaked, as
    // Linux does); the pool itself is gone afterwards.
    void destroy();
    bool destroyed() const { return destroyed_; }
    bool live(uint64_t pa) const;
    unsigned busy_pages() const;
    const std::string& name() const { return name_; }
    // The kernel virtual address of a physical one (the direct map), for messages.
    static uint64_t vaddr(uint64_t pa) { return 0xffff880000000000ull + pa; }
private:
    struct page { uint64_t pa; std::vector<bool> used; unsigned in_use = 0; uint64_t dma = 0; };
    kernel& k_;
    std::string name_, owner_;  // owner: "ioatdma 0000:80:16.7", the device it logs against
    uint64_t size_, blocks_per_page_;
    std::vector<page> pages_;
    bool destroyed_ = false;
};

}  // namespace ioatsim::sw
