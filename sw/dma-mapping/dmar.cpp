// One VT-d unit as 3.4's driver programs it (dma-mapping-vtd.md §3.1, §5, §6.3).
#include "sw/dma-mapping/dmar.h"

#include <iterator>
namespace ioatsim::sw {
using namespace dmar;

namespace {
// dma_remap_fault_reasons[] and irq_remap_fault_reasons[] (§6.2).
const char* const dma_remap_fault_reasons[] = {
    "Software",
    "Present bit in root entry is clear",
    "Present bit in context entry is clear",
    "Invalid context entry",
    "Access beyond MGAW",
    "PTE Write access is not set",
    "PTE Read access is not set",
    "Next page table ptr is invalid",
    "Root table address invalid",
    "Context table ptr is invalid",
    "non-zero reserved fields in RTP",
    "non-zero reserved fields in CTP",
    "non-zero reserved fields in PTE",
};
const char* const irq_remap_fault_reasons[] = {
    "Detected reserved fields in the decoded interrupt-remapped request",
    "Interrupt index exceeded the interrupt-remapping table size",
    "Present field in the IRTE entry is clear",
    "Error accessing interrupt-remapping table pointed by IRTA_REG",
    "Detected reserved fields in the IRTE entry",
    "Blocked a compatibility format interrupt request",
    "Blocked an interrupt request due to source-id verification failure",
};
}  // namespace

const char* dmar_get_fault_reason(uint8_t reason, bool* intr_remap) {
    *intr_remap = false;
    if (reason >= 0x20 && reason - 0x20u < std::size(irq_remap_fault_reasons)) {
        *intr_remap = true;
        return irq_remap_fault_reasons[reason - 0x20];
    }
    if (reason < std::size(dma_remap_fault_reasons)) return dma_remap_fault_reasons[reason];
    return "Unknown";
}

intel_iommu::intel_iommu(dma_mapping& d, const dmar_drhd_unit& u, int seq)
    : dm(d), k(d.k()), name("dmar" + std::to_string(seq)), seq_id(seq), drhd(u), reg(u.reg_base_addr),
      relax_(k.timing("cost.cpu_relax")), flush_code_(k.timing("cost.dmar_flush_code")),
      clflush_(k.timing("cost.clflush_line")) {
    register_lock.name = "iommu->register_lock";
    if (d.config().reg_access) {
        io_ = d.config().reg_access(reg);
    } else {
        k.ioremap(reg, PAGE_SIZE);  // alloc_iommu maps one page: FRO and IRO lie inside it here
        io_.readl = [this](uint64_t a) { return k.readl(a); };
        io_.writel = [this](uint64_t a, uint32_t v) { k.writel(v, a); };
    }
    if (auto present = d.config().unit_present) {
        // Model-only: each access to a unit whose hardware is gone (its IOH
        // removed) is counted; the access itself goes ahead (all ones, dropped).
        auto stale = [this, present] {
            if (!present(reg)) dm.stats().count("dma_map.stale_drhd_accesses");
        };
        dmar_reg_access inner = io_;
        io_.readl = [inner, stale](uint64_t a) { stale(); return inner.readl(a); };
        io_.writel = [inner, stale](uint64_t a, uint32_t v) { stale(); inner.writel(a, v); };
    }
    if (!reg) {  // check_zero_address
        broken = true;
        k.printk("Your BIOS is broken; DMAR reported at address zero!");
        return;
    }
    caps.cap = readq(CAP_REG);
    caps.ecap = readq(ECAP_REG);
    if (caps.cap == ~0ull && caps.ecap == ~0ull) {
        broken = true;
        k.printk(strfmt("Your BIOS is broken; DMAR reported at address %llx returns all ones!", (unsigned long long)reg));
        return;
    }
    // iommu_calculate_agaw: the largest SAGAW bit within 48 bits; msagaw within 64.
    for (int a = (48 - 30) / 9; a >= 0 && agaw < 0; --a)
        if (caps.sagaw() >> a & 1) agaw = a;
    for (int a = (64 - 30) / 9; a >= 0 && msagaw < 0; --a)
        if (caps.sagaw() >> a & 1) msagaw = a;
    const uint32_t ver = readl(VER_REG);
    k.printk(strfmt("IOMMU %d: reg_base_addr %llx ver %d:%d cap %llx ecap %llx", seq_id, (unsigned long long)reg,
                    ver >> 4 & 0xf, ver & 0xf, (unsigned long long)caps.cap, (unsigned long long)caps.ecap));
    // iommu_init_domains: one bit per domain id; id 0 is reserved in caching mode.
    domain_ids.assign(caps.ndoms(), false);
    if (caps.caching_mode() && !domain_ids.empty()) domain_ids[0] = true;
}

uint64_t intel_iommu::readq(uint32_t off) {
    const uint64_t lo = readl(off);
    return uint64_t(readl(off + 4)) << 32 | lo;
}

void intel_iommu::writeq(uint32_t off, uint64_t v) {
    writel(off, uint32_t(v));
    writel(off + 4, uint32_t(v >> 32));
}

void intel_iommu::flush_cache(uint64_t pa, uint64_t len) {
    if (caps.coherent() || !len) return;
    const uint64_t lines = ((pa + len + 63) >> 6) - (pa >> 6);
    k.cost(clflush_ * lines);
}

template <class Read, class Done> uint64_t intel_iommu::wait_op(uint32_t off, Read read, Done done) {
    const ktime_t start = k.now();
    kernel::waiting w(k, name + ": IOMMU_WAIT_OP");
    for (;;) {
        const uint64_t v = read(off);
        if (done(v)) return v;
        if (k.now() - start > DMAR_OPERATION_TIMEOUT) {
            k.printk("Kernel panic - not syncing: DMAR hardware is malfunctioning");
            k.rep().violation(k.now(), "bug", name + ": DMAR hardware is malfunctioning");
            return v;
        }
        k.cost(relax_);
    }
}

void intel_iommu::set_root_entry() {
    k.spin_lock(register_lock);
    writeq(RTADDR_REG, root_entry);
    writel(GCMD_REG, gcmd | GCMD_SRTP);
    wait_op(GSTS_REG, [this](uint32_t o) { return readl(o); }, [](uint64_t s) { return s & GSTS_RTPS; });
    k.spin_unlock(register_lock);
}

void intel_iommu::enable_translation() {
    k.spin_lock(register_lock);
    gcmd |= GCMD_TE;
    writel(GCMD_REG, gcmd);
    wait_op(GSTS_REG, [this](uint32_t o) { return readl(o); }, [](uint64_t s) { return s & GSTS_TES; });
    k.spin_unlock(register_lock);
}

void intel_iommu::disable_translation() {
    k.spin_lock(register_lock);
    gcmd &= ~GCMD_TE;
    writel(GCMD_REG, gcmd);
    wait_op(GSTS_REG, [this](uint32_t o) { return readl(o); }, [](uint64_t s) { return !(s & GSTS_TES); });
    k.spin_unlock(register_lock);
}

void intel_iommu::flush_write_buffer() {
    if (!caps.rwbf()) return;
    k.spin_lock(register_lock);
    writel(GCMD_REG, gcmd | GCMD_WBF);
    wait_op(GSTS_REG, [this](uint32_t o) { return readl(o); }, [](uint64_t s) { return !(s & GSTS_WBFS); });
    k.spin_unlock(register_lock);
}

void intel_iommu::disable_protect_mem_regions() {
    if (!(caps.cap >> 5 & 3)) return;  // neither PLMR nor PHMR
    k.spin_lock(register_lock);
    writel(PMEN_REG, readl(PMEN_REG) & ~PMEN_EPM);
    wait_op(PMEN_REG, [this](uint32_t o) { return readl(o); }, [](uint64_t s) { return !(s & PMEN_PRS); });
    k.spin_unlock(register_lock);
}

int intel_iommu::enable_qi() {
    if (!caps.qis()) return -19;
    if (!qi) {
        qi = std::make_unique<q_inval>();
        qi->q_lock.name = "qi->q_lock";
        qi->desc = k.alloc_phys(PAGE_SIZE, PAGE_SIZE);  // 256 descriptors, QS = 0
        qi->desc_status = k.alloc_phys(QI_LENGTH * 4, 64);
        if (!qi->desc || !qi->desc_status) return -12;
        zero_phys(k, qi->desc, PAGE_SIZE);
        zero_phys(k, qi->desc_status, QI_LENGTH * 4);
    }
    qi->free_head = qi->free_tail = 0;
    qi->free_cnt = QI_LENGTH;
    k.spin_lock(register_lock);
    writeq(IQT_REG, 0);
    writeq(IQA_REG, qi->desc);
    gcmd |= GCMD_QIE;
    writel(GCMD_REG, gcmd);
    wait_op(GSTS_REG, [this](uint32_t o) { return readl(o); }, [](uint64_t s) { return s & GSTS_QIES; });
    k.spin_unlock(register_lock);
    return 0;
}

// dmar_disable_qi: wait for the hardware to drain (IQH == IQT), then QIE off.
void intel_iommu::disable_qi() {
    if (!(readl(GSTS_REG) & GSTS_QIES)) return;
    k.spin_lock(register_lock);
    wait_op(IQH_REG, [this](uint32_t o) { return readq(o) ^ readq(IQT_REG); }, [](uint64_t d) { return d == 0; });
    gcmd &= ~GCMD_QIE;
    writel(GCMD_REG, gcmd);
    wait_op(GSTS_REG, [this](uint32_t o) { return readl(o); }, [](uint64_t s) { return !(s & GSTS_QIES); });
    k.spin_unlock(register_lock);
}

// --- invalidation --------------------------------------------------------------

void intel_iommu::flush_context(uint16_t did, uint16_t sid, uint8_t fm, uint64_t type) {
    dm.stats().count("dma_map.context_flushes");
    k.cost(flush_code_);
    if (qi) {
        // Type 1: granularity [5:4] from CIRG, DID [31:16], SID [47:32], FM [49:48].
        const uint64_t lo = QI_CC_TYPE | (type >> 61) << 4 | uint64_t(did) << 16 | uint64_t(sid) << 32 |
                            uint64_t(fm & 3) << 48;
        qi_submit_sync(lo, 0);
    } else {
        flush_context_reg(did, sid, fm, type);
    }
}

void intel_iommu::flush_context_reg(uint16_t did, uint16_t sid, uint8_t fm, uint64_t type) {
    uint64_t val = CCMD_ICC | type;
    if (type == CCMD_DOMAIN_INVL) val |= did;
    if (type == CCMD_DEVICE_INVL) val |= did | uint64_t(sid) << 16 | uint64_t(fm & 3) << 32;
    k.spin_lock(register_lock);
    writeq(CCMD_REG, val);
    wait_op(CCMD_REG, [this](uint32_t o) { return readq(o); }, [](uint64_t v) { return !(v & CCMD_ICC); });
    k.spin_unlock(register_lock);
}

void intel_iommu::flush_iotlb(uint16_t did, uint64_t addr, unsigned size_order, uint64_t type) {
    const ktime_t t0 = k.now();
    dm.stats().count("dma_map.iotlb_flushes");
    dm.stats().count(type == TLB_GLOBAL_FLUSH ? "dma_map.iotlb_global"
                     : type == TLB_DSI_FLUSH  ? "dma_map.iotlb_dsi"
                                              : "dma_map.iotlb_psi");
    k.cost(flush_code_);
    if (qi) {
        // Type 2: granularity [5:4], DW 6, DR 7, DID [31:16]; high: address | AM.
        const uint64_t lo = QI_IOTLB_TYPE | (type >> 60) << 4 | uint64_t(caps.write_drain()) << 6 |
                            uint64_t(caps.read_drain()) << 7 | uint64_t(did) << 16;
        const uint64_t hi = type == TLB_PSI_FLUSH ? (addr & VTD_PAGE_MASK) | (size_order & 0x3f) : 0;
        qi_submit_sync(lo, hi);
    } else {
        flush_iotlb_reg(did, addr, size_order, type);
    }
    dm.stats().time("dma_map.iotlb_flush_ns", k.now() - t0);
}

void intel_iommu::flush_iotlb_reg(uint16_t did, uint64_t addr, unsigned size_order, uint64_t type) {
    const uint32_t tlb_off = caps.iotlb_offset();
    uint64_t val = TLB_IVT | type, val_iva = 0;
    if (type != TLB_GLOBAL_FLUSH) val |= uint64_t(did) << 32;
    if (type == TLB_PSI_FLUSH) val_iva = size_order | addr;
    if (caps.write_drain()) val |= TLB_WRITE_DRAIN;  // 3.4 leaves read draining commented out
    k.spin_lock(register_lock);
    if (val_iva) writeq(tlb_off, val_iva);
    writeq(tlb_off + 8, val);
    val = wait_op(tlb_off + 8, [this](uint32_t o) { return readq(o); }, [](uint64_t v) { return !(v & TLB_IVT); });
    k.spin_unlock(register_lock);
    if (!(val >> 57 & 3)) k.printk("IOMMU: flush IOTLB failed");  // IAIG = 0
}

void intel_iommu::flush_iotlb_psi(uint16_t did, uint64_t pfn, uint64_t pages) {
    unsigned mask = 0;
    while ((1ull << mask) < pages) ++mask;  // ilog2(roundup_pow_of_two(pages))
    if (!caps.pgsel_inv() || mask > caps.max_amask_val()) flush_iotlb(did, 0, 0, TLB_DSI_FLUSH);
    else flush_iotlb(did, pfn << 12, mask, TLB_PSI_FLUSH);
}

// qi_submit_sync: the descriptor and a wait descriptor whose status write
// tells the CPU, spinning with interrupts off, that the hardware got there.
int intel_iommu::qi_submit_sync(uint64_t lo, uint64_t hi) {
    kernel::waiting w(k, name + ": qi_submit_sync");  // the whole call, retries included
    for (;;) {
        int rc = 0;
        k.spin_lock(qi->q_lock);
        while (qi->free_cnt < 3) {
            k.spin_unlock(qi->q_lock);
            k.cost(relax_);
            k.spin_lock(qi->q_lock);
        }
        const unsigned index = qi->free_head, wait_index = (index + 1) % QI_LENGTH;
        const uint64_t status = qi->desc_status + 4ull * wait_index;
        k.store<uint32_t>(qi->desc_status + 4ull * index, QI_IN_USE);
        k.store<uint32_t>(status, QI_IN_USE);
        k.store<uint64_t>(qi->desc + 16ull * index, lo);
        k.store<uint64_t>(qi->desc + 16ull * index + 8, hi);
        k.store<uint64_t>(qi->desc + 16ull * wait_index, uint64_t(QI_DONE) << 32 | QI_IWD_STATUS_WRITE | QI_IWD_FENCE |
                                                              QI_IWD_TYPE);
        k.store<uint64_t>(qi->desc + 16ull * wait_index + 8, status);
        flush_cache(qi->desc + 16ull * index, 32);
        qi->free_head = (qi->free_head + 2) % QI_LENGTH;
        qi->free_cnt -= 2;
        writel(IQT_REG, qi->free_head << 4);
        while (k.load<uint32_t>(status) != QI_DONE) {
            rc = qi_check_fault(index, wait_index);
            if (rc) break;
            k.spin_unlock(qi->q_lock);
            k.cost(relax_);
            k.spin_lock(qi->q_lock);
        }
        k.store<uint32_t>(qi->desc_status + 4ull * index, QI_DONE);
        if (rc) k.store<uint32_t>(status, QI_ABORT);
        // reclaim_free_desc: slots done or aborted are free again, in order.
        for (uint32_t s; qi->free_cnt < QI_LENGTH &&
                         ((s = k.load<uint32_t>(qi->desc_status + 4ull * qi->free_tail)) == QI_DONE || s == QI_ABORT);) {
            k.store<uint32_t>(qi->desc_status + 4ull * qi->free_tail, QI_FREE);
            qi->free_tail = (qi->free_tail + 1) % QI_LENGTH;
            ++qi->free_cnt;
        }
        k.spin_unlock(qi->q_lock);
        if (rc != -11) return rc;  // -EAGAIN: the queue timed out, submit again
    }
}

// qi_check_fault: an invalid descriptor at our slot is replaced by the wait
// descriptor and the call fails; a time-out aborts and restarts the request;
// a completion error is only cleared.
int intel_iommu::qi_check_fault(unsigned index, unsigned wait_index) {
    const uint32_t fault = readl(FSTS_REG);
    if (fault & FSTS_IQE) {
        const uint32_t head = readl(IQH_REG) >> 4;
        if (head == index) {
            const uint64_t lo = k.load<uint64_t>(qi->desc + 16ull * index);
            const uint64_t hi = k.load<uint64_t>(qi->desc + 16ull * index + 8);
            k.printk(strfmt("VT-d detected invalid descriptor: low=%llx, high=%llx", (unsigned long long)lo,
                            (unsigned long long)hi));
            k.store<uint64_t>(qi->desc + 16ull * index, k.load<uint64_t>(qi->desc + 16ull * wait_index));
            k.store<uint64_t>(qi->desc + 16ull * index + 8, k.load<uint64_t>(qi->desc + 16ull * wait_index + 8));
            writel(FSTS_REG, FSTS_IQE);
            return -22;
        }
    }
    if (fault & FSTS_ITE) {
        writel(FSTS_REG, FSTS_ITE);
        return -11;
    }
    if (fault & FSTS_ICE) writel(FSTS_REG, FSTS_ICE);
    return 0;
}

// --- faults -------------------------------------------------------------------

void intel_iommu::set_interrupt(unsigned cpu) {
    auto program = [this](unsigned to_cpu, int vector) {  // dmar_msi_write
        irq_cpu = to_cpu;
        irq_vector = vector;
        writel(FEDATA_REG, uint32_t(vector));
        writel(FEADDR_REG, uint32_t(k.msi_address(to_cpu)));
        writel(FEUADDR_REG, uint32_t(k.msi_address(to_cpu) >> 32));
    };
    const int v = k.request_irq(cpu, name, [this] { dmar_fault(); }, program);
    program(cpu, v);
    writel(FECTL_REG, 0);  // dmar_msi_unmask
    dmar_fault();          // clear what was logged before the handler existed
}

void intel_iommu::dmar_fault_do_one(int type, uint8_t reason, uint16_t sid, uint64_t addr) {
    bool intr = false;
    const char* text = dmar_get_fault_reason(reason, &intr);
    const unsigned bus = sid >> 8, slot = sid >> 3 & 0x1f, fn = sid & 7;
    std::string l1, l2;
    if (intr) {
        l1 = strfmt("INTR-REMAP: Request device [[%02x:%02x.%d] fault index %llx", bus, slot, fn,
                    (unsigned long long)(addr >> 48));
        l2 = strfmt("INTR-REMAP:[fault reason %02d] %s", reason, text);
    } else {
        l1 = strfmt("DMAR:[%s] Request device [%02x:%02x.%d] fault addr %llx ", type ? "DMA Read" : "DMA Write", bus,
                    slot, fn, (unsigned long long)addr);
        l2 = strfmt("DMAR:[fault reason %02d] %s", reason, text);
    }
    k.printk(l1);
    k.printk(l2);
    dm.stats().count("dma_map.dmar_faults");
    // A fault the kernel logs is a DMA outside the device's mappings: the checker's.
    k.rep().violation(k.now(), "dmar_fault", name + ": " + l1 + "/ " + l2);
}

void intel_iommu::dmar_fault() {
    k.spin_lock(register_lock);
    uint32_t status = readl(FSTS_REG);
    if (status) k.printk(strfmt("DRHD: handling fault status reg %x", status));
    if (status & FSTS_PPF) {
        unsigned index = status >> 8 & 0xff;
        const uint32_t fro = caps.fault_reg_offset();
        for (unsigned guard = 0; guard <= caps.num_fault_regs(); ++guard) {
            const uint32_t rec = fro + index * 16;
            uint32_t data = readl(rec + 12);
            if (!(data & FRCD_F)) break;
            const uint8_t reason = uint8_t(data);
            const int type = int(data >> 30 & 1);
            const uint16_t sid = uint16_t(readl(rec + 8));
            const uint64_t addr = readq(rec) & VTD_PAGE_MASK;
            writel(rec + 12, FRCD_F);  // clear this record
            k.spin_unlock(register_lock);
            dmar_fault_do_one(type, reason, sid, addr);
            k.spin_lock(register_lock);
            if (++index >= caps.num_fault_regs()) index = 0;
        }
    }
    writel(FSTS_REG, readl(FSTS_REG));  // the rest of the status (PFO, IQE, ...), RW1C
    k.spin_unlock(register_lock);
}

int intel_iommu::alloc_domain_id() {
    for (size_t i = 0; i < domain_ids.size(); ++i)
        if (!domain_ids[i]) {
            domain_ids[i] = true;
            return int(i);
        }
    k.printk("IOMMU: no free domain ids");
    return -1;
}

void intel_iommu::free_domain_id(int id) {
    if (id >= 0 && size_t(id) < domain_ids.size()) domain_ids[size_t(id)] = false;
}

}  // namespace ioatsim::sw
