// The DMA API as drivers and clients call it (3.4 asm-generic/dma-mapping-common.h,
// asm-generic/pci-dma-compat.h): each call goes to the layer of the device it
// names (sw/dma-mapping/dma_mapping.h: its ops, dma-debug, the costs). A
// device without a layer (software.iommu off and software.dma_debug off, or a
// test's device) gets nommu's answer with nothing charged: the bus address is
// the physical one, coherent memory the kernel's pages, so such runs are the
// ones the model made before the layer existed.
#pragma once
#include "sw/dma-mapping/dma_mapping.h"

namespace ioatsim::sw {

dma_addr_t dma_map_single(pci_dev* dev, uint64_t cpu_addr, size_t size, dma_data_direction dir);
void dma_unmap_single(pci_dev* dev, dma_addr_t addr, size_t size, dma_data_direction dir);
// `page` is the page's physical address (page_to_phys).
dma_addr_t dma_map_page(pci_dev* dev, uint64_t page, unsigned long offset, size_t size, dma_data_direction dir);
void dma_unmap_page(pci_dev* dev, dma_addr_t addr, size_t size, dma_data_direction dir);
int dma_mapping_error(pci_dev* dev, dma_addr_t addr);
// The CPU address (physical) or 0; *handle the device's address.
uint64_t dma_alloc_coherent(kernel& k, pci_dev* dev, size_t size, dma_addr_t* handle);
void dma_free_coherent(kernel& k, pci_dev* dev, size_t size, uint64_t cpu_addr, dma_addr_t handle);
// 0 or -EIO (x86 dma_set_mask / dma_set_coherent_mask).
int pci_set_dma_mask(pci_dev* dev, uint64_t mask);
int pci_set_consistent_dma_mask(pci_dev* dev, uint64_t mask);

// A physical address as the page and offset dma_map_page takes.
inline uint64_t phys_page(uint64_t pa) { return pa & ~(PAGE_SIZE - 1); }
inline unsigned long phys_offset(uint64_t pa) { return (unsigned long)(pa & (PAGE_SIZE - 1)); }

}  // namespace ioatsim::sw
