#include "sw/pci/pci.h"

#include <algorithm>

namespace ioatsim::sw {

namespace {
constexpr unsigned VENDOR = 0x00, COMMAND = 0x04, STATUS = 0x06, CLASS_REV = 0x08,
                   HEADER_TYPE = 0x0E, BAR0 = 0x10, CAP_PTR = 0x34;
constexpr uint16_t CMD_MEM = 0x2, CMD_MASTER = 0x4;
constexpr uint8_t CAP_MSI = 0x05, CAP_MSIX = 0x11;
// Config access and BAR programming are plain code around the config cycles.
}  // namespace

pci_subsys::pci_subsys(kernel& k, std::vector<host_bridge> bridges)
    : k_(k), cfg_code_(k.timing("cost.pci_cfg_code")), bridges_(std::move(bridges)) {
    scan_lock_.name = "acpi_scan_lock";
    for (auto& b : bridges_) {
        next_mmio_.push_back(b.mmio_base);
        k_.ioremap(b.ecam_base, uint64_t(b.bus_hi - b.bus_lo + 1) << 20);  // MMCONFIG, mapped for good
    }
}

pci_dev* pci_subsys::find(const std::string& name) {
    for (auto& d : devs_)
        if (!d->removed && d->name == name) return d.get();
    return nullptr;
}

std::vector<pci_dev*> pci_subsys::devices() const {
    std::vector<pci_dev*> v;
    for (auto& d : devs_)
        if (!d->removed) v.push_back(d.get());
    std::stable_sort(v.begin(), v.end(), [](pci_dev* a, pci_dev* b) {
        return (a->bus << 8 | a->devfn) < (b->bus << 8 | b->devfn);
    });
    return v;
}

uint32_t pci_subsys::read_config(pci_dev& d, unsigned off, unsigned len) {
    k_.cost(cfg_code_);
    return uint32_t(k_.mmio_read(d.cfg_base + off, len));
}

void pci_subsys::write_config(pci_dev& d, unsigned off, unsigned len, uint32_t v) {
    k_.cost(cfg_code_);
    k_.mmio_write(d.cfg_base + off, len, v);
}

void pci_subsys::scan() {
    for (unsigned b = 0; b < bridges_.size(); ++b) {
        k_.mutex_lock(scan_lock_);
        scan_bridge(b);
        k_.mutex_unlock(scan_lock_);
    }
}

void pci_subsys::scan_bridge(unsigned b) {
    host_bridge& hb = bridges_.at(b);
    k_.printk(strfmt("PCI host bridge to bus %04x:%02x", 0, hb.bus_lo));
    bool any = false;
    for (auto& d : devs_) any = any || (!d->removed && d->bridge == b);
    if (!any) next_mmio_[b] = hb.mmio_base;
    size_t first_new = devs_.size();
    for (uint8_t dev = 0; dev < 32; ++dev) {
        uint64_t base = hb.ecam_base + (uint64_t(dev) << 15);
        if (uint16_t(k_.mmio_read(base + VENDOR, 2)) == 0xffff) continue;
        bool multi = k_.mmio_read(base + HEADER_TYPE, 1) & 0x80;
        for (uint8_t fn = 0; fn < (multi ? 8 : 1); ++fn) probe_function(b, dev, fn);
    }
    for (size_t i = first_new; i < devs_.size(); ++i) attach(*devs_[i]);
}

void pci_subsys::probe_function(unsigned b, uint8_t dev, uint8_t fn) {
    host_bridge& hb = bridges_[b];
    std::string name = strfmt("%04x:%02x:%02x.%u", 0, hb.bus_lo, dev, fn);
    if (find(name)) return;  // already known (a rescan)
    auto d = std::make_unique<pci_dev>();
    d->lock.name = "device_lock";
    d->bus = hb.bus_lo;
    d->devfn = uint8_t(dev << 3 | fn);
    d->bridge = b;
    d->node = hb.node;
    d->cfg_base = hb.ecam_base + (uint64_t(dev) << 15) + (uint64_t(fn) << 12);
    uint32_t id = read_config(*d, VENDOR, 4);
    if ((id & 0xffff) == 0xffff) return;
    d->vendor = uint16_t(id);
    d->device = uint16_t(id >> 16);
    uint32_t cr = read_config(*d, CLASS_REV, 4);
    d->revision = uint8_t(cr);
    d->class_code = cr >> 8;
    d->name = name;
    d->header_type = uint8_t(read_config(*d, HEADER_TYPE, 1)) & 0x7f;
    log(*d, strfmt("[%04x:%04x] type %02x class 0x%06x", d->vendor, d->device, d->header_type, d->class_code));
    if (d->header_type == 0) size_bars(*d, b);
    devs_.push_back(std::move(d));
    bus_notify(BUS_NOTIFY_ADD_DEVICE, *devs_.back());  // device_add: before any probe
}

// Sizing: write all-ones, read back the mask, restore. A BAR firmware placed inside
// the bridge's window is kept; an unassigned one gets the next aligned address.
void pci_subsys::size_bars(pci_dev& d, unsigned b) {
    host_bridge& hb = bridges_[b];
    uint16_t cmd = uint16_t(read_config(d, COMMAND, 2));
    write_config(d, COMMAND, 2, cmd & ~CMD_MEM);  // no decode while sizing
    for (int i = 0; i < 6; ++i) {
        unsigned reg = BAR0 + 4 * i;
        uint32_t orig = read_config(d, reg, 4);
        write_config(d, reg, 4, 0xffffffff);
        uint32_t lo = read_config(d, reg, 4);
        write_config(d, reg, 4, orig);
        if (!lo || (lo & 1)) continue;  // absent, or I/O space
        bool is64 = ((lo >> 1) & 3) == 2;
        uint64_t mask = lo & ~0xfull, at = orig & ~0xfull;
        if (is64) {
            uint32_t orig_hi = read_config(d, reg + 4, 4);
            write_config(d, reg + 4, 4, 0xffffffff);
            mask |= uint64_t(read_config(d, reg + 4, 4)) << 32;
            write_config(d, reg + 4, 4, orig_hi);
            at |= uint64_t(orig_hi) << 32;
        } else {
            mask |= 0xffffffff00000000ull;
        }
        uint64_t size = ~mask + 1;
        const char* kind = is64 ? " 64bit" : "";
        log(d, strfmt("reg 0x%x: [mem 0x%08llx-0x%08llx%s]", reg, (unsigned long long)at,
                      (unsigned long long)(at + size - 1), kind));
        bool placed = at >= hb.mmio_base && at + size <= hb.mmio_base + hb.mmio_size;
        if (!placed) {
            at = (next_mmio_[b] + size - 1) & ~(size - 1);
            if (at + size > hb.mmio_base + hb.mmio_size) {
                log(d, strfmt("BAR %d: can't assign mem (size 0x%llx)", i, (unsigned long long)size));
                if (is64) ++i;
                continue;
            }
            write_config(d, reg, 4, uint32_t(at));
            if (is64) write_config(d, reg + 4, 4, uint32_t(at >> 32));
            log(d, strfmt("BAR %d: assigned [mem 0x%08llx-0x%08llx%s]", i, (unsigned long long)at,
                          (unsigned long long)(at + size - 1), kind));
        }
        next_mmio_[b] = std::max(next_mmio_[b], at + size);
        d.resource_start[i] = at;
        d.resource_len[i] = size;
        if (is64) ++i;
    }
    write_config(d, COMMAND, 2, cmd);
}

void pci_subsys::register_driver(pci_driver& drv) {
    drivers_.push_back(&drv);
    for (size_t i = 0; i < devs_.size(); ++i) attach(*devs_[i], &drv);  // devs_ may grow meanwhile
}

// __driver_attach: under the device lock, a device still on the bus and
// without a driver is offered to each driver in turn.
void pci_subsys::attach(pci_dev& d, pci_driver* only) {
    if (d.removed) return;
    k_.mutex_lock(d.lock);
    for (pci_driver* drv : drivers_)
        if (!d.removed && !d.driver && (!only || drv == only) && probe(d, *drv)) break;
    k_.mutex_unlock(d.lock);
}

// A driver's managed resources, last first.
static void release_devres(pci_dev& d) {
    while (!d.devres.empty()) {
        auto release = std::move(d.devres.back());
        d.devres.pop_back();
        release();
    }
}

bool pci_subsys::probe(pci_dev& d, pci_driver& drv) {
    for (auto& id : drv.id_table) {
        if (id.vendor != d.vendor || id.device != d.device) continue;
        d.driver = &drv;
        bus_notify(BUS_NOTIFY_BIND_DRIVER, d);
        int rc = drv.probe(d);
        if (rc < 0) {
            d.driver = nullptr;
            release_devres(d);  // really_probe: devres_release_all
            // really_probe: -ENODEV and -ENXIO mean "not mine" and stay quiet.
            if (rc != -19 && rc != -6)
                k_.printk(strfmt("%s: probe of %s failed with error %d", drv.name.c_str(), d.name.c_str(), rc));
            return false;
        }
        bus_notify(BUS_NOTIFY_BOUND_DRIVER, d);
        return true;
    }
    return false;
}

// device_release_driver: under the device lock, so after any probe in progress;
// the driver's remove(), then its managed resources, last first.
static void release_driver(kernel& k, pci_subsys& s, pci_dev& d) {
    k.mutex_lock(d.lock);
    if (pci_driver* drv = d.driver) {
        s.bus_notify(BUS_NOTIFY_UNBIND_DRIVER, d);
        if (drv->remove) drv->remove(d);
        d.driver = nullptr;
        d.drvdata = nullptr;
        release_devres(d);
        s.bus_notify(BUS_NOTIFY_UNBOUND_DRIVER, d);
    }
    k.mutex_unlock(d.lock);
}

int pci_subsys::unbind(const std::string& name) {
    pci_dev* d = find(name);
    if (!d || !d->driver) return -19;  // -ENODEV
    release_driver(k_, *this, *d);
    return 0;
}

int pci_subsys::bind(const std::string& name) {
    pci_dev* d = find(name);
    if (!d) return -19;
    if (d->driver) return -16;  // -EBUSY
    attach(*d);
    return d->driver ? 0 : -19;
}

// pci_stop_and_remove_bus_device: the driver lets go, then the device leaves.
// device_del tells the bus notifiers first (3.4: DEL_DEVICE precedes the unbind).
void pci_subsys::remove_device(pci_dev& d) {
    bus_notify(BUS_NOTIFY_DEL_DEVICE, d);
    release_driver(k_, *this, d);
    d.removed = true;
}

void pci_subsys::report_offline(unsigned b) {
    for (size_t i = 0; i < devs_.size(); ++i) {
        pci_dev& d = *devs_[i];
        if (d.removed || d.bridge != b) continue;
        k_.mutex_lock(d.lock);
        if (d.driver && d.driver->error_detected) d.driver->error_detected(d);
        k_.mutex_unlock(d.lock);
    }
}

void pci_subsys::remove_bridge(unsigned b) {
    std::vector<pci_dev*> mine;
    for (pci_dev* d : devices())
        if (d->bridge == b) mine.push_back(d);
    for (auto it = mine.rbegin(); it != mine.rend(); ++it) remove_device(**it);
    k_.printk(strfmt("pci_bus %04x:%02x: busn_res: [bus %02x-%02x] is released", 0, bridges_[b].bus_lo,
                     bridges_[b].bus_lo, bridges_[b].bus_hi));
}

int pci_subsys::enable_device(pci_dev& d) {
    uint16_t cmd = uint16_t(read_config(d, COMMAND, 2));
    uint16_t want = cmd | CMD_MEM;
    if (want != cmd) {
        k_.dev_printk(d.driver ? d.driver->name : "pci", d.name,
                      strfmt("enabling device (%04x -> %04x)", cmd, want));
        write_config(d, COMMAND, 2, want);
    }
    return 0;
}

int pci_subsys::pcim_enable_device(pci_dev& d) {
    int rc = enable_device(d);
    if (rc == 0)
        d.devres.push_back([this, &d] {  // pci_disable_device: Bus Master off
            uint16_t cmd = uint16_t(read_config(d, COMMAND, 2));
            if (cmd & CMD_MASTER) write_config(d, COMMAND, 2, cmd & ~CMD_MASTER);
        });
    return rc;
}

uint64_t pci_subsys::pcim_iomap(pci_dev& d, int bar) {
    uint64_t at = d.resource_start[bar], len = d.resource_len[bar];
    if (!at || !len) return 0;
    k_.ioremap(at, len);
    d.devres.push_back([this, at] { k_.iounmap(at); });
    return at;
}

void pci_subsys::set_master(pci_dev& d) {
    uint16_t cmd = uint16_t(read_config(d, COMMAND, 2));
    if (!(cmd & CMD_MASTER)) write_config(d, COMMAND, 2, cmd | CMD_MASTER);
}

unsigned pci_subsys::find_capability(pci_dev& d, uint8_t id) {
    if (!(read_config(d, STATUS, 2) & 0x10)) return 0;
    unsigned p = read_config(d, CAP_PTR, 1);
    for (int guard = 0; p && guard < 48; ++guard) {
        uint16_t hdr = uint16_t(read_config(d, p, 2));
        if ((hdr & 0xff) == id) return p;
        p = hdr >> 8;
    }
    return 0;
}

int pci_subsys::enable_msix(pci_dev& d, unsigned cpu, const std::string& name,
                            std::function<void()> handler) {
    unsigned cap = find_capability(d, CAP_MSIX);
    if (!cap) return -22;  // -EINVAL
    uint32_t table = read_config(d, cap + 4, 4);
    unsigned bir = table & 7;
    if (!d.resource_start[bir]) return -12;  // -ENOMEM: table BAR not assigned
    uint64_t entry = d.resource_start[bir] + (table & ~7u);
    k_.ioremap(entry, 16);  // msix_map_region: entry 0 of the table
    d.msix_table = entry;
    uint16_t mc = uint16_t(read_config(d, cap + 2, 2));
    write_config(d, cap + 2, 2, mc | 0xc000);  // enable with the function masked while programming
    pci_dev* dev = &d;
    auto program = [this, dev, entry](unsigned to_cpu, int vector) {
        k_.writel(1, entry + 12);  // mask while the message changes
        k_.writel(uint32_t(k_.msi_address(to_cpu)), entry + 0);
        k_.writel(uint32_t(k_.msi_address(to_cpu) >> 32), entry + 4);
        k_.writel(uint32_t(vector), entry + 8);
        k_.writel(0, entry + 12);
        dev->irq_cpu = to_cpu;
        dev->msix_vector = vector;
    };
    int vector = k_.request_irq(cpu, name, std::move(handler), program);
    program(cpu, vector);
    write_config(d, cap + 2, 2, (mc | 0x8000) & ~0x4000);
    d.msix_enabled = true;
    return 0;
}

int pci_subsys::pcim_enable_msix(pci_dev& d, unsigned cpu, const std::string& name, std::function<void()> handler) {
    int rc = enable_msix(d, cpu, name, std::move(handler));
    if (rc == 0) d.devres.push_back([this, &d] { disable_msix(d); });
    return rc;
}

void pci_subsys::disable_msix(pci_dev& d) {
    if (!d.msix_enabled) return;
    unsigned cap = find_capability(d, CAP_MSIX);
    if (cap) write_config(d, cap + 2, 2, uint16_t(read_config(d, cap + 2, 2)) & ~0x8000);
    k_.free_irq(d.irq_cpu, d.msix_vector);
    k_.iounmap(d.msix_table);
    d.msix_enabled = false;
    d.msix_vector = -1;
}

int pci_subsys::enable_msi(pci_dev& d, unsigned cpu, const std::string& name, std::function<void()> handler) {
    unsigned cap = find_capability(d, CAP_MSI);
    if (!cap) return -22;
    auto program = [this, &d, cap](unsigned to_cpu, int vector) {
        write_config(d, cap + 4, 4, uint32_t(k_.msi_address(to_cpu)));
        write_config(d, cap + 8, 4, uint32_t(k_.msi_address(to_cpu) >> 32));
        write_config(d, cap + 12, 2, uint32_t(vector));
        d.irq_cpu = to_cpu;
    };
    int vector = k_.request_irq(cpu, name, std::move(handler), program);
    program(cpu, vector);
    write_config(d, cap + 2, 2, read_config(d, cap + 2, 2) | 1);
    return 0;
}

}  // namespace ioatsim::sw
