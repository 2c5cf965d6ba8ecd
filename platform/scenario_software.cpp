// The scenario's software values that have a vocabulary of their own: the
// kernel command line's words, the DMA-mapping modes and dmatest's injected
// bugs (the keys themselves are read in scenario.cpp).
#include "platform/scenario.h"

#include <charconv>
#include <climits>

namespace ioatsim {

const char* const iommu_modes[4] = {"off", "strict", "lazy", "pt"};
const char* const dmatest_bugs[2] = {"none", "unmap_before_complete"};

namespace {
std::string quote(const std::string& s) { return "\"" + s + "\""; }
}  // namespace

void parse_boot_line(const std::string& text, boot_params& b, const std::function<void(const std::string&)>& fail) {
    b = boot_params{};
    b.text = text;
    size_t i = 0;
    while (i < b.text.size()) {
        while (i < b.text.size() && b.text[i] == ' ') ++i;
        size_t e = b.text.find(' ', i);
        const std::string w = b.text.substr(i, e == std::string::npos ? std::string::npos : e - i);
        i = e == std::string::npos ? b.text.size() : e;
        if (w.empty()) continue;
        const size_t eq = w.find('=');
        const std::string key = w.substr(0, eq), val = eq == std::string::npos ? "" : w.substr(eq + 1);
        int64_t v = 0;
        auto r = std::from_chars(val.data(), val.data() + val.size(), v);
        const bool number = !val.empty() && r.ptr == val.data() + val.size() && r.ec == std::errc();
        if (key == "clearcpuid") {
            // NCAPINTS 10 in 3.4: 320 feature bits.
            if (!number || v < 0 || v >= 320)
                fail(quote(w) + ": clearcpuid takes a CPU feature bit, 0 to 319 (NCAPINTS 10 x 32)");
            b.clearcpuid.push_back(unsigned(v));
        } else if (key == "ioatdma.ioat_dca_enabled") {
            if (!number || v < INT_MIN || v > INT_MAX) fail(quote(w) + ": ioatdma.ioat_dca_enabled takes an integer");
            b.ioat_dca_enabled = int(v);
        } else if (key == "iommu") {
            // Only the option the simulated kernel acts on; intel_iommu= and
            // iommu=pt are software.iommu.
            if (val != "forcesac") fail(quote(w) + ": the simulated kernel knows iommu=forcesac (see software.iommu)");
            b.iommu_sac_force = true;
        } else if (key == "swiotlb") {
            if (val != "force") fail(quote(w) + ": the simulated kernel knows swiotlb=force");
            b.swiotlb_force = true;
        } else {
            fail("unknown boot parameter " + quote(w) +
                 " (known: clearcpuid=BIT, ioatdma.ioat_dca_enabled=N, iommu=forcesac, swiotlb=force)");
        }
    }
}

}  // namespace ioatsim
