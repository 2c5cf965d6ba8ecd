// ioatdma's DCA provider, v3 (Linux 3.4 drivers/dma/ioat/dca.c: ioat3_dca_*,
// system_has_dca_enabled), and the DCA parts of ioat3_dma_probe (dma_v3.c) and
// ioat_remove (pci.c). The driver's own reading of the DCA registers
// (registers.h), apart from the model's.
#include "sw/drivers/ioat/ioatdma.h"

#include "sw/dca/dca.h"

#include <vector>

namespace ioatsim::sw {

int ioat_dca_enabled = 1;

namespace {
constexpr int E_NODEV = 19, E_FAULT = 14;  // ENODEV, EFAULT
constexpr unsigned IOAT_DCAOFFSET_OFFSET = 0x14;
constexpr unsigned IOAT3_DCA_GREQID_OFFSET = 0x02, IOAT3_CSI_CONTROL_OFFSET = 0x0C, IOAT3_PCI_CONTROL_OFFSET = 0x0E,
                   IOAT3_APICID_TAG_MAP_OFFSET_LOW = 0x10, IOAT3_APICID_TAG_MAP_OFFSET_HIGH = 0x14;
constexpr uint16_t IOAT3_CSI_CONTROL_PREFETCH = 0x1, IOAT3_PCI_CONTROL_MEMWR = 0x1;
constexpr uint32_t IOAT_DCA_GREQID_VALID = 0x20000000, IOAT_DCA_GREQID_LASTID = 0x80000000;
constexpr unsigned IOAT_DCACTRL_OFFSET = 0x30;
constexpr uint32_t IOAT_DMA_DCA_ANY_CPU = ~0u;
constexpr uint32_t IOAT_CAP_XOR = 0x00000100, IOAT_CAP_PQ = 0x00000200;
constexpr uint8_t DCA3_TAG_MAP_BIT_TO_INV = 0x80, DCA3_TAG_MAP_BIT_TO_SEL = 0x40, DCA3_TAG_MAP_LITERAL_VAL = 0x1,
                  DCA_TAG_MAP_MASK = 0xDF;
constexpr unsigned IOAT_TAG_MAP_LEN = 8;

// struct ioat_dca_priv and the ioat3_dca_ops.
class ioat3_dca : public dca_provider {
public:
    ioat3_dca(kernel& k, dca_core& core, uint64_t iobase, uint64_t dca_base, int slots)
        : k_(k), core_(core), iobase_(iobase), dca_base_(dca_base), req_slots_(size_t(slots)) {}

    uint8_t tag_map[IOAT_TAG_MAP_LEN] = {};

    int add_requester(const dca_device& dev) override {
        uint16_t id = dev.rid();
        if (requester_count_ == int(req_slots_.size())) return -E_NODEV;
        for (size_t i = 0; i < req_slots_.size(); ++i) {
            if (!req_slots_[i].pdev.empty()) continue;
            ++requester_count_;  // found an empty slot
            req_slots_[i] = {dev.name, id};
            uint16_t global_req_table = k_.readw(dca_base_ + IOAT3_DCA_GREQID_OFFSET);
            k_.writel(id | IOAT_DCA_GREQID_VALID, iobase_ + global_req_table + i * 4);
            return int(i);
        }
        return -E_FAULT;  // "ioatdma->requester_count is out of whack"
    }

    int remove_requester(const dca_device& dev) override {
        for (size_t i = 0; i < req_slots_.size(); ++i) {
            if (req_slots_[i].pdev != dev.name) continue;
            uint16_t global_req_table = k_.readw(dca_base_ + IOAT3_DCA_GREQID_OFFSET);
            k_.writel(0, iobase_ + global_req_table + i * 4);
            req_slots_[i] = {};
            --requester_count_;
            return int(i);
        }
        return -E_NODEV;
    }

    // Each tag bit from its map entry: an APIC ID bit (SEL, tested first, so
    // SEL|INV selects without inverting), an inverted one (INV), or a literal.
    uint8_t get_tag(const dca_device&, unsigned cpu) override {
        unsigned apic_id = core_.cpu_physical_id(cpu);
        uint8_t tag = 0;
        for (unsigned i = 0; i < IOAT_TAG_MAP_LEN; ++i) {
            uint8_t entry = tag_map[i];
            unsigned value;
            if (entry & DCA3_TAG_MAP_BIT_TO_SEL) {
                unsigned bit = entry & ~(DCA3_TAG_MAP_BIT_TO_SEL | DCA3_TAG_MAP_BIT_TO_INV);
                value = (apic_id & (1u << bit)) ? 1 : 0;
            } else if (entry & DCA3_TAG_MAP_BIT_TO_INV) {
                unsigned bit = entry & ~DCA3_TAG_MAP_BIT_TO_INV;
                value = (apic_id & (1u << bit)) ? 0 : 1;
            } else {
                value = (entry & DCA3_TAG_MAP_LITERAL_VAL) ? 1 : 0;
            }
            tag = uint8_t(tag | value << i);
        }
        return tag;
    }

    int dev_managed(const dca_device& dev) override {
        for (const slot& s : req_slots_)
            if (s.pdev == dev.name) return 1;
        return 0;
    }

private:
    struct slot {
        std::string pdev;  // the requester (struct pci_dev *), by name
        uint16_t rid = 0;
    };
    kernel& k_;
    dca_core& core_;
    uint64_t iobase_, dca_base_;
    int requester_count_ = 0;
    std::vector<slot> req_slots_;
};

dca_device dca_device_of(const pci_dev& p) {
    dca_device d;
    d.name = p.name;
    d.vendor = p.vendor;
    d.device = p.device;
    d.bus = p.bus;
    d.devfn = p.devfn;
    d.rc = p.bridge;
    return d;
}
}  // namespace

// system_has_dca_enabled: the CPU has X86_FEATURE_DCA and the BIOS turned DCA
// on (CPUID level 9, bit 0); its dev_dbg lines are compiled out.
static bool system_has_dca_enabled(dca_core* dca) {
    return dca && dca->boot_cpu_has_dca() && (dca->cpuid_eax_9() & 1);
}

// ioat3_dma_probe reads DMACAPABILITY and, when the system has DCA (whatever
// ioat_dca_enabled says), drops XOR and PQ before it sets up the operations.
uint32_t ioatdma_device::dca_mask_raid(uint32_t cap) {
    if (system_has_dca_enabled(dca_service) && (cap & (IOAT_CAP_XOR | IOAT_CAP_PQ)))
        cap &= ~(IOAT_CAP_XOR | IOAT_CAP_PQ);
    return cap;
}

// After ioat_probe (the channels reset), before ioat_register.
void ioatdma_device::dca_any_cpu() {
    for (dma_chan* c : channels) k_.writel(IOAT_DMA_DCA_ANY_CPU, static_cast<ioat_chan*>(c)->reg + IOAT_DCACTRL_OFFSET);
}

static int ioat3_dca_count_dca_slots(kernel& k, uint64_t iobase, uint16_t dca_offset) {
    uint16_t global_req_table = k.readw(iobase + dca_offset + IOAT3_DCA_GREQID_OFFSET);
    if (global_req_table == 0) return 0;
    int slots = 0;
    uint32_t req;
    do {
        req = k.readl(iobase + global_req_table + uint64_t(slots) * 4);
        ++slots;
    } while ((req & IOAT_DCA_GREQID_LASTID) == 0);
    return slots;
}

// After ioat_register and the sysfs kobject; a failure leaves device->dca null,
// silently (the 3.4 source prints nothing, blocked or not).
void ioatdma_device::ioat3_dca_init() {
    kernel::in_function in(k_, "ioat3_dca_init");
    dca = nullptr;
    if (!system_has_dca_enabled(dca_service)) return;
    uint16_t dca_offset = k_.readw(reg_base_ + IOAT_DCAOFFSET_OFFSET);
    if (dca_offset == 0) return;
    int slots = ioat3_dca_count_dca_slots(k_, reg_base_, dca_offset);
    if (slots == 0) return;
    uint64_t dca_base = reg_base_ + dca_offset;
    auto* p = dca_service->alloc_dca_provider<ioat3_dca>(k_, *dca_service, reg_base_, dca_base, slots);
    // "some bios might not know to turn these on"
    uint16_t csi_fsb_control = k_.readw(dca_base + IOAT3_CSI_CONTROL_OFFSET);
    if ((csi_fsb_control & IOAT3_CSI_CONTROL_PREFETCH) == 0)
        k_.writew(csi_fsb_control | IOAT3_CSI_CONTROL_PREFETCH, dca_base + IOAT3_CSI_CONTROL_OFFSET);
    uint16_t pcie_control = k_.readw(dca_base + IOAT3_PCI_CONTROL_OFFSET);
    if ((pcie_control & IOAT3_PCI_CONTROL_MEMWR) == 0)
        k_.writew(pcie_control | IOAT3_PCI_CONTROL_MEMWR, dca_base + IOAT3_PCI_CONTROL_OFFSET);
    // The APIC-to-tag map as the BIOS left it; 3.4 does not check it (v3.9's
    // dca3_tag_map_invalid would refuse the unprogrammed 0x80 x5 default).
    uint64_t full = k_.readl(dca_base + IOAT3_APICID_TAG_MAP_OFFSET_LOW);
    full |= uint64_t(k_.readl(dca_base + IOAT3_APICID_TAG_MAP_OFFSET_HIGH)) << 32;
    for (unsigned i = 0; i < IOAT_TAG_MAP_LEN; ++i) p->tag_map[i] = uint8_t(full >> (8 * i)) & DCA_TAG_MAP_MASK;
    if (dca_service->register_dca_provider(p, dca_device_of(pdev_)) < 0) {
        dca_service->free_dca_provider(p);
        return;
    }
    dca = p;
}

// ioat_remove, straight after "Removing dma and dca services" (3.4; v5.6 after
// ioat_shutdown): requesters are told, the provider goes and is freed.
void ioatdma_device::dca_remove() {
    if (!dca || !dca_service) return;
    dca_service->unregister_dca_provider(dca, dca_device_of(pdev_));
    dca_service->free_dca_provider(dca);
    dca = nullptr;
}

}  // namespace ioatsim::sw
