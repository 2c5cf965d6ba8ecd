#include "platform/log_pattern.h"

#include <stdexcept>

namespace ioatsim {

log_pattern::log_pattern(const std::string& text) {
    if (text.size() > max_length)
        throw std::invalid_argument("longer than " + std::to_string(max_length) + " characters");
    for (size_t i = 0; i + 1 < text.size(); ++i) {
        if (text[i] != '\\') continue;
        if (text[i + 1] >= '1' && text[i + 1] <= '9') throw std::invalid_argument("back-references are not supported");
        ++i;  // an escaped character
    }
    if (int rc = regcomp(&re_, text.c_str(), REG_EXTENDED | REG_NOSUB)) {
        char why[128];
        regerror(rc, &re_, why, sizeof why);
        regfree(&re_);
        throw std::invalid_argument(why);
    }
}

log_pattern::~log_pattern() { regfree(&re_); }

bool log_pattern::found_in(const std::string& line) const { return regexec(&re_, line.c_str(), 0, nullptr, 0) == 0; }

}  // namespace ioatsim
