// The DMA API's entry points for drivers and clients (see dma_api.h).
#include "sw/dma-mapping/dma_api.h"

namespace ioatsim::sw {

namespace {
dma_mapping* layer(pci_dev* dev) { return dev ? dev->dma_layer : nullptr; }
}  // namespace

dma_addr_t dma_map_single(pci_dev* dev, uint64_t cpu_addr, size_t size, dma_data_direction dir) {
    if (dma_mapping* dm = layer(dev)) return dm->dma_map_single(dev, cpu_addr, size, dir);
    return cpu_addr;
}

void dma_unmap_single(pci_dev* dev, dma_addr_t addr, size_t size, dma_data_direction dir) {
    if (dma_mapping* dm = layer(dev)) dm->dma_unmap_single(dev, addr, size, dir);
}

dma_addr_t dma_map_page(pci_dev* dev, uint64_t page, unsigned long offset, size_t size, dma_data_direction dir) {
    if (dma_mapping* dm = layer(dev)) return dm->dma_map_page(dev, page, offset, size, dir);
    return page + offset;
}

void dma_unmap_page(pci_dev* dev, dma_addr_t addr, size_t size, dma_data_direction dir) {
    if (dma_mapping* dm = layer(dev)) dm->dma_unmap_page(dev, addr, size, dir);
}

int dma_mapping_error(pci_dev* dev, dma_addr_t addr) {
    if (dma_mapping* dm = layer(dev)) return dm->dma_mapping_error(dev, addr);
    return addr == DMA_ERROR_CODE;
}

uint64_t dma_alloc_coherent(kernel& k, pci_dev* dev, size_t size, dma_addr_t* handle) {
    if (dma_mapping* dm = layer(dev)) return dm->dma_alloc_coherent(dev, size, handle);
    const uint64_t pa = k.alloc_phys(size, PAGE_SIZE);
    *handle = pa;
    return pa;
}

void dma_free_coherent(kernel& k, pci_dev* dev, size_t size, uint64_t cpu_addr, dma_addr_t handle) {
    if (dma_mapping* dm = layer(dev)) return dm->dma_free_coherent(dev, size, cpu_addr, handle);
    k.free_phys(cpu_addr);
}

// Without a layer: x86's generic dma_supported (no ops hook, no forbid_dac,
// no iommu=forcesac), a mask under 24 bits refused.
int pci_set_dma_mask(pci_dev* dev, uint64_t mask) {
    if (dma_mapping* dm = layer(dev)) return dm->pci_set_dma_mask(dev, mask);
    if (!dev || !dev->dma_mask || mask < DMA_BIT_MASK(24)) return -5;  // -EIO
    dev->dma_mask = mask;
    return 0;
}

int pci_set_consistent_dma_mask(pci_dev* dev, uint64_t mask) {
    if (dma_mapping* dm = layer(dev)) return dm->pci_set_consistent_dma_mask(dev, mask);
    if (!dev || mask < DMA_BIT_MASK(24)) return -5;
    dev->coherent_dma_mask = mask;
    return 0;
}

}  // namespace ioatsim::sw
