// What a run measured about removal, copies and references, for summary.json and
// `ioatsim compare`. Every key is present whatever happened (null when there is
// no value), so `expect` can name any of them before the run.
#include "platform/platform.h"

#include "models/core/report.h"
#include "sw/clients/async_tx.h"
#include "sw/clients/dca_requester.h"
#include "sw/clients/dmatest.h"
#include "sw/clients/net_dma.h"
#include "sw/dmaengine/dmaengine.h"

#include <systemc>

namespace ioatsim {

namespace {

const std::string null = "null";

json_obj ledger_json(const sw::copy_ledger& l) {
    json_obj o;
    o.set("submitted", l.submitted).set("completed", l.completed).set("failed_back", l.failed_back)
        .set("lost", l.lost).set("in_flight_at_end", l.in_flight).set("cpu", l.cpu);
    return o;
}

json_obj options_json(const sw::dmatest_params& p) {
    json_obj o;
    o.set("threads_per_chan", p.threads_per_chan).set("iterations", p.iterations)
        .set("test_buf_size", uint64_t(p.test_buf_size)).set("max_channels", p.max_channels)
        .set("channel", p.channel).set("device", p.device).set("timeout_ps", p.timeout).set("seed", p.seed);
    return o;
}

json_obj options_json(const sw::net_dma_config& c) {
    json_obj o;
    o.set("interfaces", c.interfaces).set("readers", c.readers).set("read_size", uint64_t(c.read_size))
        .set("segment", uint64_t(c.segment)).set("copybreak", c.copybreak).set("link_gbps", c.link_gbps)
        .set("reads", c.reads);
    return o;
}

json_obj options_json(const sw::async_tx_config& c) {
    json_obj o;
    o.set("threads", c.threads).set("disks", c.disks).set("block", uint64_t(c.block))
        .set("iterations", c.iterations).set("seed", c.seed);
    return o;
}

json_obj options_json(const sw::dca_requester_config& c) {
    json_obj o;
    o.set("device", c.device).set("queues", c.queues).set("interval_ps", c.interval)
        .set("packet", uint64_t(c.packet)).set("packets", c.packets).set("before_ioatdma", c.before_ioatdma)
        .set("keep_tagging", c.keep_tagging);
    return o;
}

std::string us(uint64_t ps) { return json_number(double(ps) / 1e6); }

}  // namespace

void platform::removal_summary(json_obj& summary) {
    report& rep = sim_report();
    const uint64_t end = uint64_t(sc_core::sc_time_stamp().value());

    // Removal: from the first request to the OS finishing the last one, and to
    // the last device memory freed (never, while a device's memory is held).
    json_obj removal;
    uint64_t first = UINT64_MAX, os_done = 0;
    bool completed = true;
    int requested = 0;
    std::vector<std::string> ops;
    for (const os_op& op : ops_) {
        json_obj o;
        o.set("what", op.what).set("requested_ps", op.requested_ps).set("done", op.done);
        o.set_raw("done_ps", op.done ? std::to_string(op.done_ps) : null);
        // Done but failed (the OS rolled back): why; it did not complete.
        if (op.failed.empty()) o.set_raw("failed", null);
        else o.set("failed", op.failed);
        ops.push_back(o.str());
        if (!op.removal) continue;
        ++requested;
        first = std::min(first, op.requested_ps);
        completed = completed && op.done && op.failed.empty();
        os_done = std::max(os_done, op.done_ps);
    }
    const uint64_t freed = dma_ ? dma_->last_release() : 0;
    const bool all_freed = requested && dma_ && !dma_->removal_pending() && freed >= first;
    removal.set("requested", requested).set("completed", requested > 0 && completed);
    removal.set_raw("requested_us", requested ? us(first) : null);
    removal.set_raw("latency_us", requested && completed ? us(os_done - first) : null);
    removal.set_raw("freed_latency_us", all_freed ? us(freed - first) : null);
    summary.set_raw("os_operations", json_array(ops));

    // Bytes the clients delivered verified, in GB/s (bytes per ps x 1000), before
    // the first removal request, until the OS finished it, and after.
    auto rate = [&](uint64_t from, uint64_t to, uint64_t from_t, uint64_t to_t) {
        return to_t > from_t ? json_number(double(rep.sum_between("bytes.delivered", from, to)) * 1000.0 /
                                           double(to_t - from_t))
                             : null;
    };
    json_obj throughput;
    const bool cut = requested && completed && os_done <= end;
    throughput.set_raw("before_gbytes_per_s", requested ? rate(0, first, 0, first) : null);
    throughput.set_raw("during_gbytes_per_s", cut ? rate(first, os_done, first, os_done) : null);
    throughput.set_raw("after_gbytes_per_s", cut ? rate(os_done, UINT64_MAX, os_done, end) : null);
    throughput.set_raw("whole_run_gbytes_per_s", rate(0, UINT64_MAX, 0, end));

    // Copies by outcome, in all and per client; their options, as run.
    sw::copy_ledger all;
    json_obj clients;
    auto client = [&](const char* name, const sw::copy_ledger& l, json_obj options) {
        all.submitted += l.submitted, all.completed += l.completed, all.failed_back += l.failed_back;
        all.lost += l.lost, all.in_flight += l.in_flight, all.cpu += l.cpu, all.done += l.done;
        clients.set(name, json_obj().set("copies", ledger_json(l)).set("work_done", l.done).set("options", options));
    };
    if (dmatest_) client("dmatest", dmatest_->copies(), options_json(sw::dmatest_params(sc_.dmatest)));
    json_obj offload;
    if (net_dma_) {
        client("net_dma", net_dma_->copies(), options_json(sw::net_dma_config(sc_.net_dma)));
        // The offload's net gain: the reader's CPU time per KiB offloaded
        // (pinning, prep and submit, issue_pending, the drain's spin, and the
        // interrupts it absorbed meanwhile), against a CPU copy of a KiB at
        // cpu.memcpy_gbps; and the CPU copies this run made, per KiB, the
        // same way measured.
        const double off_bytes = double(rep.counter("net_dma.bytes_offloaded"));
        const double cpu_bytes = double(rep.counter("net_dma.cpu_copy_bytes"));
        json_obj per_kib;
        if (off_bytes > 0) {
            double offload = double(rep.counter("net_dma.offload_cpu_ps")) / 1000.0 / (off_bytes / 1024.0);
            double copy = 1024.0 / kernel_->config().memcpy_gbps;
            per_kib.set("offload_cpu_ns", offload).set("cpu_copy_ns", copy).set("gain_ns", copy - offload);
        }
        if (cpu_bytes > 0)
            per_kib.set("measured_cpu_copy_ns", double(rep.counter("net_dma.cpu_copy_ps")) / 1000.0 / (cpu_bytes / 1024.0));
        offload.set("net_dma_per_kib", per_kib);
    }
    if (async_tx_) client("async_tx", async_tx_->copies(), options_json(sw::async_tx_config(sc_.async_tx)));
    if (dca_requester_) client("dca", dca_requester_->copies(), options_json(sw::dca_requester_config(sc_.dca)));

    json_obj refs;
    uint64_t charged = dma_ ? dma_->mem().charged() : 0;
    refs.set("design", dma_ ? sw::to_string(dma_->design()) : "none")
        .set("operations", uint64_t(dma_ ? dma_->ref_ops() : 0))
        .set("cpu_time_ps", charged)
        .set("ns_per_dma_op", all.submitted > 0 ? double(charged) / 1000.0 / double(all.submitted) : 0.0);
    // Every shared line's traffic, split into the design's references and the
    // rest of the path (locks, cookies, ring indices, completion polling).
    json_obj lines;
    if (kernel_)
        for (auto kind : {sw::coh_kind::refs, sw::coh_kind::path}) {
            const auto& st = kernel_->coh().of(kind);
            lines.set(kind == sw::coh_kind::refs ? "references" : "path",
                      json_obj().set("transfers", st.transfers).set("cpu_time_ps", st.time)
                          .set("ns_per_dma_op", all.submitted > 0 ? double(st.time) / 1000.0 / double(all.submitted) : 0.0));
        }
    summary.set("removal", removal).set("throughput", throughput).set("copies", ledger_json(all))
        .set("clients", clients).set("references", refs).set("shared_lines", lines)
        .set("offload", offload);
    if (dma_map_) summary.set("dma_mapping", dma_mapping_summary(all.submitted));
}

}  // namespace ioatsim
