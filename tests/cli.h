// Running the ioatsim program from a test, as a user does: a scratch folder,
// the exit status, what it printed, and the summary it wrote.
#pragma once
#include <nlohmann/json.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace cli {

namespace fs = std::filesystem;

struct tmpdir {
    fs::path path;
    tmpdir() {
        char tmpl[] = "/tmp/ioatsim-test-XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~tmpdir() { fs::remove_all(path); }
};

struct result { int status; std::string out, err; };

inline std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// `ioatsim ARGS` (ARGS as a shell would split them); stdout and stderr kept.
inline result ioatsim(const std::string& args, const tmpdir& t) {
    std::string cmd = std::string(IOATSIM_BINARY) + " " + args + " >" + (t.path / "stdout").string() +
                      " 2>" + (t.path / "stderr").string();
    int rc = std::system(cmd.c_str());
    return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, slurp(t.path / "stdout"), slurp(t.path / "stderr")};
}

inline std::string scenario(const std::string& name) {
    return std::string(IOATSIM_SOURCE_DIR) + "/scenarios/" + name;
}

inline std::string join(const std::vector<std::string>& lines) {
    std::string all;
    for (const std::string& l : lines) all += l + "\n";
    return all;
}

inline nlohmann::json summary(const fs::path& out) { return nlohmann::json::parse(slurp(out / "summary.json")); }

}  // namespace cli
