#include "platform/perfetto.h"

#include "models/cpu/cpu.h"
#include "models/ioat/descriptor.h"
#include "models/ioat/ops.h"
#include "models/ioat/regs.h"
#include "models/ioh/ioh.h"
#include "platform/platform.h"

#include <cinttypes>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <tuple>

namespace ioatsim {

namespace {

constexpr int CPUS_PID = 1, KERNEL_PID = 2, IOH_PID0 = 10;
constexpr uint64_t X_DUR_PS = 100'000;  // doorbell and interrupt marks: 100 ns, cut short by the next one

int task_tid(unsigned cpu) { return int(2 * cpu + 1); }
int io_tid(unsigned cpu) { return int(2 * cpu + 2); }

std::string ts(uint64_t ps) {
    char b[40];
    std::snprintf(b, sizeof b, "%" PRIu64 ".%06" PRIu64, ps / 1'000'000, ps % 1'000'000);
    return b;
}

// Field values as the trace encoded them: "\"text\"", "12", "\"0x1f\"".
std::string text(const json_obj& f, const char* k) {
    const std::string* v = f.find(k);
    if (!v) return "";
    return v->size() >= 2 && v->front() == '"' ? v->substr(1, v->size() - 2) : *v;
}
uint64_t number(const json_obj& f, const char* k) {
    std::string v = text(f, k);
    return std::strtoull(v.c_str(), nullptr, v.rfind("0x", 0) == 0 ? 16 : 10);
}

const char* op_name(unsigned op) {
    switch (op) {
    case ioat::OP_COPY: return "copy";
    case ioat::OP_FILL: return "fill";
    case ioat::OP_XOR: return "xor";
    case ioat::OP_XOR_VAL: return "xor_val";
    case ioat::OP_PQ: return "pq";
    case ioat::OP_PQ_VAL: return "pq_val";
    default: return "op";
    }
}

}  // namespace

perfetto_writer::perfetto_writer(platform& plat, const std::string& path) : path_(path) {
    f_ = std::fopen((path + ".tmp").c_str(), "wb");
    if (!f_) throw std::runtime_error(path + ": cannot write");
    std::fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n", f_);
    meta(CPUS_PID, 0, "process_name", "CPUs", 0);
    meta(KERNEL_PID, 0, "process_name", "kernel", 1);
    meta(KERNEL_PID, 1, "thread_name", "log and hotplug events", 0);
    for (unsigned i = 0; i < plat.cpu_count(); ++i) {
        models::cpu& c = plat.cpu(i);
        cpu_of_apic_[c.apic_id()] = i;
        meta(CPUS_PID, task_tid(i), "thread_name", "cpu" + std::to_string(i) + " tasks", task_tid(i));
        meta(CPUS_PID, io_tid(i), "thread_name", "cpu" + std::to_string(i) + " doorbells and interrupts", io_tid(i));
    }
    running_.assign(plat.cpu_count(), "");
    for (unsigned h = 0; h < plat.ioh_count(); ++h) {
        models::ioh& ioh = plat.ioh(h);
        int pid = IOH_PID0 + int(h);
        ioh_pid_[ioh.name()] = pid;
        char bus[16];
        std::snprintf(bus, sizeof bus, "%02x", ioh.cfg().bus_lo);
        meta(pid, 0, "process_name", std::string(ioh.name()) + " (bus " + bus + ")", 2 + int(h));
        meta(pid, 1, "thread_name", "hardware state", 0);
        for (unsigned i = 0; i < ioh.ioat_count(); ++i) {
            models::ioat_function& fn = ioh.ioat(i);
            fn_of_bdf_[fn.bdf()] = fn.name();
            for (unsigned c = 0; c < fn.cfg().chancnt; ++c) {
                channel& ch = chans_[fn.chan(c).name()];
                ch.name = fn.chan(c).name();
                ch.pid = pid;
            }
        }
    }
}

perfetto_writer::~perfetto_writer() {
    if (f_) close(false);
}

void perfetto_writer::emit(const std::string& json) {
    std::fputs(first_ ? "" : ",\n", f_);
    std::fputs(json.c_str(), f_);
    first_ = false;
}

void perfetto_writer::meta(int pid, int tid, const char* what, const std::string& name, int sort) {
    emit("{\"ph\":\"M\",\"pid\":" + std::to_string(pid) + ",\"tid\":" + std::to_string(tid) + ",\"name\":\"" + what +
         "\",\"args\":{\"name\":" + json_quote(name) + "}}");
    const char* sort_what = std::string(what) == "process_name" ? "process_sort_index" : "thread_sort_index";
    emit("{\"ph\":\"M\",\"pid\":" + std::to_string(pid) + ",\"tid\":" + std::to_string(tid) + ",\"name\":\"" +
         sort_what + "\",\"args\":{\"sort_index\":" + std::to_string(sort) + "}}");
}

// A mark on a CPU's io track lasts 100 ns or until the next one there, so marks
// never overlap (B/E and X slices on one track must nest).
void perfetto_writer::x_on(int tid, uint64_t t, const std::string& name, const std::string& args) {
    flush_x(tid, t);
    x_[tid] = {true, t, name, args};
}

void perfetto_writer::flush_x(int tid, uint64_t next_t) {
    x_slice& x = x_[tid];
    if (!x.open) return;
    uint64_t dur = std::min(X_DUR_PS, next_t - x.t);
    emit("{\"ph\":\"X\",\"pid\":" + std::to_string(CPUS_PID) + ",\"tid\":" + std::to_string(tid) +
         ",\"ts\":" + ts(x.t) + ",\"dur\":" + ts(dur) + ",\"name\":" + json_quote(x.name) + ",\"args\":{" + x.args +
         "}}");
    x.open = false;
}

void perfetto_writer::instant(int pid, int tid, uint64_t t, const std::string& name, const std::string& args,
                              bool global) {
    emit("{\"ph\":\"i\",\"s\":\"" + std::string(global ? "g" : "t") + "\",\"pid\":" + std::to_string(pid) +
         ",\"tid\":" + std::to_string(tid) + ",\"ts\":" + ts(t) + ",\"name\":" + json_quote(name) +
         ",\"args\":{" + args + "}}");
}

// Counters per 10 us bin: the bin's rate at its start, what is queued at its end.
void perfetto_writer::counters_until(uint64_t t) {
    while (t >= bin_end_) {
        bool busy = false;
        for (auto& [name, c] : chans_) {
            double gbps = double(c.bytes_in_bin) / double(bin_ps / 1000);  // bytes per ns = GB/s
            long in_flight = long(c.queued.size());
            std::string pid = std::to_string(c.pid);
            if (gbps != c.shown_gbps)
                emit("{\"ph\":\"C\",\"pid\":" + pid + ",\"tid\":0,\"ts\":" + ts(bin_end_ - bin_ps) + ",\"name\":" +
                     json_quote(name + " GB/s") + ",\"args\":{\"GB/s\":" + json_number(gbps) + "}}");
            if (in_flight != c.shown_in_flight)
                emit("{\"ph\":\"C\",\"pid\":" + pid + ",\"tid\":0,\"ts\":" + ts(bin_end_) + ",\"name\":" +
                     json_quote(name + " in flight") + ",\"args\":{\"descriptors\":" + std::to_string(in_flight) + "}}");
            c.shown_gbps = gbps;
            c.shown_in_flight = in_flight;
            busy = busy || c.bytes_in_bin;
            c.bytes_in_bin = 0;
        }
        bin_end_ += bin_ps;
        // Nothing moves until t: skip the quiet bins at once.
        if (!busy && t >= bin_end_) bin_end_ += (t - bin_end_) / bin_ps * bin_ps;
    }
}

perfetto_writer::channel* perfetto_writer::chan_of(const std::string& src) {
    auto it = chans_.find(src);
    return it == chans_.end() ? nullptr : &it->second;
}

int perfetto_writer::cpu_of(const std::string& src) const {
    if (src.rfind("cpu", 0) != 0) return -1;
    int n = std::atoi(src.c_str() + 3);
    return n >= 0 && size_t(n) < running_.size() ? n : -1;
}

// Descriptors a reset or a new chain leaves behind end there, named for it.
void perfetto_writer::drop_queued(channel& c, uint64_t t, const char* why) {
    for (auto& [begin, id] : c.queued) {
        std::string common = ",\"cat\":\"desc\",\"name\":" + json_quote(c.name) + ",\"id\":" +
                             std::to_string(next_id_) + ",\"pid\":" + std::to_string(c.pid) + ",\"tid\":0";
        emit("{\"ph\":\"b\"" + common + ",\"ts\":" + ts(begin) + ",\"args\":{\"dropped\":\"" + why +
             "\",\"doorbell\":" + std::to_string(id) + "}}");
        emit("{\"ph\":\"e\"" + common + ",\"ts\":" + ts(t) + "}");
        ++next_id_;
    }
    c.queued.clear();
    c.doorbells.clear();
}

void perfetto_writer::event(uint64_t t, const std::string& src, const std::string& ev, const json_obj& f) {
    last_t_ = std::max(last_t_, t);
    counters_until(t);
    if (ev == "sched.in" || ev == "sched.out") {
        int cpu = cpu_of(src);
        if (cpu < 0) return;
        std::string& task = running_[size_t(cpu)];
        std::string head = "{\"pid\":" + std::to_string(CPUS_PID) + ",\"tid\":" + std::to_string(task_tid(unsigned(cpu))) +
                           ",\"ts\":" + ts(t);
        if (!task.empty()) emit(head + ",\"ph\":\"E\"}");  // an "in" without its "out" closes the last one
        task.clear();
        if (ev == "sched.in") {
            task = text(f, "task");
            emit(head + ",\"ph\":\"B\",\"name\":" + json_quote(task) + "}");
        }
        return;
    }
    if (ev == "mmio.write") {
        auto fn = fn_of_bdf_.find(text(f, "fn"));
        if (fn == fn_of_bdf_.end()) return;
        uint64_t off = number(f, "offset"), len = number(f, "len"), value = number(f, "value");
        if (off < ioat::CHAN_STRIDE) return;
        unsigned reg = unsigned(off % ioat::CHAN_STRIDE);
        channel* c = chan_of(fn->second + ".chan" + std::to_string(off / ioat::CHAN_STRIDE - 1));
        if (!c) return;
        if (reg <= ioat::CHAINADDR && ioat::CHAINADDR < reg + len) {
            drop_queued(*c, t, "new chain");
            c->fresh = true;
        }
        if (reg > ioat::DMACOUNT || reg + len <= ioat::DMACOUNT) return;
        uint16_t count = uint16_t(value >> (8 * (ioat::DMACOUNT - reg)));
        uint16_t added = uint16_t(count - (c->fresh ? 0 : c->dmacount));
        c->fresh = false;
        c->dmacount = count;
        if (!added) return;
        int cpu = cpu_of(text(f, "by"));
        uint64_t id = next_id_++;
        for (unsigned i = 0; i < added; ++i) c->queued.emplace_back(t, id);
        c->submitted += added;
        if (cpu >= 0) {
            c->doorbells.push_back({id, t, unsigned(cpu), c->submitted});
            x_on(io_tid(unsigned(cpu)), t, "doorbell " + c->name,
                 "\"added\":" + std::to_string(added) + ",\"dmacount\":" + std::to_string(count));
        }
        return;
    }
    if (ev == "desc") {
        channel* c = chan_of(src);
        if (!c) return;
        uint8_t frame[64] = {};
        uint32_t ctl = uint32_t(number(f, "ctl"));
        std::memcpy(frame + 4, &ctl, 4);
        unsigned frames = models::ioat_ops::frames(frame);
        uint64_t begin = c->last_done ? c->last_done : t, id = 0;  // no doorbell seen: since the last one
        if (!c->queued.empty()) std::tie(begin, id) = c->queued.front();
        for (unsigned i = 0; i < frames && !c->queued.empty(); ++i) c->queued.pop_front();
        uint64_t bytes = number(f, "len");
        std::string common = ",\"cat\":\"desc\",\"name\":" + json_quote(c->name) + ",\"id\":" +
                             std::to_string(next_id_++) + ",\"pid\":" + std::to_string(c->pid) + ",\"tid\":0";
        emit("{\"ph\":\"b\"" + common + ",\"ts\":" + ts(begin) + ",\"args\":{\"op\":\"" +
             op_name(unsigned(ctl >> 24)) + "\",\"len\":" + std::to_string(bytes) + ",\"doorbell\":" +
             std::to_string(id) + "}}");
        emit("{\"ph\":\"e\"" + common + ",\"ts\":" + ts(t) + "}");
        c->completed += frames;
        c->bytes_in_bin += bytes;
        c->last_done = t;
        return;
    }
    if (ev == "reset" || ev == "abort") {
        if (channel* c = chan_of(src)) {
            drop_queued(*c, t, ev.c_str());
            c->fresh = true;
            c->submitted = c->completed = 0;
        }
    }
    if (ev == "msix" || ev == "msi") {
        // The function's channels' doorbells whose descriptors are all done go
        // with this message to its CPU and vector.
        uint64_t addr = number(f, "addr");
        auto cpu = cpu_of_apic_.find(unsigned(addr >> 12) & 0xff);
        if (cpu == cpu_of_apic_.end()) return;
        auto& awaiting = awaiting_irq_[{cpu->second, unsigned(number(f, "data") & 0xff)}];
        awaiting.first = src;
        for (auto& [name, c] : chans_) {
            if (name.compare(0, src.size() + 1, src + ".") != 0) continue;
            while (!c.doorbells.empty() && c.doorbells.front().target <= c.completed) {
                awaiting.second.push_back(c.doorbells.front());
                c.doorbells.pop_front();
            }
        }
        return;
    }
    if (ev == "irq") {
        int cpu = cpu_of(src);
        if (cpu < 0) return;
        unsigned vector = unsigned(number(f, "vector"));
        auto it = awaiting_irq_.find({unsigned(cpu), vector});
        char v[8];
        std::snprintf(v, sizeof v, "0x%02x", vector);
        std::string from = it != awaiting_irq_.end() ? " " + it->second.first : "";
        x_on(io_tid(unsigned(cpu)), t, std::string("irq ") + v + from, "\"vector\":" + std::to_string(vector));
        if (it == awaiting_irq_.end()) return;
        for (const doorbell& d : it->second.second) {
            std::string flow = ",\"cat\":\"completion\",\"name\":\"doorbell to interrupt\",\"id\":" +
                               std::to_string(d.id) + ",\"pid\":" + std::to_string(CPUS_PID);
            emit("{\"ph\":\"s\"" + flow + ",\"tid\":" + std::to_string(io_tid(d.cpu)) + ",\"ts\":" + ts(d.t) + "}");
            emit("{\"ph\":\"f\",\"bp\":\"e\"" + flow + ",\"tid\":" + std::to_string(io_tid(unsigned(cpu))) +
                 ",\"ts\":" + ts(t) + "}");
        }
        awaiting_irq_.erase(it);
        return;
    }
    if (src == "timeline" && ev == "action") {
        instant(KERNEL_PID, 1, t, text(f, "do") + " " + text(f, "target"), "", true);
        return;
    }
    if (src == "checker" && ev == "violation") {
        instant(KERNEL_PID, 1, t, "violation: " + text(f, "kind"), "\"what\":" + json_quote(text(f, "what")), true);
        return;
    }
    std::string msg = text(f, "msg");
    if (!classify(src, ev, msg).line) return;
    // Hardware state on its IOH's track, the rest on the kernel's.
    int pid = KERNEL_PID;
    auto dot = src.find('.');
    if (auto p = ioh_pid_.find(src.substr(0, dot)); p != ioh_pid_.end()) pid = p->second;
    instant(pid, 1, t, src + ": " + (msg.empty() ? ev : msg), msg.empty() ? "" : "\"ev\":\"" + ev + "\"", false);
}

void perfetto_writer::close(bool keep) {
    if (!f_) return;
    if (keep) {
        counters_until(last_t_);
        for (auto& [name, c] : chans_) drop_queued(c, last_t_, "unfinished at the end");
        for (auto& [tid, x] : x_) flush_x(tid, last_t_ + X_DUR_PS);
        for (size_t cpu = 0; cpu < running_.size(); ++cpu)
            if (!running_[cpu].empty())
                emit("{\"ph\":\"E\",\"pid\":" + std::to_string(CPUS_PID) + ",\"tid\":" +
                     std::to_string(task_tid(unsigned(cpu))) + ",\"ts\":" + ts(last_t_) + "}");
        std::fputs("\n]}\n", f_);
    }
    bool ok = std::fflush(f_) == 0 && !std::ferror(f_);
    std::fclose(f_);
    f_ = nullptr;
    std::string tmp = path_ + ".tmp";
    if (keep && ok && std::rename(tmp.c_str(), path_.c_str()) == 0) return;
    std::remove(tmp.c_str());
    if (keep) throw std::runtime_error(path_ + ": cannot write");
}

}  // namespace ioatsim
