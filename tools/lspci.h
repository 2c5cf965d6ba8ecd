// `ioatsim lspci`: boots a platform's OS only far enough to enumerate, then prints
// the tree as `lspci -tv` and the list as `lspci -nnk` (with the bound driver).
#pragma once
#include "platform/scenario.h"

#include <ostream>

namespace ioatsim {

void lspci(const scenario& sc, std::ostream& out);

}  // namespace ioatsim
