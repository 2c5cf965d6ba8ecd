#include "platform/data_dir.h"

#include "platform/scenario.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace ioatsim {
namespace fs = std::filesystem;

namespace {

fs::path data_root() {
    if (const char* env = std::getenv("IOATSIM_DATA_DIR"); env && *env) return env;
    char self[4096];
    ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) throw input_error("ioatsim: cannot find its own executable (/proc/self/exe) to find its data");
    self[n] = 0;
    const fs::path bin = fs::path(self).parent_path();
    std::error_code ec;
    for (const fs::path& p : {bin / "share" / "ioatsim", bin.parent_path() / "share" / "ioatsim"})
        if (fs::is_directory(p / "presets", ec)) return p;
    throw input_error("ioatsim: no share/ioatsim/presets beside " + bin.string() +
                      " (installed incompletely?); set IOATSIM_DATA_DIR to the folder holding presets/ and scenarios/");
}

}  // namespace

std::string data_dir(const std::string& what) { return (data_root() / what).string(); }

std::string installed_scenario(const std::string& arg) {
    std::error_code ec;
    if (fs::exists(arg, ec) || arg.find('/') != std::string::npos) return arg;
    fs::path p = fs::path(data_dir("scenarios")) / (arg + (fs::path(arg).extension() == ".yaml" ? "" : ".yaml"));
    return fs::exists(p, ec) ? p.string() : arg;
}

}  // namespace ioatsim
