// The platform's IOH hot-plug controller, in the role ACPI plays on an x3850 X5:
// per IOH a status (present, link, powered), latched events (eject request,
// presence change, link change) that raise one interrupt message, and commands
// software writes to eject (power off) an IOH or power it on. Each processor
// socket has the same block (an ACPI container: its CPUs, its memory node and,
// integrated, its IIO). The OS learns of a
// surprise removal here and from all-ones reads; an orderly removal starts with
// an eject request the OS must answer.
#pragma once
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <functional>
#include <vector>

namespace ioatsim::models {

namespace hpc {
constexpr uint64_t BASE = 0xFEC80000, SIZE = 0x1000;
constexpr unsigned COUNT = 0x00, MSI_ADDR = 0x04, MSI_ADDR_HI = 0x08, MSI_DATA = 0x0C, CTRL = 0x10;
constexpr unsigned SOCKET_COUNT = 0x14;
constexpr unsigned IOH_BLOCK = 0x40, IOH_STRIDE = 0x10;  // per IOH: STATUS, EVENT, COMMAND
constexpr unsigned SOCKET_BLOCK = 0x800;                 // per socket, the same three, IOH_STRIDE apart
constexpr unsigned STATUS = 0x0, EVENT = 0x4, COMMAND = 0x8;
constexpr uint32_t CTRL_INT_EN = 1u << 0;
constexpr uint32_t STATUS_PRESENT = 1u << 0, STATUS_LINK = 1u << 1, STATUS_POWERED = 1u << 2;
constexpr uint32_t EVENT_EJECT_REQUEST = 1u << 0, EVENT_PRESENCE = 1u << 1, EVENT_LINK = 1u << 2;
constexpr uint32_t CMD_EJECT = 1u << 0, CMD_POWER_ON = 1u << 1;
}  // namespace hpc

class hotplug_controller : public sc_core::sc_module {
public:
    tlm_utils::simple_target_socket<hotplug_controller> tsock;     // registers
    tlm_utils::simple_initiator_socket<hotplug_controller> msi;    // its interrupt message

    // `power(i, on)` switches IOH i; `status(i)` reads its present/link/powered
    // bits. Slots `iohs` and up are the sockets, through `socket_power` and
    // `socket_status`.
    hotplug_controller(sc_core::sc_module_name name, unsigned iohs,
                       std::function<void(unsigned, bool)> power,
                       std::function<uint32_t(unsigned)> status, unsigned sockets = 0,
                       std::function<void(unsigned, bool)> socket_power = {},
                       std::function<uint32_t(unsigned)> socket_status = {});

    // Platform events.
    void eject_request(unsigned ioh) { latch(ioh, hpc::EVENT_EJECT_REQUEST); }
    void presence_changed(unsigned ioh) { latch(ioh, hpc::EVENT_PRESENCE | hpc::EVENT_LINK); }
    void socket_eject_request(unsigned s) { latch(iohs_ + s, hpc::EVENT_EJECT_REQUEST); }
    void socket_presence_changed(unsigned s) { latch(iohs_ + s, hpc::EVENT_PRESENCE); }
    uint32_t events(unsigned ioh) const { return events_.at(ioh); }

private:
    void latch(unsigned slot, uint32_t bits);
    int slot_of(unsigned off, unsigned& reg) const;  // -1: no block there
    void notify();
    void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    uint32_t read(unsigned off) const;
    void write(unsigned off, uint32_t v);

    unsigned iohs_, sockets_;
    std::function<void(unsigned, bool)> power_, socket_power_;
    std::function<uint32_t(unsigned)> status_, socket_status_;
    std::vector<uint32_t> events_;
    uint32_t msi_addr_ = 0, msi_addr_hi_ = 0, msi_data_ = 0, ctrl_ = 0;
    bool signalled_ = false;  // one message until software clears every event
};

}  // namespace ioatsim::models
