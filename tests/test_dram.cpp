// DRAM's pages after unshare (a process forked from a simulation that goes
// on): read through grants of the shared copy, copied before their first
// write here, and the grants of the shared copy taken back.
#include "models/cpu/cpu.h"
#include "models/memory/dram.h"

#include <doctest/doctest.h>
#include <tlm_utils/simple_initiator_socket.h>

#include <cstring>
#include <vector>

namespace {
using ioatsim::models::dram;

struct initiator : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<initiator> isock{"isock"};
    std::vector<std::pair<uint64_t, uint64_t>> invalidated;
    explicit initiator(sc_core::sc_module_name n) : sc_module(n) {
        isock.register_invalidate_direct_mem_ptr(this, &initiator::invalidate);
    }
    void invalidate(sc_dt::uint64 a, sc_dt::uint64 b) { invalidated.push_back({a, b}); }
    bool grant(uint64_t addr, bool write, tlm::tlm_dmi& d) {
        uint8_t x = 0;
        tlm::tlm_generic_payload gp;
        gp.set_command(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
        gp.set_address(addr);
        gp.set_data_ptr(&x);
        gp.set_data_length(1);
        return isock->get_direct_mem_ptr(gp, d);
    }
    void write(uint64_t addr, uint8_t v) {
        tlm::tlm_generic_payload gp;
        gp.set_command(tlm::TLM_WRITE_COMMAND);
        gp.set_address(addr);
        gp.set_data_ptr(&v);
        gp.set_data_length(1);
        gp.set_streaming_width(1);
        sc_core::sc_time t = sc_core::SC_ZERO_TIME;
        isock->b_transport(gp, t);
        REQUIRE(gp.is_response_ok());
    }
};
}  // namespace

TEST_CASE("dram after unshare: reads share, the first write copies the page and takes back its grants") {
    constexpr uint64_t base = 0x100000;
    dram mem("dram", base, 4 * dram::page_size);
    initiator cpu("cpu");
    cpu.isock.bind(mem.tsock);
    const uint8_t before = 0x11;
    mem.poke(base + 8, &before, 1);

    tlm::tlm_dmi d;
    REQUIRE(cpu.grant(base, false, d));
    CHECK(d.is_write_allowed());  // nothing shared yet: read and write

    mem.unshare();
    REQUIRE(cpu.invalidated.size() == 1);
    CHECK(cpu.invalidated[0] == std::make_pair(base, base + 4 * dram::page_size - 1));

    tlm::tlm_dmi shared;
    REQUIRE(cpu.grant(base, false, shared));
    CHECK(shared.is_read_allowed());
    CHECK_FALSE(shared.is_write_allowed());  // a write must ask again
    const uint8_t* old_copy = shared.get_dmi_ptr();
    CHECK(old_copy[8] == 0x11);

    cpu.write(base + 8, 0x22);
    REQUIRE(cpu.invalidated.size() == 2);  // the page's read grant taken back
    CHECK(cpu.invalidated[1] == std::make_pair(base, base + dram::page_size - 1));
    CHECK(old_copy[8] == 0x11);            // the shared copy is as it was

    tlm::tlm_dmi mine;
    REQUIRE(cpu.grant(base, false, mine));
    CHECK(mine.is_write_allowed());        // copied: this process's own
    CHECK(mine.get_dmi_ptr() != old_copy);
    CHECK(mine.get_dmi_ptr()[8] == 0x22);
    uint8_t back = 0;
    mem.peek(base + 8, &back, 1);
    CHECK(back == 0x22);

    // A page first touched after the unshare is this process's from the start.
    tlm::tlm_dmi fresh;
    REQUIRE(cpu.grant(base + 2 * dram::page_size, false, fresh));
    CHECK(fresh.is_write_allowed());
    CHECK(fresh.get_dmi_ptr()[0] == 0);
    CHECK(cpu.invalidated.size() == 2);
}

// The CPU's side: its grants are kept by start address, and a write grant must
// replace the read-only grant of the shared copy, or its reads would go on
// seeing the page as the other process left it.
TEST_CASE("a CPU after unshare reads the shared copy, then reads what it wrote") {
    constexpr uint64_t base = 0x100000;
    dram mem("dram", base, 4 * dram::page_size);
    ioatsim::models::cpu cpu0("cpu0", 0, 0, 0);
    cpu0.isock.bind(mem.tsock);
    const uint8_t a = 0x11, b = 0x33;
    cpu0.mem_write(base + 8, &a, 1);
    cpu0.mem_write(base + dram::page_size + 8, &b, 1);

    mem.unshare();
    uint8_t r = 0;
    cpu0.mem_read(base + 8, &r, 1);
    CHECK(r == 0x11);
    cpu0.mem_read(base + dram::page_size + 8, &r, 1);  // a read grant of the next page too
    CHECK(r == 0x33);

    const uint8_t c = 0x22;
    cpu0.mem_write(base + 8, &c, 1);
    cpu0.mem_read(base + 8, &r, 1);
    CHECK(r == 0x22);
    cpu0.mem_read(base + dram::page_size + 8, &r, 1);  // the neighbour's grant is untouched
    CHECK(r == 0x33);
    uint8_t back = 0;
    mem.peek(base + 8, &back, 1);
    CHECK(back == 0x22);
}
