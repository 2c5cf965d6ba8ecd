#include "sw/kernel/slab.h"

namespace ioatsim::sw {

void tracked::kfree(kernel& k) {
    if (freed_) {
        k.printk("BUG: double free of " + kind_ + " " + name_);
        k.rep().violation(k.now(), "double_free", kind_ + " " + name_);
        return;
    }
    freed_ = true;
    k.poll_disturb();  // a poll reading it now finds it freed
}

bool tracked::touch(kernel& k, const char* what) const {
    if (!freed_) return true;
    k.rep().violation(k.now(), "use_after_free",
                      std::string(what) + " touched freed " + kind_ + " " + name_ + " (" + k.current_name() + ")");
    return false;
}

dma_pool::dma_pool(kernel& k, std::string name, std::string owner, uint64_t size, uint64_t align)
    : k_(k), name_(std::move(name)), owner_(std::move(owner)) {
    size_ = (size + align - 1) / align * align;
    blocks_per_page_ = page_size / size_;
    k_.rep().declare("violations.pool_busy_at_destroy");
}

uint64_t dma_pool::alloc(uint64_t* dma) {
    if (destroyed_) {
        k_.rep().violation(k_.now(), "use_after_free", "alloc from destroyed dma_pool " + name_);
        return 0;
    }
    for (auto& p : pages_) {
        if (p.in_use == blocks_per_page_) continue;
        for (uint64_t i = 0; i < blocks_per_page_; ++i)
            if (!p.used[i]) {
                p.used[i] = true;
                ++p.in_use;
                if (dma) *dma = p.dma + i * size_;
                return p.pa + i * size_;
            }
    }
    uint64_t handle = 0;
    uint64_t pa = page_alloc ? page_alloc(page_size, &handle) : k_.alloc_phys(page_size, page_size);
    if (!pa) return 0;
    if (!page_alloc) handle = pa;
    pages_.push_back({pa, std::vector<bool>(blocks_per_page_, false), 1, handle});
    pages_.back().used[0] = true;
    if (dma) *dma = handle;
    return pa;
}

void dma_pool::free(uint64_t pa) {
    if (destroyed_) {
        k_.rep().violation(k_.now(), "use_after_free", "free into destroyed dma_pool " + name_);
        return;
    }
    for (auto& p : pages_) {
        if (pa < p.pa || pa >= p.pa + page_size) continue;
        uint64_t i = (pa - p.pa) / size_;
        if (!p.used[i]) {
            k_.rep().violation(k_.now(), "double_free", "block of dma_pool " + name_);
            return;
        }
        p.used[i] = false;
        --p.in_use;
        return;
    }
    k_.rep().violation(k_.now(), "bad_free", "address not from dma_pool " + name_);
}

bool dma_pool::live(uint64_t pa) const {
    for (auto& p : pages_)
        if (pa >= p.pa && pa < p.pa + page_size) return !destroyed_ && p.used[(pa - p.pa) / size_];
    return false;
}

unsigned dma_pool::busy_pages() const {
    unsigned n = 0;
    for (auto& p : pages_) n += p.in_use != 0;
    return n;
}

void dma_pool::destroy() {
    if (destroyed_) {
        k_.rep().violation(k_.now(), "double_free", "dma_pool " + name_ + " destroyed twice");
        return;
    }
    for (auto& p : pages_) {
        if (p.in_use) {
            k_.printk(strfmt("%s: dma_pool_destroy %s, %llx busy", owner_.c_str(), name_.c_str(),
                             (unsigned long long)vaddr(p.pa)));
            ++k_.rep().counter("violations.pool_busy_at_destroy");
            continue;  // a busy page is leaked, not freed
        }
        if (page_free) page_free(p.pa, p.dma);
        else k_.free_phys(p.pa);
    }
    destroyed_ = true;
}

}  // namespace ioatsim::sw
