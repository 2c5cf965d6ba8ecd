// `ioatsim diff OLD NEW`: two runs, a golden and a run, or two goldens,
// compared in two tiers, each saying what differs:
//   behaviour: per source, the ordered hotplug events with times, counts and
//     figures stripped, and the summary's values that are not numbers, must
//     match; with several seeds each new seed must show one of the old
//     behaviours. The first divergence is named in words with its context.
//   figures: every number of summary.json within tolerance (tolerance.h); with
//     several seeds, the new mean within the old [min, max] widened by the
//     tolerance of the old mean.
// Exit status 0 the same within tolerance, 1 different, 2 bad input.
#pragma once
#include <iosfwd>
#include <string>

namespace ioatsim {

struct diff_options {
    std::string old_path, new_path;
    std::string tolerance;  // a tolerance file, or empty
    bool update = false;    // rewrite OLD (a golden, or nothing yet) from NEW
    unsigned context = 3;   // events shown on each side of a divergence
};

int diff(const diff_options& o, std::ostream& out);

}  // namespace ioatsim
