#include "sw/pci/pciehp.h"

#include "models/pcie/config_space.h"

#include <map>
#include <memory>

namespace ioatsim::sw {
using namespace models::pci_reg;

namespace {

size_t live_slots = 0;

struct slot {
    kernel& k;
    pci_subsys& pci;
    pci_dev& dev;
    unsigned exp;
    std::string name;  // physical slot number
    kernel::workqueue* wq = nullptr;
    struct tally {  // counts slots alive, for pciehp_live_slots()
        tally() { ++live_slots; }
        tally(const tally&) { ++live_slots; }
        ~tally() { --live_slots; }
    } counted{};

    std::string tag() const { return dev.name + ":pcie04"; }
    void log(const std::string& text) { k.dev_printk("pciehp", tag(), text); }

    // The interrupt only queues the work; reading and clearing the status happens there.
    void event() {
        uint16_t sta = uint16_t(pci.read_config(dev, exp + EXP_SLTSTA, 2));
        uint16_t ev = sta & (SLTSTA_ABP | SLTSTA_PDC | SLTSTA_DLLSC);
        if (!ev || sta == 0xffff) return;
        pci.write_config(dev, exp + EXP_SLTSTA, 2, ev);
        if (ev & SLTSTA_ABP) log("Button pressed on Slot(" + name + ")");
        if (ev & SLTSTA_PDC)
            log(std::string(sta & SLTSTA_PDS ? "Card present" : "Card not present") + " on Slot(" + name + ")");
        if (ev & SLTSTA_DLLSC) {
            bool up = pci.read_config(dev, exp + EXP_LNKSTA, 2) & LNKSTA_DLLLA;
            log("slot(" + name + "): Link " + (up ? "Up" : "Down") + " event");
        }
    }
};

// The driver's slots by port: a slot lives from probe to remove. Its interrupt
// handler and queued work hold it weakly: an interrupt or work item after remove
// finds it gone and does nothing, as pciehp's free_irq and flush would ensure.
using slot_table = std::map<pci_dev*, std::shared_ptr<slot>>;

int probe(kernel& k, pci_subsys& pci, pci_dev& d, slot_table& slots) {
    unsigned exp = pci.find_capability(d, CAP_EXP);
    if (!exp) return -19;
    uint16_t flags = uint16_t(pci.read_config(d, exp + EXP_FLAGS, 2));
    uint32_t cap = pci.read_config(d, exp + EXP_SLTCAP, 4);
    if (!(flags & 0x0100) || !(cap & SLTCAP_HPC)) return 0;  // no hot-plug slot: the port alone
    auto s = std::make_shared<slot>(slot{k, pci, d, exp, std::to_string(cap >> 19)});
    slots[&d] = s;
    d.drvdata = s.get();
    s->wq = k.create_workqueue("pciehp-" + s->name, k.smp_processor_id());
    auto yes = [](bool b) { return b ? "+" : "-"; };
    s->log(strfmt("Slot #%s AttnBtn%s PwrCtrl- MRL- AttnInd- PwrInd- HotPlug%s Surprise%s Interlock- NoCompl- LLActRep+",
                  s->name.c_str(), yes(cap & SLTCAP_ABP), yes(cap & SLTCAP_HPC), yes(cap & SLTCAP_HPS)));
    pci.set_master(d);
    std::weak_ptr<slot> w = s;
    auto handler = [w] {
        if (auto live = w.lock())
            live->k.queue_work(live->wq, [w] {
                if (auto still = w.lock()) still->event();
            });
    };
    if (pci.enable_msi(d, k.smp_processor_id(), "pciehp", handler) < 0) {
        slots.erase(&d);
        d.drvdata = nullptr;
        return -5;
    }
    pci.write_config(d, exp + EXP_SLTCTL, 2, SLTCTL_ABPE | SLTCTL_PDCE | SLTCTL_HPIE | SLTCTL_DLLSCE);
    return 0;
}

}  // namespace

size_t pciehp_live_slots() { return live_slots; }

void pcieport_init_module(kernel& k, pci_subsys& pci) {
    static pci_driver drv;  // one module instance per simulated kernel
    drv.name = "pcieport";
    drv.id_table.clear();
    for (uint16_t id = 0x3408; id <= 0x3411; ++id) drv.id_table.push_back({0x8086, id});
    auto slots = std::make_shared<slot_table>();  // this kernel's, freed with the next
    drv.probe = [&k, &pci, slots](pci_dev& d) { return probe(k, pci, d, *slots); };
    drv.remove = [&pci, slots](pci_dev& d) {
        if (auto* s = static_cast<slot*>(d.drvdata))
            pci.write_config(d, s->exp + EXP_SLTCTL, 2, 0);  // stop the slot's interrupts
        slots->erase(&d);
    };
    pci.register_driver(drv);
}

}  // namespace ioatsim::sw
