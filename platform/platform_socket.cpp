// Processor sockets as hot-plug units: the firmware side (presence, power: a
// socket's CPUs, its memory node and, integrated, its IIO go and come back
// together) and the OS's ACPI container driver wired to the timeline's
// socket.remove and socket.add.
#include "models/cpu/cpu.h"
#include "models/ioh/hotplug_controller.h"
#include "models/ioh/ioh.h"
#include "platform/platform.h"
#include "sw/acpi/container.h"
#include "sw/kernel/kernel.h"
#include "sw/pci/ioh_hotplug.h"

namespace ioatsim {

namespace {
uint64_t now_ps() { return uint64_t(sc_core::sc_time_stamp().value()); }
}  // namespace

// With ioh.integrated, IOH n is socket n's IIO.
static int iio_of(const params& p, unsigned socket, unsigned iohs) {
    return p.integer("ioh.integrated") && socket < iohs ? int(socket) : -1;
}

bool platform::integrated() const { return p_.integer("ioh.integrated") != 0; }

uint32_t platform::socket_status(unsigned n) const {
    return socket_present_.at(n) ? models::hpc::STATUS_PRESENT | models::hpc::STATUS_POWERED : 0u;
}

// _EJ0 and the hot-add's power-on: the socket's parts together. Power on gives
// a fresh IIO (registers at reset values), as ioh.add does.
void platform::socket_power(unsigned n, bool on) {
    socket_present_.at(n) = on;
    for (auto& c : cpus_)
        if (c->node() == n && !on) c->set_online(false);
    const int iio = iio_of(p_, n, ioh_count());
    if (iio < 0) return;
    models::ioh& h = *iohs_[unsigned(iio)];
    if (on) {
        h.power_off();
        h.power_on();
        firmware_dca(h);
    } else {
        h.power_off();
    }
}

void platform::make_container() {
    std::vector<sw::acpi_container::socket> socks(socket_count());
    for (unsigned s = 0; s < socket_count(); ++s) {
        for (auto& c : cpus_)
            if (c->node() == s) socks[s].cpus.push_back(c->index());
        socks[s].node = s;
        socks[s].bridge = iio_of(p_, s, ioh_count());
    }
    container_ = std::make_unique<sw::acpi_container>(*kernel_, *pci_, models::hpc::BASE, socks);
    container_->host_bridge_hook = [this](unsigned b, bool added) {
        if (hotplug_->host_bridge_hook) hotplug_->host_bridge_hook(b, added);
    };
    auto current = [this](unsigned s, bool added) -> os_op* {
        for (auto& op : ops_)
            if (op.socket == int(s) && op.removal != added && !op.done) return &op;
        return nullptr;
    };
    container_->on_step = [current](unsigned s, const std::string& step) {
        for (bool added : {false, true})
            if (os_op* op = current(s, added)) op->step = step;
    };
    container_->on_done = [this, current](unsigned s, bool added, int err, const std::string& why) {
        os_op* op = current(s, added);
        if (!op) return;
        if (err < 0) {
            op->failed = why;
            kernel_->rep().violation(kernel_->now(), "removal_failed",
                                     op->what + " failed at \"" + op->step + "\": " + why + " (the OS rolled back)");
        }
        op->step.clear();
        op_end(size_t(op - ops_.data()));
    };
    hotplug_->set_container(container_.get());
}

void platform::socket_remove(unsigned n) {
    if (!socket_present_.at(n)) {
        sim_report().log(now_ps(), sw::strfmt("ioatsim: socket.remove: socket %u is not present", n));
        return;
    }
    size_t op = op_begin(sw::strfmt("socket.remove of socket %u", n), true, iio_of(p_, n, ioh_count()));
    ops_[op].socket = int(n);
    if (kernel_) {
        hpc_->socket_eject_request(n);  // the OS offlines, trims, then ejects
    } else {
        socket_power(n, false);
        op_end(op);
    }
}

void platform::socket_add(unsigned n) {
    if (socket_present_.at(n)) {
        sim_report().log(now_ps(), sw::strfmt("ioatsim: socket.add: socket %u is present", n));
        return;
    }
    size_t op = op_begin(sw::strfmt("socket.add of socket %u", n), false, iio_of(p_, n, ioh_count()));
    ops_[op].socket = int(n);
    socket_power(n, true);
    if (kernel_) {
        hpc_->socket_presence_changed(n);  // the OS scans the container
    } else {
        for (auto& c : cpus_)
            if (c->node() == n) c->set_online(true);
        if (int iio = iio_of(p_, n, ioh_count()); iio >= 0) firmware_assign_bars(*iohs_[unsigned(iio)]);
        op_end(op);
    }
}

}  // namespace ioatsim
