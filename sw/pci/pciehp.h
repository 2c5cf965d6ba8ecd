// The PCIe port driver with its hot-plug service (pciehp) for the IOH's root
// ports: it enables the slot's interrupts and reports button presses, card
// presence and link changes as Linux 3.4 does.
#pragma once
#include "sw/kernel/kernel.h"
#include "sw/pci/pci.h"

namespace ioatsim::sw {

void pcieport_init_module(kernel& k, pci_subsys& pci);

// Hot-plug slots probed and not yet removed (a slot is freed by remove).
size_t pciehp_live_slots();

}  // namespace ioatsim::sw
