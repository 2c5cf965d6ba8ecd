// ioatsim installed like a tool: `cmake --install` into a scratch prefix, moved
// elsewhere, runs scenarios by name from any folder; a user's CMake project
// checks its goldens with the installed module; `cpack -G DEB` packages it all.
#include "cli.h"

#include <doctest/doctest.h>

namespace fs = std::filesystem;
using namespace cli;

namespace {

// A shell command's status, its output kept in `log`.
int sh(const std::string& cmd, const tmpdir& t, std::string* log = nullptr) {
    int rc = std::system((cmd + " >" + (t.path / "sh.log").string() + " 2>&1").c_str());
    if (log) *log = slurp(t.path / "sh.log");
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

bool has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

}  // namespace

TEST_CASE("installed into a scratch prefix and moved, ioatsim runs scenarios by name from any folder") {
    tmpdir t;
    std::string log;
    REQUIRE(sh(std::string(CMAKE_COMMAND_PATH) + " --install " + IOATSIM_BUILD_DIR + " --prefix " + q(t.path / "p"), t) == 0);
    for (const char* f : {"bin/ioatsim", "share/ioatsim/presets/x3850x5.yaml", "share/ioatsim/scenarios/ioh-remove-surprise.yaml",
                          "share/ioatsim/cmake/IoatsimRegression.cmake", "share/ioatsim/cmake/ioatsimConfig.cmake",
                          "share/doc/ioatsim/README.md", "share/doc/ioatsim/trace-format.md"})
        CHECK_MESSAGE(fs::exists(t.path / "p" / f), f);
    fs::rename(t.path / "p", t.path / "moved");  // nothing points back into the source tree or the prefix
    fs::create_directories(t.path / "elsewhere");
    const std::string exe = q(t.path / "moved" / "bin" / "ioatsim");
    REQUIRE(sh("cd " + q(t.path / "elsewhere") + " && env -u IOATSIM_DATA_DIR " + exe + " run removal-sweep --quiet --out o", t, &log) <= 1);
    CHECK(fs::exists(t.path / "elsewhere" / "o" / "hotplug.jsonl"));
    // The presets are the installed ones: one that exists only there is found.
    fs::copy_file(t.path / "moved/share/ioatsim/presets/minimal.yaml", t.path / "moved/share/ioatsim/presets/scratch-only.yaml");
    std::ofstream(t.path / "elsewhere" / "s.yaml") << "name: s\nplatform: {preset: scratch-only}\nsoftware: {os: none}\nrun: {until: 10 us}\n";
    CHECK(sh("cd " + q(t.path / "elsewhere") + " && " + exe + " run s.yaml --quiet --out s", t, &log) == 0);
    fs::remove(t.path / "moved/share/ioatsim/presets/scratch-only.yaml");
    CHECK(sh("cd " + q(t.path / "elsewhere") + " && " + exe + " run s.yaml --quiet --out s", t, &log) == 2);
}

TEST_CASE("a user's CMake project checks goldens with the installed module, and a change fails its test") {
    tmpdir t;
    std::string log;
    REQUIRE(sh(std::string(CMAKE_COMMAND_PATH) + " --install " + IOATSIM_BUILD_DIR + " --prefix " + q(t.path / "p"), t) == 0);
    fs::create_directories(t.path / "user");
    std::ofstream(t.path / "user" / "CMakeLists.txt")
        << "cmake_minimum_required(VERSION 3.25)\nproject(userci NONE)\nenable_testing()\n"
           "find_package(ioatsim 0.1 REQUIRED)\n"
           "ioatsim_add_regression(regs SCENARIO ${IOATSIM_SCENARIOS_DIR}/registers-copy.yaml\n"
           "                       GOLDEN ${CMAKE_SOURCE_DIR}/golden/regs SEEDS 2)\n"
           "ioatsim_add_regression(sweep SCENARIO ${IOATSIM_SCENARIOS_DIR}/removal-sweep.yaml\n"
           "                       GOLDEN ${CMAKE_SOURCE_DIR}/golden/sweep DESIGNS atomic legacy\n"
           "                       SET \"run.until=4 ms\")\n";
    const std::string build = q(t.path / "user" / "build");
    REQUIRE(sh(std::string(CMAKE_COMMAND_PATH) + " -S " + q(t.path / "user") + " -B " + build + " -DCMAKE_PREFIX_PATH=" +
                   q(t.path / "p"), t, &log) == 0);
    const std::string ctest = std::string(CTEST_COMMAND_PATH) + " --test-dir " + build + " --output-on-failure";
    CHECK(sh(ctest + " -L hotplug-regression", t, &log) == 8);  // no goldens yet: every test says so (ctest: 8)
    CHECK(has(log, "no golden at"));
    REQUIRE(sh("IOATSIM_UPDATE_GOLDENS=1 " + ctest + " -L hotplug-regression", t, &log) == 0);
    CHECK(fs::exists(t.path / "user/golden/regs/golden.json"));
    CHECK(fs::exists(t.path / "user/golden/sweep/legacy/hotplug.jsonl"));
    REQUIRE(sh(ctest, t, &log) == 0);
    CHECK(has(log, "100% tests passed, 0 tests failed out of 3"));
    // The atomic golden replaced by legacy's: its test fails and says where.
    for (const char* f : {"golden.json", "hotplug.jsonl"})
        fs::copy_file(t.path / "user/golden/sweep/legacy" / f, t.path / "user/golden/sweep/atomic" / f,
                      fs::copy_options::overwrite_existing);
    CHECK(sh(ctest + " -R sweep:atomic", t, &log) == 8);
    CHECK(has(log, "first divergence: source"));
    CHECK(has(log, "the run differs from its golden"));
}

TEST_CASE("cpack -G DEB builds a package with the program, presets, scenarios, module and docs, and it runs unpacked") {
    tmpdir t;
    std::string log;
    REQUIRE(sh(std::string(CPACK_COMMAND_PATH) + " --config " + IOATSIM_BUILD_DIR + "/CPackConfig.cmake -G DEB -B " +
                   q(t.path / "pkg"), t, &log) == 0);
    fs::path deb;
    for (const auto& e : fs::directory_iterator(t.path / "pkg"))
        if (e.path().extension() == ".deb") deb = e.path();
    REQUIRE_MESSAGE(!deb.empty(), log);
    REQUIRE(sh("dpkg-deb -c " + q(deb), t, &log) == 0);
    for (const char* f : {"./usr/bin/ioatsim", "./usr/share/ioatsim/presets/x3850x5.yaml",
                          "./usr/share/ioatsim/scenarios/seed-unbind-warning.yaml",
                          "./usr/share/ioatsim/cmake/IoatsimRegression.cmake", "./usr/share/doc/ioatsim/README.md"})
        CHECK_MESSAGE(has(log, f), f);
    REQUIRE(sh("dpkg-deb -f " + q(deb) + " Depends", t, &log) == 0);
    CHECK(has(log, "libsystemc"));
    REQUIRE(sh("dpkg-deb -x " + q(deb) + " " + q(t.path / "root"), t) == 0);
    CHECK(sh("cd " + q(t.path) + " && " + q(t.path / "root/usr/bin/ioatsim") + " run registers-copy --quiet --out o", t,
             &log) == 0);
}
