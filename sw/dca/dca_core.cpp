// dca-core as Linux 3.4 wrote it (drivers/dca/dca-core.c; the sysfs part of
// dca-sysfs.c only as far as it names providers). dca_lock is a raw spinlock
// taken with interrupts off; here a kernel spinlock, so that the providers'
// register accesses under it cannot interleave with another task's.
#include "sw/dca/dca.h"

#include <algorithm>

namespace ioatsim::sw {

namespace {
constexpr int E_NODEV = 19, E_EXIST = 17;  // ENODEV, EEXIST
constexpr const char* DCA_VERSION = "1.12.1";
// PCI_DEVICE_ID_INTEL_IOAT_TBG0..TBG7 (include/linux/pci_ids.h): the 5520/7500's.
constexpr uint16_t tbg_ids[] = {0x3430, 0x3431, 0x3432, 0x3433, 0x3429, 0x342a, 0x342b, 0x342c};

const char* event_name(unsigned long e) {
    return e == DCA_PROVIDER_ADD ? "DCA_PROVIDER_ADD" : e == DCA_PROVIDER_REMOVE ? "DCA_PROVIDER_REMOVE" : "?";
}
}  // namespace

bool dca_provider_ioat_ver_3_0(const dca_device& dev) {
    return dev.vendor == 0x8086 && std::find(std::begin(tbg_ids), std::end(tbg_ids), dev.device) != std::end(tbg_ids);
}

dca_core::dca_core(kernel& k, config cfg) : k_(k), cfg_(std::move(cfg)) {
    dca_lock_.name = "dca_lock";
    k_.rep().declare("violations.dca_stale_tag");
}

dca_core::~dca_core() = default;

unsigned dca_core::cpu_physical_id(unsigned cpu) const {
    return cpu < cfg_.platform.apic_ids.size() ? cfg_.platform.apic_ids[cpu] : cpu;
}

void dca_core::dca_init() {
    if (started_) return;
    started_ = true;
    k_.printk(strfmt("dca service started, version %s", DCA_VERSION));
}

void dca_core::trace(const std::string& ev, json_obj fields) { k_.trace("dca", ev, std::move(fields)); }

// idr_get_new in dca_sysfs_add_provider: the lowest free id; the class device
// is "dca%d".
int dca_core::dca_sysfs_add_provider(dca_provider* dca) {
    size_t id = 0;
    while (id < ids_.size() && ids_[id]) ++id;
    if (id == ids_.size()) ids_.push_back(false);
    ids_[id] = true;
    dca->label = "dca" + std::to_string(id);
    return int(id);
}

void dca_core::dca_sysfs_remove_provider(dca_provider* dca) {
    size_t id = std::stoul(dca->label.substr(3));
    if (id < ids_.size()) ids_[id] = false;
}

std::list<dca_core::dca_domain>::iterator dca_core::dca_find_domain(unsigned rc) {
    return std::find_if(dca_domains_.begin(), dca_domains_.end(), [rc](const dca_domain& d) { return d.pci_rc == rc; });
}

// A provider of a root complex with no domain yet: a CB3.0 one blocks every
// provider once any domain exists (multiple IOHs with IOAT ver.3.0).
dca_core::dca_domain* dca_core::dca_get_domain(const dca_device& dev) {
    auto it = dca_find_domain(dev.rc);
    if (it != dca_domains_.end()) return &*it;
    if (dca_provider_ioat_ver_3_0(dev) && !dca_domains_.empty()) dca_providers_blocked_ = true;
    return nullptr;
}

// With a device: the provider of its domain that has it as a requester; without
// one (the old API): the first provider of the first domain.
dca_provider* dca_core::dca_find_provider_by_dev(const dca_device* dev) {
    std::list<dca_domain>::iterator domain;
    if (dev) {
        domain = dca_find_domain(dev->rc);
        if (domain == dca_domains_.end()) return nullptr;
    } else {
        if (dca_domains_.empty()) return nullptr;
        domain = dca_domains_.begin();
    }
    for (dca_provider* dca : domain->dca_providers)
        if (!dev || dca->dev_managed(*dev)) return dca;
    return nullptr;
}

void dca_core::notifier_call_chain(unsigned long event) {
    trace("notify", json_obj().set("event", event_name(event)));
    const uint64_t call = ++calls_;
    std::vector<notifier_block*> chain = chain_;  // a callback may unregister itself
    for (notifier_block* nb : chain)
        if (nb->notifier_call) nb->notifier_call(event);
    // Checker: once the chain has returned every requester has been told (its
    // writes while its callback runs are still its to make); each has to add
    // itself again (not within this chain) before a tag counts once more.
    if (event == DCA_PROVIDER_REMOVE)
        for (auto& [name, r] : requesters_)
            if (r.added_in < call) r.told_remove = true;
}

void dca_core::dca_register_notify(notifier_block* nb) {
    // notifier_chain_register: after every block of the same or higher priority.
    auto at = std::find_if(chain_.begin(), chain_.end(), [nb](notifier_block* o) { return nb->priority > o->priority; });
    chain_.insert(at, nb);
}

void dca_core::dca_unregister_notify(notifier_block* nb) {
    chain_.erase(std::remove(chain_.begin(), chain_.end(), nb), chain_.end());
}

// Blocking: requesters are told first, then every provider of the (only)
// domain is taken off it with list_del, the domain freed. The drivers still
// hold their providers: unregistering one later finds it off every list.
void dca_core::unregister_dca_providers() {
    notifier_call_chain(DCA_PROVIDER_REMOVE);
    k_.spin_lock(dca_lock_);
    if (dca_domains_.empty()) {
        k_.spin_unlock(dca_lock_);
        return;
    }
    // "at this point only one domain in the list is expected"; list_move puts
    // each at the head of the local list, so they come out newest last.
    std::list<dca_provider*> unregistered;
    dca_domain& domain = dca_domains_.front();
    for (dca_provider* dca : domain.dca_providers) unregistered.push_front(dca);
    dca_domains_.pop_front();
    k_.spin_unlock(dca_lock_);
    json_obj f;
    f.set("providers", uint64_t(unregistered.size()));
    trace("providers.unregistered", f);
    for (dca_provider* dca : unregistered) {
        dca_sysfs_remove_provider(dca);
        dca->node = dca_provider::node_state::poisoned;
    }
}

int dca_core::register_dca_provider(dca_provider* dca, const dca_device& dev) {
    k_.spin_lock(dca_lock_);
    if (dca_providers_blocked_) {
        k_.spin_unlock(dca_lock_);
        return -E_NODEV;
    }
    k_.spin_unlock(dca_lock_);
    dca->owner = dev.name;
    dca_sysfs_add_provider(dca);

    k_.spin_lock(dca_lock_);
    dca_domain* domain = dca_get_domain(dev);
    if (!domain) {
        if (dca_providers_blocked_) {
            k_.spin_unlock(dca_lock_);
            dca_sysfs_remove_provider(dca);
            trace("providers.blocked", json_obj().set("device", dev.name));
            unregister_dca_providers();
            return -E_NODEV;
        }
        // dca_allocate_domain outside the lock, then "Recheck, we might have
        // raced after dropping the lock".
        domain = dca_get_domain(dev);
        if (!domain) {
            dca_domains_.push_front(dca_domain{dev.rc, {}});
            domain = &dca_domains_.front();
        }
    }
    domain->dca_providers.push_front(dca);
    dca->node = dca_provider::node_state::linked;
    k_.spin_unlock(dca_lock_);
    trace("provider.register", json_obj().set("provider", dca->label).set("device", dev.name));
    notifier_call_chain(DCA_PROVIDER_ADD);
    return 0;
}

void dca_core::unregister_dca_provider(dca_provider* dca, const dca_device& dev) {
    notifier_call_chain(DCA_PROVIDER_REMOVE);
    k_.spin_lock(dca_lock_);
    if (cfg_.unregister_checks_domains && dca_domains_.empty()) {
        k_.spin_unlock(dca_lock_);
        return;
    }
    if (dca->node != dca_provider::node_state::linked) {
        // list_del on a node list_del already poisoned: next->prev = prev writes
        // through LIST_POISON1, with dca_lock held. The task dies holding it.
        k_.oops(strfmt("general protection fault in unregister_dca_provider: list_del of %s (%s), which "
                       "unregister_dca_providers already took off its list (LIST_POISON1)",
                       dca->label.c_str(), dev.name.c_str()));
        return;
    }
    auto domain = dca_find_domain(dev.rc);
    if (domain != dca_domains_.end()) {
        domain->dca_providers.remove(dca);
        if (domain->dca_providers.empty()) dca_domains_.erase(domain);
    }
    dca->node = dca_provider::node_state::poisoned;
    k_.spin_unlock(dca_lock_);
    trace("provider.unregister", json_obj().set("provider", dca->label).set("device", dev.name));
    dca_sysfs_remove_provider(dca);
}

void dca_core::free_dca_provider(dca_provider* dca) {
    if (dca) dca->freed = true;
}

int dca_core::dca_add_requester(const dca_device& dev) {
    k_.spin_lock(dca_lock_);
    if (dca_find_provider_by_dev(&dev)) {  // added already
        k_.spin_unlock(dca_lock_);
        return -E_EXIST;
    }
    auto domain = dca_find_domain(dev.rc);
    if (domain == dca_domains_.end()) {
        k_.spin_unlock(dca_lock_);
        return -E_NODEV;
    }
    int slot = -E_NODEV;
    dca_provider* dca = nullptr;
    for (dca_provider* p : domain->dca_providers) {
        slot = p->add_requester(dev);
        if (slot >= 0) {
            dca = p;
            break;
        }
    }
    k_.spin_unlock(dca_lock_);
    if (slot < 0) return slot;
    requester_state& r = requesters_[dev.name];
    r.told_remove = false;
    r.added_in = calls_;
    trace("requester.add", json_obj().set("requester", dev.name).set("provider", dca->label).set("slot", slot));
    return 0;  // dca_sysfs_add_req: "requester%d" under the provider
}

int dca_core::dca_remove_requester(const dca_device& dev) {
    k_.spin_lock(dca_lock_);
    dca_provider* dca = dca_find_provider_by_dev(&dev);
    if (!dca) {
        k_.spin_unlock(dca_lock_);
        return -E_NODEV;
    }
    int slot = dca->remove_requester(dev);
    k_.spin_unlock(dca_lock_);
    if (slot < 0) return slot;
    trace("requester.remove", json_obj().set("requester", dev.name).set("provider", dca->label).set("slot", slot));
    return 0;
}

// A u8 function returning -ENODEV: a requester no provider has gets 0xED.
uint8_t dca_core::dca_common_get_tag(const dca_device* dev, unsigned cpu) {
    k_.spin_lock(dca_lock_);
    dca_provider* dca = dca_find_provider_by_dev(dev);
    uint8_t tag = dca ? (dev ? dca->get_tag(*dev, cpu) : dca->get_tag(dca_device{}, cpu)) : uint8_t(-E_NODEV);
    k_.spin_unlock(dca_lock_);
    if (dev) {
        requester_state& r = requesters_[dev->name];
        r.tag_from = dca;
        r.asked = true;
    }
    return tag;
}

uint8_t dca_core::dca3_get_tag(const dca_device& dev, unsigned cpu) { return dca_common_get_tag(&dev, cpu); }

uint8_t dca_core::dca_get_tag(unsigned cpu) { return dca_common_get_tag(nullptr, cpu); }

void dca_core::tagged_write(const dca_device& dev, uint8_t tag) {
    const requester_state& r = requesters_[dev.name];
    std::string why;
    if (r.told_remove)
        why = "after DCA_PROVIDER_REMOVE, without adding itself again";
    else if (!r.tag_from)
        why = "that no provider gave it";
    else if (r.tag_from->freed || r.tag_from->node != dca_provider::node_state::linked)
        why = "from " + r.tag_from->label + " (" + r.tag_from->owner + "), which is no longer registered";
    if (why.empty()) return;
    k_.rep().violation(k_.now(), "dca_stale_tag",
                       strfmt("%s: a write carries DCA tag 0x%02x ", dev.name.c_str(), tag) + why);
}

size_t dca_core::providers_registered() const {
    size_t n = 0;
    for (const dca_domain& d : dca_domains_) n += d.dca_providers.size();
    return n;
}

}  // namespace ioatsim::sw
