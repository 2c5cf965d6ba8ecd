// `ioatsim list presets|scenarios|actions|counters|designs`: each name with one
// line of description, so nobody reads C++ to find one. Presets and scenarios
// describe themselves (their `description`); the platform's tables of actions
// and counters have no descriptions, so they are written here, and a test
// checks this list against what runs declare and accept.
#include "tools/list.h"

#include "platform/data_dir.h"
#include "platform/params.h"
#include "platform/scenario.h"
#include "sw/clients/async_tx.h"
#include "sw/clients/dca_requester.h"
#include "sw/clients/dmatest.h"
#include "sw/clients/net_dma.h"
#include "sw/dmaengine/design.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <vector>

namespace ioatsim {
namespace fs = std::filesystem;

namespace {

using entry = std::pair<std::string, std::string>;

const std::vector<entry> actions = {
    {"ioh.remove", "remove an IOH (ioh, mode: orderly asks the OS first; surprise drops the links at once)"},
    {"ioh.add", "power an IOH back on (ioh); the OS rescans"},
    {"pci.unbind", "unbind a function's driver as sysfs does (device: \"0000:80:16.7\")"},
    {"pci.bind", "bind a function's driver again (device)"},
    {"cpu.offline", "take a CPU offline (cpu): its tasks and interrupts move"},
    {"cpu.online", "bring a CPU back online (cpu)"},
    {"socket.remove", "remove a processor socket as an ACPI container eject: CPUs, memory node, IIO (socket)"},
    {"socket.add", "add a processor socket back: the OS scans it and brings its CPUs and memory online (socket)"},
    {"cfg.read", "a configuration read through CPU 0 (device, offset, width), checked against expect/mask"},
    {"cfg.write", "a configuration write through CPU 0 (device, offset, width, value)"},
    {"mmio.read", "a register read through CPU 0 (device, bar, offset, width), checked against expect/mask"},
    {"mmio.write", "a register write through CPU 0 (device, bar, offset, width, value)"},
    {"mem.write", "write memory, little endian (addr, and bytes, u32 or u64)"},
    {"mem.fill", "fill memory with a pattern (addr, len, pattern)"},
    {"mem.expect", "check memory (addr, and len + pattern, bytes/u32/u64, or len + equals: ADDR2)"},
};

const std::map<std::string, std::string> counter_text = {
    {"dmatest.tests", "dmatest copies verified or failed, in all threads"},
    {"dmatest.failures", "dmatest tests that failed, whatever the reason"},
    {"dmatest.prep_errors", "dmatest preps the channel refused (the thread then sleeps 100 ms)"},
    {"dmatest.submit_errors", "dmatest submissions that returned an error cookie"},
    {"dmatest.timeouts", "dmatest copies whose callback never came within the timeout"},
    {"dmatest.bad_status", "dmatest callbacks whose transaction status was not success"},
    {"dmatest.data_mismatch", "dmatest copies whose destination did not match the source"},
    {"dmatest.bytes", "bytes dmatest copied and verified"},
    {"net_dma.reads", "net_dma reads (recvmsg calls) finished"},
    {"net_dma.copies_failed", "net_dma copies whose submission failed (the read bails out early)"},
    {"net_dma.bytes_offloaded", "bytes net_dma copied with a DMA channel"},
    {"net_dma.offload_cpu_ps", "CPU time net_dma's offload took: pinning, prep and submit, issue_pending, the drain"},
    {"net_dma.cpu_copy_ps", "CPU time net_dma spent copying bytes on the CPU itself"},
    {"net_dma.cpu_copy_bytes", "bytes net_dma copied on the CPU"},
    {"async_tx.ops_dma", "async_tx operations done on a DMA channel"},
    {"async_tx.ops_cpu", "async_tx operations done on the CPU (no channel would prepare them)"},
    {"raid6.recoveries", "raid6 recoveries finished and verified"},
    {"raid6.failures", "raid6 recoveries whose result was wrong"},
    {"raid6.redone", "raid6 recoveries redone after losing an operation to a removed channel"},
    {"igb.rx_packets", "packets the DCA requester (an igb-like NIC) received"},
    {"igb.dca_tagged_writes", "of those, writes tagged with a DCA target"},
    {"dca.prefetch_hints", "tagged writes an IOAT function's DCA claimed (a prefetch hint to the CPU)"},
    {"dca.unclaimed_tags", "tagged writes no DCA provider claimed"},
    {"pcie.unsupported_requests", "reads the root complex answered with all ones (device gone or nothing there)"},
    {"kernel.spin_reads_slept", "reads of a register spin on a gone device that the task slept through (each would have read all ones)"},
    {"kernel.poll_passes_slept", "passes of settled busy-wait loops the polling tasks slept through (run.poll_skip), their time and coherence cost still charged"},
    {"pcie.posted_dropped", "posted writes the root complex dropped (device gone)"},
    {"pcie.dma_dropped", "DMA from a device under a removed IOH, dropped"},
    {"pcie.completion_timeouts", "reads that ended by the completion timeout (the IOH vanished meanwhile)"},
    {"irq.to_offline_cpu", "interrupts sent to a CPU that was offline"},
    {"ioatdma.leaked_pins", "ioatdma module references left held at the end of the run"},
    {"violations.oops", "oopses: a register access outside every live mapping, a NULL follow (the task is killed)"},
    {"violations.dca_stale_tag", "a DCA tag used after DCA_PROVIDER_REMOVE"},
    {"violations.copy_corrupt", "copies verified wrong"},
    {"violations.copy_lost", "copies never completed nor failed back"},
    {"violations.copy_failed", "copies reported done with a bad status"},
    {"violations.cookie_order", "cookies completed out of order"},
    {"violations.client_count", "dmaengine client counts that do not add up"},
    {"violations.completion_address", "completion writes to an address that is no channel's"},
    {"violations.use_after_free", "kernel memory used after it was freed"},
    {"violations.double_free", "kernel memory freed twice"},
    {"violations.bad_free", "frees of memory that was never allocated"},
    {"violations.pool_busy_at_destroy", "dma_pool_destroy with objects still in use"},
    {"violations.hung", "tasks in one uninterruptible wait longer than check.hung_after"},
    {"violations.leaked_pins", "module references still held at the end"},
    {"violations.pins", "module reference rules broken"},
    {"violations.table", "a CPU left without a channel in dmaengine's tables"},
    {"violations.private", "private channel rules broken"},
    {"violations.use_after_unregister", "a channel used after its device was unregistered"},
    {"violations.bug", "a BUG_ON or WARN of the simulated kernel"},
    {"violations.async_tx_ack", "async_tx descriptors acked wrongly"},
    {"violations.removal_incomplete", "operations the timeline asked the OS for, unfinished at the end"},
    {"violations.removal_failed", "operations the timeline asked the OS for that failed (the OS rolled back)"},
    {"violations.boot_incomplete", "init had not finished booting at the end"},
    {"violations.no_progress", "a configured client finished no work at all"},
    // The DMA-mapping layer (software.iommu, software.dma_debug) and the IOHs' VT-d units.
    {"memory.pages_migrated", "pages memory hot-removal migrated off a node going offline"},
    {"percpu.offline_counts_summed", "non-zero per-CPU counts of offline CPUs met by a sum (they still count)"},
    {"memory.offline_passes", "passes of offline_pages over a node (each failed one retried)"},
    {"dma_map.maps", "streaming mappings made (dma_map_single, dma_map_page, dma_map_sg)"},
    {"dma_map.map_ns", "CPU time in those maps, ns"},
    {"dma_map.unmaps", "streaming mappings undone"},
    {"dma_map.unmap_ns", "CPU time in those unmaps, ns, IOTLB flushes included"},
    {"dma_map.map_errors", "maps that failed (dma_mapping_error)"},
    {"dma_map.sg_maps", "of the maps, scatter-gather lists"},
    {"dma_map.syncs", "dma_sync_* calls"},
    {"dma_map.sync_ns", "CPU time in them, ns"},
    {"dma_map.allocs", "coherent allocations (dma_alloc_coherent, the dma_pool pages)"},
    {"dma_map.alloc_ns", "CPU time in them, ns"},
    {"dma_map.frees", "coherent allocations freed"},
    {"dma_map.free_ns", "CPU time in those frees, ns"},
    {"dma_map.iotlb_flushes", "IOTLB invalidations the DMAR driver issued"},
    {"dma_map.iotlb_flush_ns", "CPU time in them, ns, waiting for the unit included"},
    {"dma_map.iotlb_global", "of them, global"},
    {"dma_map.iotlb_dsi", "of them, domain-selective"},
    {"dma_map.iotlb_psi", "of them, page-selective"},
    {"dma_map.context_flushes", "context-cache invalidations the DMAR driver issued"},
    {"dma_map.deferred_flushes", "flushes of intel-iommu's deferred unmap queue (lazy: 250 entries or 10 ms)"},
    {"dma_map.swiotlb_bounce_bytes", "bytes swiotlb copied between a buffer and its bounce slab"},
    {"dma_map.swiotlb_full", "swiotlb maps that found no free slab"},
    {"dma_map.pagetable_pages", "VT-d page-table pages intel-iommu holds"},
    {"dma_map.dmar_faults", "DMAR fault records the driver logged"},
    {"dma_map.stale_drhd_accesses", "register accesses to a DMAR unit whose IOH was gone"},
    {"vtd.iotlb_misses", "requests a VT-d unit translated by walking the tables (IOTLB misses)"},
    {"vtd.faults_recorded", "translation faults a VT-d unit recorded"},
    {"vtd.requests_blocked", "DMA requests a VT-d unit blocked"},
    {"violations.dmar_fault", "DMA a VT-d unit blocked and the DMAR driver logged (DMA outside the device's mappings)"},
    {"violations.dma_debug", "dma-debug errors: unmaps of the wrong size or direction, leaks, CPU writes to mapped pages"},
    {"violations.dma_debug_device", "device DMA that reached memory outside its live mappings (dma-debug, model-only)"},
    {"violations.iommu", "a WARN of intel-iommu (an unmap of an address never mapped, a PTE already set)"},
};

const std::map<std::string, std::string> design_text = {
    {"legacy", "Linux 3.4: module pins only, no per-use reference; removal warns and destroys busy pools"},
    {"atomic", "2012 v1 series: a locked RMW per channel use; removal waits for the count"},
    {"percpu", "2012 v2 series: a per-CPU count per use; removal polls the per-CPU sum"},
    {"client_callbacks", "2006 dma_client API and bigref: clients hear DMA_RESOURCE_REMOVED and let go"},
    {"prep_null", "Dan Williams' position: no per-use reference; prep returns NULL after removal, memory kept"},
    {"mainline", "v5.6 as merged: ioat_shutdown first, device kref, memory freed on the last reference"},
    {"percpu_ref", "idxd's 2021 submission gate (percpu_ref) applied to ioatdma on mainline"},
};

// The first sentence of a description, on one line and at most about 110 characters.
std::string one_line(std::string text) {
    std::replace(text.begin(), text.end(), '\n', ' ');
    std::string s;
    for (char c : text)
        if (!(c == ' ' && (s.empty() || s.back() == ' '))) s += c;
    while (!s.empty() && s.back() == ' ') s.pop_back();
    if (size_t dot = s.find(". "); dot != std::string::npos) s.resize(dot + 1);
    if (s.size() > 110) {
        s.resize(s.rfind(' ', 107));
        s += " ...";
    }
    return s;
}

std::vector<entry> described_files(const std::string& dir) {
    std::vector<entry> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (e.path().extension() != ".yaml") continue;
        std::string text = "(no description)";
        try {
            YAML::Node doc = YAML::LoadFile(e.path().string());
            if (doc["description"]) text = one_line(doc["description"].as<std::string>());
        } catch (const std::exception&) {
            text = "(unreadable)";
        }
        out.emplace_back(e.path().stem().string(), text);
    }
    std::sort(out.begin(), out.end());
    return out;
}

// Every counter a run can declare: the clients' own tables and this file's.
std::vector<entry> counters() {
    std::map<std::string, std::string> all = counter_text;
    auto add = [&](const auto& names) {
        for (const char* n : names) all.emplace(n, "(no description yet)");
    };
    add(sw::dmatest::counters);
    add(sw::net_dma::counters);
    add(sw::async_tx::counters);
    add(sw::dca_requester::counters);
    return {all.begin(), all.end()};
}

}  // namespace

const char* const list_kinds = "presets, scenarios, actions, counters or designs";

std::vector<std::pair<std::string, std::string>> list_entries(const std::string& kind) {
    if (kind == "presets") return described_files(presets_dir());
    if (kind == "scenarios") return described_files(data_dir("scenarios"));
    if (kind == "actions") return actions;
    if (kind == "counters") return counters();
    if (kind == "designs") {
        std::vector<entry> out;
        for (const char* n : sw::dma_design_names) out.emplace_back(n, design_text.at(n));
        return out;
    }
    throw input_error("list: \"" + kind + "\" is not " + list_kinds);
}

int cmd_list(const std::vector<std::string>& args) {
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
        std::cout << "usage: ioatsim list presets|scenarios|actions|counters|designs\n\n"
                     "Lists each with one line of description.\n";
        return 0;
    }
    if (args.size() != 1) throw input_error(std::string("list: name one of ") + list_kinds);
    const auto entries = list_entries(args[0]);
    size_t width = 0;
    for (const auto& [name, text] : entries) width = std::max(width, name.size());
    for (const auto& [name, text] : entries) std::cout << name << std::string(width + 2 - name.size(), ' ') << text << '\n';
    return 0;
}

}  // namespace ioatsim
