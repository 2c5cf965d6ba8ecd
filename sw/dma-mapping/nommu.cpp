// The nommu ("direct") ops of 3.4 (arch/x86/kernel/pci-nommu.c; dma-mapping-vtd.md
// §1.4): the bus address is the physical address, and a device whose mask
// does not reach it gets DMA_ERROR_CODE.
#include "sw/dma-mapping/dma_mapping.h"

namespace ioatsim::sw {

namespace {

// check_addr: the overflow is printed only for masks of 32 bits or more.
bool check_addr(kernel& k, const char* name, pci_dev* dev, dma_addr_t bus, size_t size) {
    if (dev && !dma_capable(dev, bus, size)) {
        if (dev->dma_mask >= DMA_BIT_MASK(32))
            k.printk(strfmt("nommu_%s: overflow %llx+%zu of device mask %llx", name, (unsigned long long)bus, size,
                            (unsigned long long)dev->dma_mask));
        return false;
    }
    return true;
}

}  // namespace

dma_map_ops make_nommu_ops(dma_mapping& dm) {
    kernel& k = dm.k();
    const ktime_t cost = k.timing("cost.dma_map_direct");
    dma_map_ops o;
    o.name = "nommu";
    o.is_phys = 1;
    o.map_page = [&k, cost](pci_dev* dev, uint64_t page, unsigned long offset, size_t size, dma_data_direction,
                            const dma_attrs*) -> dma_addr_t {
        k.cost(cost);
        dma_addr_t bus = page + offset;
        if (size == 0) k.printk("WARNING: at arch/x86/kernel/pci-nommu.c nommu_map_page()");  // WARN_ON(size == 0)
        if (!check_addr(k, "map_single", dev, bus, size)) return DMA_ERROR_CODE;
        return bus;  // flush_write_buffers: nothing on this CPU
    };
    o.map_sg = [&k, cost](pci_dev* dev, scatterlist* sg, int nents, dma_data_direction, const dma_attrs*) {
        if (nents == 0 || sg[0].length == 0) k.printk("WARNING: at arch/x86/kernel/pci-nommu.c nommu_map_sg()");
        for (int i = 0; i < nents; ++i) {
            k.cost(cost);
            sg[i].dma_address = sg_phys(sg[i]);
            if (!check_addr(k, "map_sg", dev, sg[i].dma_address, sg[i].length)) return 0;
            sg[i].dma_length = sg[i].length;
        }
        return nents;
    };
    o.alloc = [&k](pci_dev* dev, size_t size, dma_addr_t* handle, gfp_t gfp, const dma_attrs*) {
        return dma_generic_alloc_coherent(k, dev, size, handle, gfp);
    };
    o.free = [&k](pci_dev*, size_t, uint64_t vaddr, dma_addr_t, const dma_attrs*) {
        dma_generic_free_coherent(k, vaddr);
    };
    // sync for the device: flush_write_buffers, nothing on this CPU (no PPro erratum).
    o.sync_single_for_device = [](pci_dev*, dma_addr_t, size_t, dma_data_direction) {};
    o.sync_sg_for_device = [](pci_dev*, scatterlist*, int, dma_data_direction) {};
    return o;
}

}  // namespace ioatsim::sw
