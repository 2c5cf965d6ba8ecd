// Where an IOH's functions sit on its root bus, without SystemC, so the
// platform's parameter checks (platform/params.cpp) need no simulation kernel.
#pragma once
#include <cstdint>

namespace ioatsim::models {

// Which device IDs the IOAT functions carry (ioat.device_ids): the 5520/7500's
// TBG0-7, Jasper Forest's JSF0-7, or the Ivy Bridge IIO's IVB0-7.
enum class ioat_id_set : uint8_t { tbg, jsf, ivb };

// The device number of root port `i`: 1, then 3 upwards (the 5520/7500's ports
// 1 and 3 first).
constexpr unsigned root_port_device(unsigned i) { return i == 0 ? 1 : i + 2; }

}  // namespace ioatsim::models
