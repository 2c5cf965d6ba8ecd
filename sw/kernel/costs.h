// The simulated software's own timing: the CPU time of its plain code paths and
// the intervals it polls at. Each is a platform parameter (listed with the
// hardware's in platform/params.cpp, overridable in presets and scenarios);
// none has a published figure for this hardware, so each is an estimate.
#pragma once
#include <cstdint>

namespace ioatsim::sw {

struct sw_timing_def {
    const char* key;
    uint64_t ps;         // default
    const char* source;
};

constexpr uint64_t ns_ps = 1000;

constexpr sw_timing_def sw_timing[] = {
    {"cost.irq_entry", 500 * ns_ps, "estimate: interrupt entry and exit on a Nehalem-class core"},
    {"cost.cpu_relax", 100 * ns_ps, "estimate: one iteration of a poll loop (cpu_relax and the status read's code)"},
    {"cost.pci_cfg_code", 50 * ns_ps, "estimate: pci_read/write_config's code around the access"},
    {"cost.ioat_prep_desc", 60 * ns_ps, "estimate: ioatdma writing one 64-byte descriptor"},
    {"cost.ioat_submit", 40 * ns_ps, "estimate: ioatdma tx_submit (cookie, head, doorbell check)"},
    {"cost.ioat_cleanup_desc", 40 * ns_ps, "estimate: ioatdma cleanup of one completed descriptor"},
    {"cost.dma_find_channel", 2 * ns_ps, "estimate: dma_find_channel's per-CPU load"},
    {"cost.dma_list_walk", 20 * ns_ps, "estimate: one channel visited by a dmaengine list walk under the mutex"},
    {"cost.net_dma_syscall", 1000 * ns_ps, "estimate: recvmsg entry and exit"},
    {"cost.net_dma_pin_page", 200 * ns_ps, "estimate: get_user_pages, per 4 KiB page of the user buffer"},
    {"cost.igb_rx_packet", 250 * ns_ps, "estimate: igb_clean_rx_irq's work for one received frame"},
    {"cost.offline_pages_pass", 20000 * ns_ps,
     "estimate: one failed pass of offline_pages (yield, then drain_all_pages' IPIs to every CPU)"},
    {"memory.offline_timeout", 120000000000 * ns_ps, "source: __offline_pages' timeout, 120 * HZ (3.1x)"},
    {"dmaengine.percpu_poll", 20000 * ns_ps, "estimate: percpu design, how often removal sums the counters again"},
    // The DMA-mapping layer (sw/dma-mapping; dma-mapping-vtd.md §8).
    {"cost.dma_map_direct", 20 * ns_ps, "estimate: nommu map or unmap (page_to_phys, the mask check)"},
    {"cost.dma_alloc_pages", 300 * ns_ps,
     "estimate: __get_free_pages for a coherent buffer, besides zeroing it at cpu.memcpy_gbps"},
    {"cost.swiotlb_map", 150 * ns_ps,
     "estimate: swiotlb slot search and bookkeeping under io_tlb_lock, besides the bounce copy at cpu.memcpy_gbps"},
    {"cost.swiotlb_unmap", 100 * ns_ps, "estimate: swiotlb slot release under io_tlb_lock, besides the copy back"},
    {"cost.intel_map_page", 1080 * ns_ps,
     "derived: P-VIOMMU (ATC 2011) strict map+unmap of a page, 4,593 cycles of logic besides the invalidation, "
     "half per map at 2.13 GHz; IOVA rbtree steps past the first, clflushes and page-table pages are extra"},
    {"cost.intel_unmap_page", 1080 * ns_ps,
     "derived: P-VIOMMU (ATC 2011) as cost.intel_map_page, the unmap's half; the invalidation is extra"},
    {"cost.iova_rb_step", 10 * ns_ps,
     "estimate: one rbtree node passed by the top-down IOVA search (P-EIOVAR: the search is linear)"},
    {"cost.clflush_line", 30 * ns_ps,
     "estimate: clflush of one page-table line written (ECAP.C is 0: walks do not snoop)"},
    {"cost.dmar_flush_code", 150 * ns_ps,
     "estimate: the code around one context or IOTLB invalidation, besides its MMIO and polling"},
    {"cost.dma_debug_hook", 250 * ns_ps,
     "estimate: a dma-debug hook (hash bucket lock, best-fit lookup, 5-frame stack trace)"},
};

}  // namespace ioatsim::sw
