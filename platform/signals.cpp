#include "platform/signals.h"

#include "models/core/report.h"
#include "models/cpu/cpu.h"
#include "models/ioh/ioh.h"
#include "platform/platform.h"

#include <systemc>

#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace ioatsim {

bool& signal_tracer::bit(const std::string& trace_name) {
    bits_.push_back(false);
    sc_core::sc_trace(tf_, bits_.back(), trace_name);  // dotted names become VCD scopes
    return bits_.back();
}

unsigned& signal_tracer::word(const std::string& trace_name, int width) {
    words_.push_back(0);
    sc_core::sc_trace(tf_, words_.back(), trace_name, width);
    return words_.back();
}

signal_tracer::signal_tracer(platform& plat, const std::string& path) : path_(path) {
    // SystemC appends ".vcd"; the file becomes `path` once its header is fixed.
    tf_ = sc_core::sc_create_vcd_trace_file((path + ".raw").c_str());
    if (!tf_) throw std::runtime_error(path + ": cannot write");
    tf_->set_time_unit(1, sc_core::SC_PS);  // every trace time is representable
    for (unsigned h = 0; h < plat.ioh_count(); ++h) {
        models::ioh& ioh = plat.ioh(h);
        const std::string n = ioh.name();
        bool& link = bit(n + ".link_up");
        bool& power = bit(n + ".powered");
        readers_.push_back([&link, &power, &ioh] {
            link = ioh.present();
            power = ioh.powered();
        });
        for (unsigned i = 0; i < ioh.ioat_count(); ++i) {
            models::ioat_function& fn = ioh.ioat(i);
            for (unsigned c = 0; c < fn.cfg().chancnt; ++c) {
                models::ioat_channel& chan = fn.chan(c);
                unsigned& state = word(std::string(chan.name()) + ".state", 2);  // CHANSTS[1:0]: 0 ACTIVE .. 3 HALTED
                unsigned& count = word(std::string(chan.name()) + ".dmacount", 16);
                const unsigned dmacount = ioat::chan_base(c) + ioat::DMACOUNT;
                readers_.push_back([&state, &count, &chan, &fn, dmacount] {
                    state = unsigned(chan.state());
                    count = unsigned(fn.reg(dmacount, 2));
                });
            }
        }
    }
    for (unsigned i = 0; i < plat.cpu_count(); ++i) {
        models::cpu& cpu = plat.cpu(i);
        bool& online = bit(std::string(cpu.name()) + ".online");
        readers_.push_back([&online, &cpu] { online = cpu.online(); });
    }
    bool& removing = bit("removal_in_progress");
    readers_.push_back([&removing, &plat] {
        const uint64_t now = uint64_t(sc_core::sc_time_stamp().value());
        bool any = false;
        for (const platform::os_op& op : plat.os_ops()) any = any || (op.removal && !op.done && op.requested_ps <= now);
        removing = any;
    });
    sample();
    sim_report().add_observer([this] { sample(); });
}

signal_tracer::~signal_tracer() {
    if (tf_) close(false);
}

void signal_tracer::sample() {
    for (auto& r : readers_) r();
}

// The header SystemC writes carries the wall-clock date and the library's build
// stamp; both become fixed text, everything from $timescale on is kept.
void signal_tracer::close(bool keep) {
    if (!tf_) return;
    sim_report().clear_observers();
    sc_core::sc_close_vcd_trace_file(tf_);
    tf_ = nullptr;
    const std::string raw = path_ + ".raw.vcd", tmp = path_ + ".tmp";
    bool ok = false;
    if (keep) {
        std::ifstream in(raw, std::ios::binary);
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << "$date\n    (omitted: the same scenario and seed give the same file)\n$end\n\n"
            << "$version\n    ioatsim " << IOATSIM_VERSION << " (SystemC " << sc_core::sc_release() << ")\n$end\n\n";
        std::string line;
        bool header = true;
        while (header && std::getline(in, line)) {
            if (line.rfind("$timescale", 0) != 0) continue;
            out << line << '\n';
            header = false;
        }
        out << in.rdbuf();
        ok = !header && out.flush().good();
    }
    std::remove(raw.c_str());
    if (keep && ok && std::rename(tmp.c_str(), path_.c_str()) == 0) return;
    std::remove(tmp.c_str());
    if (keep) throw std::runtime_error(path_ + ": cannot write");
}

}  // namespace ioatsim
