// Memory of NUMA nodes and its hot-removal (docs/sources/socket-hotplug.md §2):
// kmalloc_node and user pages on a node, get_user_pages pins, and
// offline_pages over a node as the 3.1x kernel does it: isolate the range,
// migrate what is movable, retry while pages are pinned, fail at the timeout,
// fail at once on an unmovable page.
#include "sw/kernel/kernel.h"

#include "sw/kernel/kernel_impl.h"

namespace ioatsim::sw {

namespace {
constexpr uint64_t PAGE = 4096;
uint64_t pages(uint64_t bytes) { return (bytes + PAGE - 1) / PAGE; }
}  // namespace

void kernel::init_nodes() {
    nodes_.resize(std::max<size_t>(cfg_.node_ram.size(), 1));
    for (size_t n = 1; n < cfg_.node_ram.size(); ++n) {
        nodes_[n].base = cfg_.node_ram[n].first;
        nodes_[n].size = cfg_.node_ram[n].second;
        nodes_[n].free[nodes_[n].base] = nodes_[n].size;
    }
    rep().declare("memory.pages_migrated");
    rep().declare("memory.offline_passes");
    rep().declare("percpu.offline_counts_summed");
}

bool kernel::node_memory_online(unsigned node) const { return node < nodes_.size() && nodes_[node].online; }

uint64_t kernel::alloc_pages_node(unsigned node, uint64_t size, bool movable, const std::string& owner,
                                  std::function<void(uint64_t)> moved) {
    if (node >= nodes_.size() || !nodes_[node].online || nodes_[node].isolated) node = 0;
    size = pages(size) * PAGE;
    const uint64_t at = node == 0 ? alloc_phys(size, PAGE) : take_range(nodes_[node].free, size, PAGE);
    if (at) nodes_[node].used[at] = {size, movable, 0, owner, std::move(moved)};
    return at;
}

void kernel::free_pages_node(uint64_t pa) {
    for (size_t n = 0; n < nodes_.size(); ++n) {
        auto it = nodes_[n].used.find(pa);
        if (it == nodes_[n].used.end()) continue;
        const uint64_t size = it->second.size;
        nodes_[n].used.erase(it);
        if (n == 0) free_phys(pa);
        else give_range(nodes_[n].free, pa, size);
        return;
    }
}

namespace {
template <class F> void on_region(std::vector<kernel::node_mem>& nodes, uint64_t pa, F f) {
    for (auto& n : nodes) {
        auto it = n.used.upper_bound(pa);
        if (it == n.used.begin()) continue;
        --it;
        if (pa - it->first < it->second.size) return f(it->second);
    }
}
}  // namespace

void kernel::pin_user_pages(uint64_t pa) { on_region(nodes_, pa, [](node_mem::region& r) { ++r.pins; }); }
void kernel::unpin_user_pages(uint64_t pa) { on_region(nodes_, pa, [](node_mem::region& r) { --r.pins; }); }

// __offline_pages: start_isolate_page_range fails on an unmovable page
// (has_unmovable_pages); then passes of do_migrate_range until nothing is left,
// each failed pass followed by yield and drain_all_pages, up to the timeout.
int kernel::offline_node_memory(unsigned node, std::string& why) {
    if (node == 0 || node >= nodes_.size() || !nodes_[node].online) {
        why = "not a removable node";
        return -22;  // -EINVAL
    }
    node_mem& nm = nodes_[node];
    for (auto& [pa, r] : nm.used)
        if (!r.movable) {
            why = strfmt("%llu unmovable pages of %s at %#llx", (unsigned long long)pages(r.size), r.owner.c_str(),
                         (unsigned long long)pa);
            return -16;  // -EBUSY
        }
    nm.isolated = true;
    const ktime_t deadline = now() + timing("memory.offline_timeout");
    const ktime_t pass_cost = timing("cost.offline_pages_pass");
    waiting w(*this, strfmt("offline_pages: node %u", node));
    for (;;) {
        ++rep().counter("memory.offline_passes");
        std::string pinned;
        uint64_t pinned_pages = 0;
        std::vector<uint64_t> todo;  // the copy's time lets others run: look each one up again
        for (auto& [pa, r] : nm.used) todo.push_back(pa);
        for (uint64_t from : todo) {
            auto it = nm.used.find(from);
            if (it == nm.used.end()) continue;  // freed meanwhile
            node_mem::region& r = it->second;
            if (r.pins > 0) {
                pinned_pages += pages(r.size);
                if (pinned.find(r.owner) == std::string::npos) pinned += (pinned.empty() ? "" : ", ") + r.owner;
                continue;
            }
            // Migrated to the worker's node, else node 0 (alloc_migrate_target).
            const uint64_t size = r.size;
            node_mem::region moving = std::move(r);
            nm.used.erase(it);
            give_range(nm.free, from, size);
            const uint64_t to = alloc_pages_node(cpu_node(smp_processor_id()), size, true, moving.owner, moving.moved);
            // Copied and remapped in one step, then the copy's time charged: a
            // task touching the pages meanwhile waits on the migration entry
            // and then sees the new page.
            std::vector<uint8_t> b(size);
            mem_read(from, b.data(), size);
            mem_write(to, b.data(), size);
            if (moving.moved) moving.moved(to);
            rep().counter("memory.pages_migrated") += int64_t(pages(size));
            cost_copy(to, from, size);
        }
        if (!pinned_pages) break;
        if (now() >= deadline) {
            nm.isolated = false;
            why = strfmt("%llu pages still pinned by %s after %.0f s", (unsigned long long)pinned_pages,
                         pinned.c_str(), double(timing("memory.offline_timeout")) / 1e12);
            return -11;  // -EAGAIN, as __offline_pages' timeout
        }
        cost(pass_cost);
        cond_resched();
    }
    nm.free.clear();
    nm.free[nm.base] = nm.size;
    nm.isolated = false;
    nm.online = false;
    printk(strfmt("Offlined Pages %llu", (unsigned long long)(nm.size / PAGE)));
    return 0;
}

void kernel::online_node_memory(unsigned node) {
    if (node == 0 || node >= nodes_.size()) return;
    nodes_[node].online = true;
}

}  // namespace ioatsim::sw
