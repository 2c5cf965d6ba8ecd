#include "platform/platform.h"

#include "models/cpu/cpu.h"
#include "models/fabric/router.h"
#include "models/ioat/ioat_function.h"
#include "models/memory/dram.h"
#include "models/pcie/root_complex.h"
#include "sw/clients/dmatest.h"
#include "sw/dmaengine/dmaengine.h"
#include "sw/drivers/ioat/ioatdma.h"
#include "sw/kernel/kernel.h"
#include "sw/pci/pci.h"

namespace ioatsim {
using namespace models;
using sc_core::sc_time;

static sc_time ps(uint64_t t) { return sc_time::from_value(t); }

// TBG0-3 then TBG4-7 (ioat-hardware.md §1.2).
static uint16_t ioat_device_id(unsigned fn) {
    static const uint16_t ids[] = {0x3430, 0x3431, 0x3432, 0x3433, 0x3429, 0x342A, 0x342B, 0x342C};
    return ids[fn % 8];
}

platform::platform(const scenario& sc, const params& p) : sc_(sc), p_(p) {
    unsigned ncpu = unsigned(p.integer("cpus"));
    if (ncpu < 1 || ncpu > 256) throw input_error(source_pos{p.preset_file, 0, 0}, "cpus: must be 1..256");
    unsigned nfn = unsigned(p.integer("ioh.ioat_functions"));
    if (nfn < 1 || nfn > 8) throw input_error(source_pos{p.preset_file, 0, 0}, "ioh.ioat_functions: must be 1..8");
    uint64_t dram_size = std::min<uint64_t>(uint64_t(p.integer("dram.size_mib")) << 20, address_map::dram_max);

    router_ = std::make_unique<router>("system");
    dram_ = std::make_unique<dram>("dram0", address_map::dram_base, dram_size,
                                   dram_timing{ps(p.time_ps("dram.latency"))});
    msi_ = std::make_unique<msi_bus>("msi");
    rc_ = std::make_unique<root_complex>("ioh0_rc", 0x00, address_map::ecam_base, address_map::mmio_base,
                                         address_map::mmio_size,
                                         root_complex_timing{ps(p.time_ps("pcie.cfg_latency"))});
    // Router ports: 0 DRAM, 1 ECAM + MMIO of the IOH, 2 interrupt messages.
    router_->isock.bind(dram_->tsock);
    router_->isock.bind(rc_->tsock);
    router_->isock.bind(msi_->tsock);
    router_->map(address_map::dram_base, dram_size, 0, "dram0");
    router_->map(address_map::mmio_base, address_map::mmio_size, 1, "ioh0 mmio");
    router_->map(address_map::ecam_base, rc_->ecam_size(), 1, "ioh0 ecam");
    router_->map(msi_bus::base, msi_bus::size, 2, "msi");
    rc_->fabric.bind(router_->tsock);

    for (unsigned i = 0; i < ncpu; ++i) {
        cpus_.push_back(std::make_unique<models::cpu>(("cpu" + std::to_string(i)).c_str(), i, i, 0));
        cpus_.back()->isock.bind(router_->tsock);
        msi_->attach(*cpus_.back());
    }

    ioat_config ic;
    ic.cbver = uint8_t(p.integer("ioat.cbver"));
    ic.xfercap = uint8_t(p.integer("ioat.xfercap"));
    ic.dmacapability = uint32_t(p.integer("ioat.dmacapability"));
    ic.timing.reg_access = ps(p.time_ps("ioat.reg_access"));
    ic.timing.desc_overhead = ps(p.time_ps("ioat.desc_overhead"));
    ic.timing.bandwidth_gbps = p.real("ioat.bandwidth_gbps");
    ic.timing.completion_write = ps(p.time_ps("ioat.completion_write"));
    ic.timing.start_latency = ps(p.time_ps("ioat.start_latency"));
    ic.timing.reset_latency = ps(p.time_ps("ioat.reset_latency"));
    for (unsigned f = 0; f < nfn; ++f) {
        ic.device_id = ioat_device_id(f);
        char bdf[16];
        std::snprintf(bdf, sizeof bdf, "0000:00:16.%u", f);
        ioat_.push_back(std::make_unique<ioat_function>(("ioh0_ioat" + std::to_string(f)).c_str(), bdf, ic));
        rc_->attach(0x16, uint8_t(f), *ioat_.back());
        rc_->bar_out.bind(ioat_.back()->bar0);
        ioat_.back()->dma.bind(rc_->upstream);
    }

    if (sc.os == "none") {
        firmware_assign_bars();
        return;
    }
    std::vector<models::cpu*> raw;
    for (auto& c : cpus_) raw.push_back(c.get());
    sw::kernel_config kc;
    kc.quantum = sc.quantum_ps;
    kc.memcpy_gbps = p.real("cpu.memcpy_gbps");
    kc.byte_loop_gbps = p.real("cpu.byte_loop_gbps");
    kc.ram_base = 16ull << 20;
    kc.ram_size = dram_size - kc.ram_base;
    kernel_ = std::make_unique<sw::kernel>(raw, kc);
    pci_ = std::make_unique<sw::pci_subsys>(
        *kernel_, std::vector<sw::pci_subsys::host_bridge>{
                      {0x00, address_map::ecam_base, address_map::mmio_base, address_map::mmio_size}});
    dma_ = std::make_unique<sw::dmaengine>(*kernel_);
    if (sc.dmatest.enabled) {
        sw::dmatest_params dp;
        dp.threads_per_chan = sc.dmatest.threads_per_chan;
        dp.iterations = sc.dmatest.iterations;
        dp.test_buf_size = sc.dmatest.test_buf_size;
        dp.max_channels = sc.dmatest.max_channels;
        dp.timeout = sc.dmatest.timeout_ps;
        dp.seed = sc.dmatest.seed ? sc.dmatest.seed : sc.seed;
        dmatest_ = std::make_unique<sw::dmatest>(*kernel_, *dma_, dp);
    }
}

platform::~platform() = default;

// With no OS the firmware leaves every function decoding, as a BIOS would.
void platform::firmware_assign_bars() {
    uint64_t at = address_map::mmio_base;
    for (auto& f : ioat_) {
        config_space& cs = f->config();
        cs.write(pci_reg::BAR0, 4, uint32_t(at));
        cs.write(pci_reg::BAR0 + 4, 4, uint32_t(at >> 32));
        cs.write(pci_reg::COMMAND, 2, pci_reg::CMD_MEM | pci_reg::CMD_MASTER);
        at += ioat::BAR0_SIZE;
    }
}

void platform::boot() {
    if (!kernel_) return;
    kernel_->kthread_run("init", 0, [this] {
        kernel_->printk("Linux version 3.4.0-ioatsim (simulated)");
        pci_->scan();
        sw::ioat_init_module(*kernel_, *pci_, *dma_);
        if (dmatest_) dmatest_->init();
    });
}

pci_function_if* platform::find_function(const std::string& bdf) {
    for (auto& f : ioat_)
        if (f->bdf() == bdf) return f.get();
    return nullptr;
}

bool platform::in_memory(uint64_t addr, uint64_t len) const {
    return addr >= dram_->base() && len <= dram_->size() && addr - dram_->base() <= dram_->size() - len;
}

bool platform::software_idle() const { return !kernel_ || kernel_->live_tasks() == 0; }

}  // namespace ioatsim
