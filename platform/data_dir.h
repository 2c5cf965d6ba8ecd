// Where the program's data is (presets, scenarios): IOATSIM_DATA_DIR if set,
// else the first share/ioatsim/ found in the executable's folder or the one
// above it. Installed, that is PREFIX/share/ioatsim beside PREFIX/bin/ioatsim;
// in the build tree, build/share/ioatsim links to the sources. No path is
// compiled in, so an installed or relocated program runs from any folder.
#pragma once
#include <string>

namespace ioatsim {

// DATA/what ("presets", "scenarios"); throws input_error when there is no DATA.
std::string data_dir(const std::string& what);
// A scenario argument: a file as given, or a bare name ("ioh-remove-surprise")
// of an installed scenario when no such file is here.
std::string installed_scenario(const std::string& arg);

}  // namespace ioatsim
