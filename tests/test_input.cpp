// Hostile input through the ioatsim program, as a user would give it: each bad
// input exits 2 with FILE:LINE:COL (where a file is involved) before anything is
// simulated, and leaves no output behind, whole or half.
#include "cli.h"

#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using namespace cli;

namespace {

fs::path write(const tmpdir& t, const std::string& name, const std::string& text) {
    fs::path p = t.path / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
}

// A small run: one socket, dmatest copying 20 times.
const std::string small = "name: small\n"
                          "platform: {preset: minimal}\n"
                          "software:\n"
                          "  clients:\n"
                          "    dmatest: {iterations: 20, test_buf_size: 4096}\n"
                          "run: {until: 10 ms}\n";

// `ioatsim run FILE --out DIR` (the log echoed, so a run that started shows).
result run(const tmpdir& t, const fs::path& file, const std::string& extra = "") {
    return ioatsim("run " + file.string() + " --out " + (t.path / "out").string() + " " + extra, t);
}

// Exit 2, the message as given, nothing simulated, no output folder.
void refused(const tmpdir& t, const result& r, const std::string& message) {
    CHECK(r.status == 2);
    CHECK(r.err == message + "\n");
    CHECK(r.out.find("Linux version") == std::string::npos);  // the platform never booted
    CHECK(r.out.find("verdict") == std::string::npos);
    CHECK_FALSE(fs::exists(t.path / "out"));
}

}  // namespace

TEST_CASE("timeline numbers too large for their type are refused, not wrapped to another IOH or CPU") {
    tmpdir t;
    const std::string pre = "name: big\nplatform: {preset: x3850x5}\nsoftware: {os: none}\nrun: {until: 1 ms}\n"
                            "timeline:\n";
    fs::path ioh = write(t, "ioh.yaml", pre + "  - {at: 10 us, do: ioh.remove, ioh: 4294967297, mode: surprise}\n");
    refused(t, run(t, ioh), ioh.string() + ":6:38: ioh: 4294967297 does not exist (this platform has IOHs 0-1)");
    fs::path cpu = write(t, "cpu.yaml", pre + "  - {at: 10 us, do: cpu.offline, cpu: 4294967296}\n");
    refused(t, run(t, cpu), cpu.string() + ":6:39: cpu: 4294967296 does not exist (this platform has CPUs 0-31)");
    fs::path huge = write(t, "huge.yaml", pre + "  - {at: 10 us, do: cpu.offline, cpu: 18446744073709551617}\n");
    refused(t, run(t, huge), huge.string() + ":6:39: cpu: 18446744073709551617 is out of range (must be <= "
                                             "18446744073709551615)");
    fs::path octal = write(t, "octal.yaml", pre + "  - {at: 10 us, do: cpu.offline, cpu: 010}\n");
    refused(t, run(t, octal), octal.string() + ":6:39: cpu: \"010\" has a leading zero (integers are decimal or 0x "
                                               "hex, never octal: write 10)");
}

TEST_CASE("a cfg or mmio offset near 2^64 is outside the space: offset + width cannot wrap") {
    tmpdir t;
    const std::string pre = "name: wrap\nplatform: {preset: minimal}\nsoftware: {os: none}\nrun: {until: 1 ms}\n"
                            "timeline:\n";
    fs::path cfg = write(t, "cfg.yaml", pre + "  - {at: 1 us, do: cfg.read, device: \"0000:00:16.0\", "
                                              "offset: 0xfffffffffffffffe, width: 4}\n");
    refused(t, run(t, cfg), cfg.string() + ":6:62: offset: 0xfffffffffffffffe + width 4 is outside the 4096-byte "
                                           "configuration space (offset + width must be <= 0x1000)");
    fs::path mmio = write(t, "mmio.yaml", pre + "  - {at: 1 us, do: mmio.write, device: \"0000:00:16.0\", "
                                                "offset: 0xfffffffffffffffc, width: 8, value: 1}\n");
    refused(t, run(t, mmio), mmio.string() + ":6:64: offset: 0xfffffffffffffffc + width 8 is outside the 16384-byte "
                                             "BAR (offset + width must be <= 0x4000)");
    fs::path wide = write(t, "wide.yaml", pre + "  - {at: 1 us, do: mmio.write, device: \"0000:00:16.0\", "
                                                "offset: 0x80, width: 1, value: 0x100}\n");
    refused(t, run(t, wide), wide.string() + ":6:87: value: 0x100 does not fit 1 byte(s) (must be <= 0xff)");
}

TEST_CASE("platform parameters out of their range are refused at their line, before the platform is built") {
    tmpdir t;
    auto with = [&](const std::string& name, const std::string& set) {
        return write(t, name, "name: p\nplatform:\n  set:\n    " + set + "\n");
    };
    fs::path f = with("sockets.yaml", "sockets: 4294967297");
    refused(t, run(t, f), f.string() + ":4:5: platform.set.sockets: 4294967297 is out of range (must be 1..8: the "
                                       "largest glueless Nehalem-EX/Westmere-EX machine; one NUMA node each)");
    f = with("octal.yaml", "cores_per_socket: 010");
    refused(t, run(t, f), f.string() + ":4:5: platform.set.cores_per_socket: \"010\" has a leading zero (integers "
                                       "are decimal, never octal: write 10)");
    f = with("xfercap.yaml", "ioat.xfercap: 200");
    refused(t, run(t, f), f.string() + ":4:5: platform.set.ioat.xfercap: 200 is out of range (must be 0..31: "
                                       "XFERCAP[4:0] is log2 of the bytes per descriptor; 0 means 32 GB)");
    f = with("rate.yaml", "ioat.bandwidth_gbps: 1e-300");
    refused(t, run(t, f), f.string() + ":4:5: platform.set.ioat.bandwidth_gbps: 1e-300 is out of range (must be "
                                       "0.001..1000: 1 MB/s to 1 TB/s: slower overflows the simulated clock, faster "
                                       "takes no time)");
    f = with("time.yaml", "pcie.completion_timeout: 18446744073709551615 ps");
    refused(t, run(t, f), f.string() + ":4:5: platform.set.pcie.completion_timeout: 18446744073709551615 ps is out "
                                       "of range (must be <= 1000 s: the simulated clock holds 2^64 ps (213 days) "
                                       "and sums of times must stay far below that)");
    // SystemC's E109 (port not bound) before: now the range says why.
    f = with("noioat.yaml", "ioh.ioat_functions: 0");
    refused(t, run(t, f), f.string() + ":4:5: platform.set.ioh.ioat_functions: 0 is out of range (must be 1..8: "
                                       "device 0x16 functions 0-7; at least one, since the root complex decodes its "
                                       "BAR window to them)");
}

TEST_CASE("a run time of 2^64-1 ps is refused with the limit") {
    tmpdir t;
    fs::path f = write(t, "until.yaml", "name: u\nrun:\n  until: 18446744073709551615 ps\n");
    refused(t, run(t, f), f.string() + ":3:10: run.until: 18446744073709551615 ps is out of range (must be <= 1000 s: "
                                       "the simulated clock holds 2^64 ps (213 days) and sums of times must stay far "
                                       "below that)");
}

TEST_CASE("more client tasks than the host can give is refused before elaboration, not SystemC's E518") {
    tmpdir t;
    fs::path f = write(t, "threads.yaml", "name: th\nsoftware:\n  clients:\n    dmatest: {threads_per_chan: 100000}\n");
    refused(t, run(t, f), f.string() + ":4:33: software.clients.dmatest.threads_per_chan: 100000 simulated tasks "
                                       "(dmatest: 100000 per channel x 1 channel) is over the limit of 8192 client "
                                       "tasks (each is a SystemC thread with its own stack and guard page; the host "
                                       "gives about 32000 in all)");
}

TEST_CASE("the largest machine and the most tasks allowed do run") {
    // 128 CPUs, 4 IOHs of 8 functions and 8 root ports, 8192 dmatest threads: the
    // limits are what the host can give, not less.
    tmpdir t;
    fs::path f = write(t, "max.yaml", "name: max\n"
                                      "platform:\n"
                                      "  set: {sockets: 8, cores_per_socket: 16, ioh.count: 4, ioh.ioat_functions: 8,"
                                      " ioh.root_ports: 8}\n"
                                      "software:\n"
                                      "  clients:\n"
                                      "    dmatest: {threads_per_chan: 256, iterations: 1, test_buf_size: 4096}\n"
                                      "run: {until: 40 ms}\n"  // 32 functions probed, 256 copies queued per channel
                                      "expect: {dmatest.tests: 8192}\n");
    result r = run(t, f, "--quiet");
    CHECK(r.status == 0);
    CHECK(r.err == "");
    CHECK(r.out.find("verdict: pass") != std::string::npos);
}

TEST_CASE("an output name taken by a folder is found before the run, and no .tmp is left") {
    tmpdir t;
    fs::path f = write(t, "small.yaml", small);
    fs::path out = t.path / "out";
    fs::create_directories(out / "log.txt");
    result r = run(t, f);
    CHECK(r.status == 2);
    CHECK(r.err == (out / "log.txt").string() + ": in the way of an output (a folder; every output name must be free "
                                                "or a file)\n");
    CHECK(r.out.find("Linux version") == std::string::npos);
    std::vector<std::string> left;
    for (auto& e : fs::directory_iterator(out)) left.push_back(e.path().filename().string());
    CHECK(left == std::vector<std::string>{"log.txt"});  // nothing written, nothing half-written
}

TEST_CASE("--out problems are found before the run: a file in the way, under a file, unwritable") {
    tmpdir t;
    fs::path f = write(t, "small.yaml", small);
    fs::path file = write(t, "file", "x");
    auto attempt = [&](const std::string& dir) { return ioatsim("run " + f.string() + " --out " + dir, t); };
    result r = attempt(file.string());
    CHECK(r.status == 2);
    CHECK(r.err == "--out " + file.string() + ": not a folder (the outputs go into a folder of this name)\n");
    CHECK(r.out.find("Linux version") == std::string::npos);
    r = attempt((file / "sub").string());
    CHECK(r.status == 2);
    CHECK(r.err == "--out " + (file / "sub").string() + ": cannot create the output folder: Not a directory\n");
    CHECK(r.out.find("Linux version") == std::string::npos);
    // /proc is a folder nobody, root included, can make files in.
    r = attempt("/proc");
    CHECK(r.status == 2);
    CHECK(r.err.rfind("--out /proc: cannot write in the output folder", 0) == 0);
    CHECK(r.out.find("Linux version") == std::string::npos);
    CHECK(slurp(file) == "x");
}

TEST_CASE("a name that is not a plain file name is refused at its line: nothing is written outside out/") {
    tmpdir t;
    // A name of this process's own, so nothing left by an earlier run can be mistaken for this one's.
    const std::string name = "../../ioatsim-escape-" + std::to_string(::getpid());
    fs::path f = write(t, "escape.yaml", "description: d\nname: " + name + "\n");
    result r = ioatsim("run " + f.string(), t);  // the default folder, out/NAME
    CHECK(r.status == 2);
    CHECK(r.err == f.string() + ":2:7: name: \"" + name + "\" is not a plain file name (it names the output folder "
                                "out/NAME: no \"/\", not \".\" or \"..\", no control characters, at most 255 bytes)\n");
    const fs::path escaped = fs::path("out") / name;
    CHECK_FALSE(fs::exists(escaped));
    fs::remove_all(escaped);  // had it been written
}

TEST_CASE("a device or a file too big is refused before it is read") {
    tmpdir t;
    result r = ioatsim("run /dev/zero --out " + (t.path / "out").string(), t);
    refused(t, r, "/dev/zero: not a regular file (a scenario is a YAML file of at most 1 MiB)");
    fs::path big = write(t, "big.yaml", "name: big\n# " + std::string(2 << 20, 'x') + "\n");
    refused(t, run(t, big), big.string() + ": 2097165 bytes is over the 1 MiB a scenario may have");
}

TEST_CASE("file errors carry their line: an empty file, an unknown preset") {
    tmpdir t;
    fs::path empty = write(t, "empty.yaml", "");
    refused(t, run(t, empty), empty.string() + ":1:1: missing required key \"name\" (the scenario is empty)");
    fs::path preset = write(t, "preset.yaml", "name: p\nplatform:\n  preset: nosuch\n");
    refused(t, run(t, preset), preset.string() + ":3:11: platform.preset: no preset \"nosuch\" (known: ivybridge-ex-4s, jasper-forest, minimal, "
                                                 "westmere-ep-2s, westmere-ex-8s, x3850x5)");
}

TEST_CASE("a log pattern that would backtrack forever completes, and fails or passes as it should") {
    tmpdir t;
    // No line of the log ends in X: a backtracking matcher tries every split of
    // every line between the two .* of each repetition.
    const std::string pattern = "\"^(.*.*)*X$\"";
    fs::path lacks = write(t, "lacks.yaml", small + "expect:\n  log_contains: [" + pattern + "]\n");
    result r = run(t, lacks, "--quiet");
    CHECK(r.status == 1);
    CHECK(r.out.find("log lacks /^(.*.*)*X$/") != std::string::npos);
    fs::path absent = write(t, "absent.yaml", small + "expect:\n  log_not_contains: [" + pattern + "]\n");
    CHECK(run(t, absent, "--quiet").status == 0);
    // The same shape that does match: a dmatest thread's last line ends in "(status 0)".
    fs::path found = write(t, "found.yaml", small + "expect:\n  log_contains: [\"^(.*.*)*[(]status 0[)]$\"]\n");
    CHECK(run(t, found, "--quiet").status == 0);
}
