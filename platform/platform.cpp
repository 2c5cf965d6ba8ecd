#include "platform/platform.h"

#include "models/cpu/cpu.h"
#include "models/fabric/router.h"
#include "models/ioh/hotplug_controller.h"
#include "models/ioh/ioh.h"
#include "models/memory/bandwidth.h"
#include "models/memory/dram.h"
#include "sw/clients/async_tx.h"
#include "sw/clients/dca_requester.h"
#include "sw/clients/dmatest.h"
#include "sw/clients/net_dma.h"
#include "sw/dca/dca.h"
#include "sw/dma-mapping/dma_mapping.h"
#include "sw/dmaengine/dmaengine.h"
#include "sw/drivers/ioat/ioatdma.h"
#include "sw/kernel/costs.h"
#include "sw/kernel/kernel.h"
#include "sw/pci/ioh_hotplug.h"
#include "sw/pci/pci.h"
#include "sw/pci/pciehp.h"

#include <cstdio>
#include <limits>

namespace ioatsim {
using namespace models;
using sc_core::sc_time;

static sc_time ps(uint64_t t) { return sc_time::from_value(t); }

// A parameter as the type the model takes. params::set has checked it against its
// table range; this check guards the narrowing itself, so a range widened in the
// table can never wrap a value silently.
template <typename T>
static T narrow(const params& p, const std::string& key) {
    const int64_t v = p.integer(key);
    if (v < 0 || uint64_t(v) > uint64_t(std::numeric_limits<T>::max()))
        throw input_error(p.where(key), key + ": " + std::to_string(v) + " does not fit the model (must be 0.." +
                                            std::to_string(uint64_t(std::numeric_limits<T>::max())) + ")");
    return T(v);
}

platform::platform(const scenario& sc, const params& p) : sc_(sc), p_(p) {
    const unsigned sockets = narrow<unsigned>(p, "sockets"), cores = narrow<unsigned>(p, "cores_per_socket");
    const unsigned niohs = narrow<unsigned>(p, "ioh.count");
    const uint64_t node_size = uint64_t(narrow<uint32_t>(p, "dram.size_mib")) << 20;

    router_ = std::make_unique<router>("qpi", ps(p.time_ps("numa.hop_latency")));
    qpi_gbps_ = p.real("qpi.link_gbps");
    unsigned port = 0;
    for (unsigned n = 0; n < sockets; ++n) {
        uint64_t size = n ? node_size : std::min(node_size, address_map::low_dram_max);
        drams_.push_back(std::make_unique<dram>(("dram" + std::to_string(n)).c_str(), address_map::dram_base(n),
                                                size, dram_timing{ps(p.time_ps("dram.latency"))}));
        router_->isock.bind(drams_.back()->tsock);
        dram_bw_.push_back(std::make_unique<bandwidth>(p.real("dram.bandwidth_gbps")));
        router_->map(address_map::dram_base(n), size, port++, "dram" + std::to_string(n), int(n));
    }

    ioh_config hc;
    hc.ioat_functions = narrow<unsigned>(p, "ioh.ioat_functions");
    hc.root_ports = narrow<unsigned>(p, "ioh.root_ports");
    hc.rc.cfg_latency = ps(p.time_ps("pcie.cfg_latency"));
    hc.rc.completion_timeout = ps(p.time_ps("pcie.completion_timeout"));
    hc.ioat.cbver = narrow<uint8_t>(p, "ioat.cbver");
    hc.ioat.xfercap = narrow<uint8_t>(p, "ioat.xfercap");
    hc.ioat.dmacapability = narrow<uint32_t>(p, "ioat.dmacapability");
    hc.ioat.timing.reg_access = ps(p.time_ps("ioat.reg_access"));
    hc.ioat.timing.desc_overhead = ps(p.time_ps("ioat.desc_overhead"));
    hc.ioat.timing.bandwidth_gbps = p.real("ioat.bandwidth_gbps");
    hc.ioat.timing.completion_write = ps(p.time_ps("ioat.completion_write"));
    hc.shared_engine = p.integer("ioat.shared_engine") != 0;
    hc.ioat_ids = models::ioat_id_set(p.integer("ioat.device_ids"));  // the table's 0..2 in enum order
    hc.ioat_device = narrow<uint8_t>(p, "ioat.device");  // params::resolve checked it is no root port's
    const bool integrated = p.integer("ioh.integrated") != 0;  // and that ioh.count = sockets then
    hc.ioat.timing.start_latency = ps(p.time_ps("ioat.start_latency"));
    hc.ioat.timing.reset_latency = ps(p.time_ps("ioat.reset_latency"));
    hc.vtd_enabled = p.integer("vtd.enabled") != 0;
    hc.vtd.iotlb_entries = narrow<unsigned>(p, "vtd.iotlb_entries");
    hc.vtd.context_entries = narrow<unsigned>(p, "vtd.context_entries");
    hc.vtd.walk_read = ps(p.time_ps("vtd.walk_read"));
    hc.vtd.cmd_latency = ps(p.time_ps("vtd.cmd_latency"));
    hc.vtd.qi_descriptor = ps(p.time_ps("vtd.qi_descriptor"));
    for (unsigned i = 0; i < niohs; ++i) {
        unsigned buses = 256 / niohs;
        hc.index = i;
        hc.bus_lo = uint8_t(i * buses);
        hc.bus_hi = uint8_t(i * buses + buses - 1);
        hc.ecam_base = address_map::ecam_base + (uint64_t(hc.bus_lo) << 20);
        hc.mmio_size = address_map::mmio_size / niohs;
        hc.mmio_base = address_map::mmio_base + i * hc.mmio_size;
        // An integrated I/O is its socket's; a hub's QPI port sits near its share of sockets.
        hc.node = integrated ? i : i * sockets / niohs;
        hc.ioat.memory = [this, node = hc.node](uint64_t at, uint64_t addr, uint64_t bytes) {
            return memory_path(node, at, addr, bytes);
        };
        hc.vtd.base = address_map::vtd_base(i);
        hc.vtd.node = hc.node;
        iohs_.push_back(std::make_unique<models::ioh>(("ioh" + std::to_string(i)).c_str(), hc));
        models::ioh& h = *iohs_.back();
        router_->isock.bind(h.rc().tsock);
        router_->map(hc.mmio_base, hc.mmio_size, port, "ioh" + std::to_string(i) + " mmio", int(hc.node));
        router_->map(hc.ecam_base, h.rc().ecam_size(), port++, "ioh" + std::to_string(i) + " ecam", int(hc.node));
        h.rc().fabric.bind(router_->tsock);
        if (models::vtd_unit* u = h.vtd()) {
            // Its registers from the CPUs; its walks, descriptor fetches, status
            // writes and interrupt messages into the fabric like the IOH's DMA.
            router_->isock.bind(u->regs);
            router_->map(hc.vtd.base, address_map::vtd_size, port++, "ioh" + std::to_string(i) + " vtd", int(hc.node));
            u->mem.bind(router_->tsock);
        }
        firmware_assign_bars(h);
    }

    msi_ = std::make_unique<msi_bus>("msi", ps(p.time_ps("msi.delivery")));
    router_->isock.bind(msi_->tsock);
    router_->map(msi_bus::base, msi_bus::size, port++, "msi");
    socket_present_.assign(sockets, true);
    hpc_ = std::make_unique<hotplug_controller>(
        "ioh_hotplug", niohs,
        [this](unsigned i, bool on) { on ? iohs_[i]->power_on() : iohs_[i]->power_off(); },
        [this](unsigned i) {
            return (iohs_[i]->present() ? hpc::STATUS_PRESENT | hpc::STATUS_LINK : 0u) |
                   (iohs_[i]->powered() ? hpc::STATUS_POWERED : 0u);
        },
        sockets, [this](unsigned i, bool on) { socket_power(i, on); },
        [this](unsigned i) { return socket_status(i); });
    router_->isock.bind(hpc_->tsock);
    router_->map(hpc::BASE, hpc::SIZE, port++, "ioh hotplug");
    hpc_->msi.bind(router_->tsock);

    for (unsigned s = 0; s < sockets; ++s)
        for (unsigned c = 0; c < cores; ++c) {
            unsigned i = unsigned(cpus_.size());
            cpus_.push_back(std::make_unique<models::cpu>(("cpu" + std::to_string(i)).c_str(), i, s << 4 | c, s));
            cpus_.back()->set_mmio_timing(ps(p.time_ps("cpu.mmio_read")), ps(p.time_ps("cpu.mmio_write")));
            cpus_.back()->isock.bind(router_->tsock);
            msi_->attach(*cpus_.back());
        }

    if (sc.os == "none") return;
    std::vector<models::cpu*> raw;
    for (auto& c : cpus_) raw.push_back(c.get());
    sw::kernel_config kc;
    kc.quantum = sc.quantum_ps;
    kc.poll_skip = sc.poll_skip;
    kc.memcpy_gbps = p.real("cpu.memcpy_gbps");
    kc.byte_loop_gbps = p.real("cpu.byte_loop_gbps");
    kc.rcu_grace_period = p.time_ps(p.integer("rcu.expedited") ? "rcu.expedited_grace_period" : "rcu.grace_period");
    kc.hung_after = p.time_ps("check.hung_after");
    kc.memory = [this](unsigned node, uint64_t pa, uint64_t bytes, sw::ktime_t at) {
        return memory_path(node, at, pa, bytes);
    };
    for (const sw::sw_timing_def& d : sw::sw_timing) kc.timing[d.key] = p.time_ps(d.key);
    for (const sw::coherence_param& c : sw::coherence_params) {
        sw::coh_time v = p.time_ps(std::string("coherence.") + c.key);
        if (c.field) kc.coherence.*c.field = v;
        else (kc.coherence.*c.row)[c.dist] = v;
    }
    kc.topology = int(p.integer("coherence.topology"));
    kc.ram_base = 16ull << 20;
    kc.ram_size = drams_[0]->size() - kc.ram_base;
    for (auto& d : drams_) kc.node_ram.push_back({d->base(), d->size()});
    kernel_ = std::make_unique<sw::kernel>(raw, kc);
    for (auto& h : iohs_) h->on_power_on = [k = kernel_.get()] { k->io_changed(); };
    for (auto& h : iohs_) {  // device writes reach the CPUs' caches (completion words, QI status)
        h->rc().on_dma_write = [this](uint64_t pa, uint64_t len) { kernel_->device_wrote(pa, len); };
        if (h->vtd()) h->vtd()->on_mem_write = [this](uint64_t pa, uint64_t len) { kernel_->device_wrote(pa, len); };
    }
    std::vector<sw::pci_subsys::host_bridge> bridges;
    for (auto& h : iohs_)
        bridges.push_back({h->cfg().bus_lo, h->cfg().bus_hi, h->cfg().ecam_base, h->cfg().mmio_base,
                           h->cfg().mmio_size, h->cfg().node});
    pci_ = std::make_unique<sw::pci_subsys>(*kernel_, bridges);
    dma_ = std::make_unique<sw::dmaengine>(*kernel_, sc.dmaengine);
    hotplug_ = std::make_unique<sw::ioh_hotplug>(*kernel_, *pci_, hpc::BASE);
    hotplug_->on_done([this](unsigned ioh, bool added) {
        for (size_t i = 0; i < ops_.size(); ++i)
            if (ops_[i].ioh == int(ioh) && ops_[i].removal != added && !ops_[i].done) op_end(i);
    });
    auto seeded = [&](auto cfg) {
        if (!cfg.seed) cfg.seed = sc.seed;
        return cfg;
    };
    if (sc.dmatest.enabled)
        dmatest_ = std::make_unique<sw::dmatest>(*kernel_, *dma_, seeded(sw::dmatest_params(sc.dmatest)));
    if (sc.net_dma.enabled) net_dma_ = std::make_unique<sw::net_dma>(*kernel_, *dma_, sc.net_dma);
    if (sc.async_tx.enabled)
        async_tx_ = std::make_unique<sw::async_tx>(*kernel_, *dma_, seeded(sw::async_tx_config(sc.async_tx)));
    kernel_->rep().declare("ioatdma.leaked_pins");
    make_container();
    make_dca();
    make_dma_mapping();
}

platform::~platform() = default;

// DCA as the CPUs and BIOS present it: Nehalem-EX (X7560) and Westmere-EP
// (X5650, E5620) report X86_FEATURE_DCA ("dca" in /proc/cpuinfo of such
// machines); whether the x3850 X5's or a Westmere-EP board's BIOS turns it on
// (CPUID.9:EAX[0]) is unpublished: on [estimate]. Neither has a preset key yet
// (platform/params.cpp); the boot line's clearcpuid=146 turns it off.
constexpr unsigned X86_FEATURE_DCA = 4 * 32 + 18;

void platform::make_dca() {
    sw::dca_core::config dc;
    dc.platform.x86_feature_dca = true;
    dc.platform.bios_dca_enabled = true;
    for (unsigned bit : sc_.cmdline.clearcpuid)
        if (bit == X86_FEATURE_DCA) dc.platform.x86_feature_dca = false;
    for (auto& c : cpus_) dc.platform.apic_ids.push_back(c->apic_id());
    dc.unregister_checks_domains = sw::traits(sc_.dmaengine.design).shutdown_first;  // v5.6's dca-core
    dca_ = std::make_unique<sw::dca_core>(*kernel_, dc);
    sw::ioat_dca_enabled = sc_.cmdline.ioat_dca_enabled;
    if (!sc_.dca.enabled) return;

    // The NIC's address: a function below one of an IOH's root ports, on a bus
    // of that IOH other than its root bus.
    sw::dca_device dev;
    dev.name = sc_.dca.device;
    dev.device = 0x10c9;  // an 82576, igb's
    unsigned dom = 0, bus = 0, slot = 0, fn = 0;
    std::sscanf(dev.name.c_str(), "%x:%x:%x.%x", &dom, &bus, &slot, &fn);
    int rc = -1;
    std::string have;
    for (unsigned i = 0; i < iohs_.size(); ++i) {
        const auto& c = iohs_[i]->cfg();
        if (c.root_ports && bus > c.bus_lo && bus <= c.bus_hi) rc = int(i);
        if (c.root_ports)
            have += sw::strfmt("%sIOH%u: buses %02x-%02x", have.empty() ? "" : ", ", i, c.bus_lo + 1, c.bus_hi);
    }
    if (dom != 0 || rc < 0)
        throw input_error(sc_.pos_of("software.clients.dca.device"),
                          "software.clients.dca.device: " + dev.name + " is not below a root port of any IOH (" +
                              (have.empty() ? "this platform has no root ports" : have) + ")");
    dev.bus = uint8_t(bus);
    dev.devfn = uint8_t(slot << 3 | fn);
    dev.rc = unsigned(rc);
    models::ioh* h = iohs_[unsigned(rc)].get();
    auto upstream = [h](uint16_t rid, int tag, sw::ktime_t at) {
        if (tag < 0) return h->present();
        return h->dca_write(rid, uint8_t(tag), at) != models::ioh::dca_hint::unreachable;
    };
    dca_requester_ = std::make_unique<sw::dca_requester>(*kernel_, *dca_, sc_.dca, dev, upstream);
}

// The BIOS places every BAR in its IOH's window and enables decode and mastering.
void platform::firmware_assign_bars(models::ioh& h) {
    uint64_t at = h.cfg().mmio_base;
    for (unsigned i = 0; i < h.ioat_count(); ++i) {
        config_space& cs = h.ioat(i).config();
        cs.write(pci_reg::BAR0, 4, uint32_t(at));
        cs.write(pci_reg::BAR0 + 4, 4, uint32_t(at >> 32));
        cs.write(pci_reg::COMMAND, 2, pci_reg::CMD_MEM | pci_reg::CMD_MASTER);
        at += ioat::BAR0_SIZE;
    }
    firmware_dca(h);
}

// The BIOS's APIC-ID-to-tag map, the same on every function. The real value is
// unpublished [estimate]: tag bits 0-3 the core (APIC ID bits 0-3), bit 4 the
// inverse of APIC ID bit 4, bit 5 APIC ID bit 5, bit 6 a literal 1 (so no CPU
// gets tag 0, which v3.9's driver calls invalid), bit 7 a literal 0: every
// selector kind the v3 map has. Bytes 0-7: 40 41 42 43 84 45 01 00.
constexpr uint64_t bios_apicid_tag_map = 0x0001458443424140ull;

void platform::firmware_dca(models::ioh& h) {
    for (unsigned i = 0; i < h.ioat_count(); ++i)
        if (h.ioat(i).cfg().dca_slots) h.ioat(i).set_reg(ioat::DCA_BLOCK + ioat::DCA3_APICID_TAG_MAP, 8, bios_apicid_tag_map);
}

void platform::boot_step(const std::string& what) {
    boot_step_ = what;
    boot_step_since_ = kernel_->now();
}

void platform::boot() {
    if (!kernel_) return;
    boot_step("start_kernel");
    kernel_->kthread_run("init", 0, [this] {
        kernel_->printk("Linux version 3.4.0-ioatsim (simulated)");
        // ACPI is up, with its hot-plug notifications, before PCI is scanned.
        boot_step("acpi hot-plug init");
        hotplug_->init();
        boot_step("pci scan");
        pci_->scan();
        boot_iommu();
        boot_step("pcieport init");
        sw::pcieport_init_module(*kernel_, *pci_);
        if (dca_requester_ && sc_.dca.before_ioatdma) {
            boot_step("igb init");
            dca_requester_->init();
        }
        boot_step("ioatdma init");
        ioat_module_ = &sw::ioat_init_module(*kernel_, *pci_, *dma_, dca_.get());
        if (dca_requester_ && !sc_.dca.before_ioatdma) {
            boot_step("igb init");
            dca_requester_->init();
        }
        // dmatest first: once a public client holds every channel, no private one is left.
        boot_step("dmatest init");
        if (dmatest_) dmatest_->init();
        boot_step("async_tx init");
        if (async_tx_) async_tx_->init();
        boot_step("net_dma init");
        if (net_dma_) net_dma_->init();
        boot_step_.clear();
    });
}

void platform::finish() {
    if (!kernel_) return;
    report& rep = kernel_->rep();
    kernel_->settle_polls();
    kernel_->check_hung();
    if (dmatest_) dmatest_->finish();
    if (net_dma_) net_dma_->finish();
    if (async_tx_) async_tx_->finish();
    if (dca_requester_) dca_requester_->finish();
    auto ms = [](uint64_t t) { return sw::strfmt("%.6f s", double(t) / 1e12); };
    if (!boot_step_.empty())
        rep.violation(kernel_->now(), "boot_incomplete", "init has not finished \"" + boot_step_ + "\" (since " +
                                                             ms(boot_step_since_) + ")");
    for (const os_op& op : ops_)
        if (!op.done)
            rep.violation(kernel_->now(), "removal_incomplete", op.what + ", requested at " + ms(op.requested_ps) +
                                                                    ", has not finished" +
                                                                    (op.step.empty() ? "" : " (at: " + op.step + ")"));
    // A client that was configured to work and did none.
    auto progress = [&](const char* name, bool expected, const sw::copy_ledger& l) {
        if (expected && l.done == 0)
            rep.violation(kernel_->now(), "no_progress", std::string(name) + " finished no work in the whole run");
    };
    if (dmatest_) progress("dmatest", true, dmatest_->copies());
    if (net_dma_) progress("net_dma", true, net_dma_->copies());
    if (async_tx_) progress("async_tx", sc_.async_tx.threads > 0, async_tx_->copies());  // 0: the reference only
    if (dca_requester_) progress("dca", true, dca_requester_->copies());
    if (ioat_module_) {
        // Pins on devices no longer registered can never be dropped (dmaengine_put
        // skips them): the module can never be unloaded.
        int leaked = ioat_module_->refcnt - dma_->pins_expected(ioat_module_);
        kernel_->rep().counter("ioatdma.leaked_pins") = leaked;
        if (leaked > 0)
            kernel_->rep().violation(kernel_->now(), "leaked_pins",
                                     sw::strfmt("ioatdma holds %d module references no client can drop", leaked));
    }
}

pci_function_if* platform::find_function(const std::string& bdf) {
    for (auto& h : iohs_)
        if (auto* f = h->find(bdf)) return f;
    return nullptr;
}

unsigned platform::ioat_count() const {
    unsigned n = 0;
    for (auto& h : iohs_) n += h->ioat_count();
    return n;
}

ioat_function& platform::ioat(unsigned i) {
    for (auto& h : iohs_) {
        if (i < h->ioat_count()) return h->ioat(i);
        i -= h->ioat_count();
    }
    throw std::out_of_range("no such IOAT function");
}

dram* platform::node_of(uint64_t addr, uint64_t len) const {
    for (auto& d : drams_)
        if (addr >= d->base() && len <= d->size() && addr - d->base() <= d->size() - len) return d.get();
    return nullptr;
}

bool platform::in_memory(uint64_t addr, uint64_t len) const { return node_of(addr, len) != nullptr; }

uint64_t platform::memory_path(unsigned from, uint64_t at, uint64_t addr, uint64_t bytes) {
    unsigned to = 0;
    while (to + 1 < drams_.size() && addr >= drams_[to + 1]->base()) ++to;
    uint64_t done = dram_bw_[to]->finish(at, bytes);
    if (from == to) return done;
    auto& link = qpi_[{from, to}];
    if (!link) link = std::make_unique<bandwidth>(qpi_gbps_);
    return std::max(done, link->finish(at, bytes));
}
void platform::unshare_memory() {
    for (auto& d : drams_) d->unshare();
}

void platform::mem_peek(uint64_t addr, void* dst, uint64_t len) { node_of(addr, len)->peek(addr, dst, len); }
void platform::mem_poke(uint64_t addr, const void* src, uint64_t len) { node_of(addr, len)->poke(addr, src, len); }

// A sysfs write by root: a short-lived task the scheduler puts on an idle CPU.
void platform::run_as_root(const std::string& what, std::function<void()> fn) {
    kernel_->kthread_run(what, kernel_->idle_cpu(0), std::move(fn));
}

size_t platform::op_begin(const std::string& what, bool removal, int ioh) {
    uint64_t now = uint64_t(sc_core::sc_time_stamp().value());
    if (removal) sim_report().mark(now);  // throughput is cut here when it is the first
    ops_.push_back({what, removal, ioh, now});
    return ops_.size() - 1;
}

bool platform::ops_pending() const {
    for (const os_op& op : ops_)
        if (!op.done) return true;
    return false;
}

void platform::op_end(size_t i) {
    ops_[i].done = true;
    ops_[i].done_ps = kernel_ ? kernel_->now() : uint64_t(sc_core::sc_time_stamp().value());
    if (ops_[i].removal) sim_report().mark(ops_[i].done_ps);  // throughput is cut here when it is the last
}

// An action on something already in the state asked for changes nothing and is
// said so in the log; it is not an operation to wait for.
void platform::ioh_remove(unsigned n, bool surprise) {
    models::ioh& h = *iohs_.at(n);
    if (!h.present()) {
        sim_report().log(uint64_t(sc_core::sc_time_stamp().value()), sw::strfmt("ioatsim: ioh.remove: IOH %u is not present", n));
        return;
    }
    size_t op = op_begin(sw::strfmt("ioh.remove of IOH %u (%s)", n, surprise ? "surprise" : "orderly"), true, int(n));
    if (surprise) {
        h.link_down();  // at this instant; the OS hears of it afterwards
        hpc_->presence_changed(n);
    } else if (kernel_) {
        hpc_->eject_request(n);  // the OS removes the devices, then ejects (powers off)
    } else {
        h.power_off();
    }
    if (!kernel_) op_end(op);
}

void platform::ioh_add(unsigned n) {
    models::ioh& h = *iohs_.at(n);
    if (h.present()) {
        sim_report().log(uint64_t(sc_core::sc_time_stamp().value()), sw::strfmt("ioatsim: ioh.add: IOH %u is present", n));
        return;
    }
    size_t op = op_begin(sw::strfmt("ioh.add of IOH %u", n), false, int(n));
    h.power_off();  // a fresh device: whatever was there is reset
    h.power_on();
    firmware_dca(h);  // the firmware's hot-add flow sets the hub up before the OS scans it [inference]
    if (kernel_) {
        hpc_->presence_changed(n);  // Linux assigns the BARs when it rescans
    } else {
        firmware_assign_bars(h);    // with no OS, firmware does, as at boot
        op_end(op);
    }
}

void platform::cpu_set_online(unsigned n, bool online) {
    if (!kernel_) {
        cpus_.at(n)->set_online(online);
        return;
    }
    size_t op = op_begin(sw::strfmt("cpu.%s of CPU %u", online ? "online" : "offline", n), false);
    run_as_root(online ? "cpu_up" : "cpu_down", [this, n, online, op] {
        int rc = online ? kernel_->cpu_up(n) : kernel_->cpu_down(n);
        if (rc < 0) kernel_->printk(sw::strfmt("bash: echo %d > /sys/devices/system/cpu/cpu%u/online: error %d", online, n, rc));
        op_end(op);
    });
}

void platform::pci_unbind(const std::string& bdf) {
    size_t op = op_begin("pci.unbind of " + bdf, true);
    run_as_root("unbind", [this, bdf, op] {
        pci_->unbind(bdf);
        op_end(op);
    });
}

void platform::pci_bind(const std::string& bdf) {
    size_t op = op_begin("pci.bind of " + bdf, false);
    run_as_root("bind", [this, bdf, op] {
        pci_->bind(bdf);
        op_end(op);
    });
}

}  // namespace ioatsim
