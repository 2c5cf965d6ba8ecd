// What a run measured about removal, for summary.json and `ioatsim compare`.
#include "platform/platform.h"

#include "models/core/report.h"
#include "sw/dmaengine/dmaengine.h"

namespace ioatsim {

void platform::removal_summary(json_obj& summary, uint64_t end_ps) const {
    const report& rep = sim_report();
    // Bytes the clients delivered verified, per interval, in GB/s (bytes per ps x 1000).
    auto gbps = [&](uint64_t from, uint64_t to) {
        return to > from ? double(rep.sum_between("bytes.delivered", from, to)) * 1000.0 / double(to - from) : 0.0;
    };
    json_obj removal, throughput, copies, refs;
    uint64_t freed = dma_ ? dma_->last_release() : 0;
    bool done = removal_seen_ && freed >= removal_requested_ps_ && freed > 0 && dma_ && !dma_->removal_pending();
    removal.set("requested", removal_seen_);
    if (removal_seen_) removal.set("requested_ps", removal_requested_ps_);
    if (done) removal.set("freed_ps", freed).set("latency_ps", freed - removal_requested_ps_);
    removal.set("completed", done);
    if (removal_seen_) {
        uint64_t during_end = done ? freed : end_ps;
        throughput.set("before", gbps(0, removal_requested_ps_))
            .set("during", gbps(removal_requested_ps_, during_end))
            .set("after", gbps(during_end, end_ps));
    }
    throughput.set("whole_run", gbps(0, end_ps));
    int64_t submitted = rep.get("copies.submitted");
    copies.set("submitted", submitted)
        .set("completed", rep.get("copies.completed"))
        .set("failed_back", rep.get("copies.failed_back"))
        .set("cpu", rep.get("copies.cpu"))
        .set("lost", rep.get("violations.copy_lost"));
    uint64_t charged = dma_ ? dma_->mem().charged() : 0;
    refs.set("design", dma_ ? sw::to_string(dma_->design()) : "none")
        .set("operations", uint64_t(dma_ ? dma_->ref_ops() : 0))
        .set("cpu_time_ps", charged)
        .set("ns_per_dma_op", submitted > 0 ? double(charged) / 1000.0 / double(submitted) : 0.0);
    summary.set("removal", removal).set("throughput_gbps", throughput).set("copies", copies).set("references", refs);
}

}  // namespace ioatsim
