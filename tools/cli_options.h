// Command-line pieces the campaign commands (sweep, torture) share.
#pragma once
#include "models/core/trace_kinds.h"
#include "platform/scenario.h"

#include <boost/program_options.hpp>

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace ioatsim::cli {
namespace po = boost::program_options;

inline bool help(const std::vector<std::string>& args, const char* use, const po::options_description& opts) {
    for (const std::string& a : args)
        if (a == "--help" || a == "-h") {
            std::cout << "usage: " << use << "\n\n" << opts;
            return true;
        }
    return false;
}

inline po::variables_map parse(const std::vector<std::string>& args, const po::options_description& opts,
                        const char* positional, int count) {
    po::positional_options_description pos;
    pos.add(positional, count);
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(opts).positional(pos).run(), vm);
    po::notify(vm);
    return vm;
}

inline std::vector<std::string> strings(const po::variables_map& vm, const char* name) {
    return vm.count(name) ? vm[name].as<std::vector<std::string>>() : std::vector<std::string>{};
}

inline std::vector<std::string> split_commas(const std::string& text) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : text + ",")
        if (c != ',') cur += c;
        else if (!cur.empty()) out.push_back(cur), cur.clear();
    return out;
}

inline unsigned bounded(const po::variables_map& vm, const char* name, unsigned lo, unsigned hi) {
    const unsigned v = vm[name].as<unsigned>();
    if (v < lo || v > hi)
        throw input_error(std::string("--") + name + ": must be " + std::to_string(lo) + ".." + std::to_string(hi));
    return v;
}

inline std::string absolute(const std::string& p) { return std::filesystem::absolute(p).lexically_normal().string(); }

// --trace none|hotplug|full (default none) and --timeout S (0: none), checked.
inline trace_level trace_option(const po::variables_map& vm) {
    trace_level t = trace_level::none;
    if (vm.count("trace") && !parse_trace_level(vm["trace"].as<std::string>(), t))
        throw input_error("--trace: \"" + vm["trace"].as<std::string>() + "\" is not none, hotplug or full");
    return t;
}
inline double timeout_option(const po::variables_map& vm) {
    if (!vm.count("timeout")) return 0;
    const double t = vm["timeout"].as<double>();
    if (!(t > 0 && t <= 1e6)) throw input_error("--timeout: must be a number of seconds above 0");
    return t;
}

}  // namespace ioatsim::cli
