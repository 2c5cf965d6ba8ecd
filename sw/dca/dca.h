// The DCA service (Linux 3.4 drivers/dca/dca-core.c, include/linux/dca.h):
// providers (the IOAT functions) grouped in one domain per PCI root complex,
// requesters (NICs) that add themselves to a provider of their own domain and
// ask it for the tag of a CPU, and a notifier chain that tells requesters when
// a provider comes (DCA_PROVIDER_ADD) or goes (DCA_PROVIDER_REMOVE). A CB3.0
// provider (the 5520/7500 IOAT functions) under a second root complex blocks
// DCA for good: every provider is unregistered and no new one is accepted
// (dca_get_domain). dca-core prints nothing when it blocks.
//
// Also the checker of the contract: a requester's write that carries a tag
// after it was told DCA_PROVIDER_REMOVE (and has not added itself since), or a
// tag no registered provider gave it, is a `dca_stale_tag` violation.
#pragma once
#include "sw/kernel/kernel.h"

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ioatsim::sw {

// include/linux/dca.h
constexpr unsigned long DCA_PROVIDER_ADD = 0x0001, DCA_PROVIDER_REMOVE = 0x0002;

// A device as dca-core sees it (struct device, to_pci_dev): its name, PCI
// identity and requester ID, and the root complex above it (dca_pci_rc_from_dev
// walks bus->parent up to the root bus: here, the host bridge's index).
struct dca_device {
    std::string name;                 // "0000:01:00.0"
    uint16_t vendor = 0x8086, device = 0;
    uint8_t bus = 0, devfn = 0;
    unsigned rc = 0;
    uint16_t rid() const { return uint16_t(bus << 8 | devfn); }  // dcaid_from_pcidev
};

// struct dca_provider with its struct dca_ops; a driver derives from it and
// keeps its private part (dca_priv) in the derived class.
struct dca_provider {
    virtual ~dca_provider() = default;
    virtual int add_requester(const dca_device& dev) = 0;     // slot, or -errno
    virtual int remove_requester(const dca_device& dev) = 0;  // slot, or -errno
    virtual uint8_t get_tag(const dca_device& dev, unsigned cpu) = 0;
    virtual int dev_managed(const dca_device& dev) = 0;

    std::string owner;  // the providing device, for traces and messages
    std::string label;  // "dca%d" as dca-sysfs named it at registration
    // Its list_head `node`: never on a domain's list, on one, or taken off with
    // list_del (LIST_POISON: a second list_del faults).
    enum class node_state { unlinked, linked, poisoned } node = node_state::unlinked;
    bool freed = false;  // free_dca_provider; the object is kept so late uses are caught
};

struct notifier_block {
    std::function<int(unsigned long event)> notifier_call;
    int priority = 0;
};

// The platform's part: CPUID.1:ECX[18] (X86_FEATURE_DCA, after clearcpuid=),
// CPUID.9:EAX[0] (DCA enabled by the BIOS), and each CPU's APIC ID
// (cpu_physical_id).
struct dca_platform {
    bool x86_feature_dca = true;
    bool bios_dca_enabled = true;
    std::vector<unsigned> apic_ids;
};

class dca_core {
public:
    struct config {
        dca_platform platform;
        // 3.4.y stable and every later kernel return from unregister_dca_provider
        // once no domain is left ("dca: check against empty dca_domains list
        // before unregister provider"); 3.4.0 goes on to list_del a provider that
        // unregister_dca_providers already took off its list, and faults.
        bool unregister_checks_domains = false;
    };
    dca_core(kernel& k, config cfg);
    ~dca_core();

    // x86 facts the drivers ask for.
    bool boot_cpu_has_dca() const { return cfg_.platform.x86_feature_dca; }
    uint32_t cpuid_eax_9() const { return cfg_.platform.bios_dca_enabled ? 1u : 0u; }
    unsigned cpu_physical_id(unsigned cpu) const;

    // Module load (dca_init): the banner, once, by whichever module needs it first.
    void dca_init();

    template <class T, class... A>
    T* alloc_dca_provider(A&&... args) {
        providers_.push_back(std::make_unique<T>(std::forward<A>(args)...));
        return static_cast<T*>(providers_.back().get());
    }
    void free_dca_provider(dca_provider* dca);
    int register_dca_provider(dca_provider* dca, const dca_device& dev);
    void unregister_dca_provider(dca_provider* dca, const dca_device& dev);

    int dca_add_requester(const dca_device& dev);
    int dca_remove_requester(const dca_device& dev);
    uint8_t dca3_get_tag(const dca_device& dev, unsigned cpu);
    uint8_t dca_get_tag(unsigned cpu);  // the old API: the first provider of the first domain

    void dca_register_notify(notifier_block* nb);
    void dca_unregister_notify(notifier_block* nb);

    // The checker: `dev`'s write carried DCA tag `tag` (the requester's NIC
    // calls this for every tagged write).
    void tagged_write(const dca_device& dev, uint8_t tag);

    bool providers_blocked() const { return dca_providers_blocked_; }
    size_t providers_registered() const;  // on a domain's list now

private:
    struct dca_domain {
        unsigned pci_rc;
        std::list<dca_provider*> dca_providers;  // list_add: newest first
    };
    struct requester_state {
        bool told_remove = false;        // a DCA_PROVIDER_REMOVE since its last successful add
        dca_provider* tag_from = nullptr;  // who gave its last tag
        bool asked = false;              // it asked for a tag at least once
        uint64_t added_in = 0;           // the notifier call its last add came in (calls_)
    };
    std::list<dca_domain>::iterator dca_find_domain(unsigned rc);
    dca_domain* dca_get_domain(const dca_device& dev);
    dca_provider* dca_find_provider_by_dev(const dca_device* dev);
    uint8_t dca_common_get_tag(const dca_device* dev, unsigned cpu);
    void unregister_dca_providers();
    void notifier_call_chain(unsigned long event);
    int dca_sysfs_add_provider(dca_provider* dca);
    void dca_sysfs_remove_provider(dca_provider* dca);
    void trace(const std::string& ev, json_obj fields);

    kernel& k_;
    config cfg_;
    spinlock dca_lock_;
    std::list<dca_domain> dca_domains_;  // list_add: newest first
    bool dca_providers_blocked_ = false;
    std::vector<notifier_block*> chain_;
    uint64_t calls_ = 0;  // notifier calls so far
    std::vector<bool> ids_;  // dca_idr: the lowest free id names a provider
    std::vector<std::unique_ptr<dca_provider>> providers_;
    std::map<std::string, requester_state> requesters_;
    bool started_ = false;
};

// Whether dca-core treats a provider as an IOAT ver.3.0 one (the 5520/7500's
// TBG0-7 functions): those are blocked when a second root complex appears.
bool dca_provider_ioat_ver_3_0(const dca_device& dev);

}  // namespace ioatsim::sw
