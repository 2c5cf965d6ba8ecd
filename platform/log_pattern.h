// A log pattern of `expect`: a POSIX extended regular expression (glibc's
// matcher, which does not backtrack), without back-references, which would.
#pragma once
#include <regex.h>

#include <string>

namespace ioatsim {

class log_pattern {
public:
    // Throws std::invalid_argument with the reason when `text` is not a pattern.
    explicit log_pattern(const std::string& text);
    ~log_pattern();
    log_pattern(const log_pattern&) = delete;
    log_pattern& operator=(const log_pattern&) = delete;
    bool found_in(const std::string& line) const;

    static constexpr size_t max_length = 1000;

private:
    regex_t re_;
};

}  // namespace ioatsim
