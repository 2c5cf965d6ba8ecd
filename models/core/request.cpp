#include "models/core/request.h"

#include <cstdio>

namespace ioatsim::models {

std::string request_ext::who() const {
    char b[24];
    if (kind == cpu) std::snprintf(b, sizeof b, "cpu%u", requester);
    else std::snprintf(b, sizeof b, "0000:%02x:%02x.%u", requester >> 8, (requester >> 3) & 0x1f, requester & 7);
    return b;
}

}  // namespace ioatsim::models
