// `ioatsim sweep` as a user runs it: the grid's rows and aggregates, resuming,
// crashed and timed-out points, the progress line, bad input, shards and their
// merge, the scripts for Slurm and GNU parallel (the latter run here).
#include "sweep_cli.h"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

using namespace sweep_test;

namespace {

const std::string grid = " --axis software.clients.dmatest.iterations=20,50,80 --designs legacy,atomic --seeds 2";

}  // namespace

TEST_CASE("a sweep writes one row per point with axes, seed, verdict and every number, and aggregates seeds") {
    tmpdir t;
    const fs::path out = t.path / "s";
    result r = ioatsim("sweep " + tiny(t) + grid + " -j 2 --out " + out.string(), t);
    REQUIRE(r.status == 0);
    CHECK(r.out.find("sweep: 12 points (12 run now): 12 pass, 0 fail") != std::string::npos);
    CHECK(r.err.find('\r') == std::string::npos);  // no progress line when stderr is no terminal

    auto rows = csv(slurp(out / "results.csv"));
    REQUIRE(rows.size() == 13);
    auto col = columns(rows[0]);
    for (const char* c : {"point", "design", "software.clients.dmatest.iterations", "seed", "verdict", "exit_status",
                          "point_wall_time_s", "counters.dmatest.tests", "copies.completed", "removal.completed",
                          "throughput.whole_run_gbytes_per_s", "wall_time_s"})
        CHECK_MESSAGE(col.count(c), c);
    // Row 5: legacy, 80 iterations, seed 2; its numbers are its summary.json's.
    const auto& row = rows[6];
    CHECK(row[col["design"]] == "legacy");
    CHECK(row[col["software.clients.dmatest.iterations"]] == "80");
    CHECK(row[col["seed"]] == "2");
    CHECK(row[col["verdict"]] == "pass");
    nlohmann::json s = summary(out / "points" / "0005-legacy-80-s2");
    CHECK(row[col["counters.dmatest.tests"]] == "80");
    CHECK(row[col["counters.dmatest.bytes"]] == s["counters"]["dmatest.bytes"].dump());
    CHECK(row[col["removal.completed"]] == "0");  // false
    CHECK(row[col["removal.latency_us"]] == "");  // null
    // Traces are off unless asked.
    CHECK_FALSE(fs::exists(out / "points" / "0005-legacy-80-s2" / "hotplug.jsonl"));
    CHECK(fs::exists(out / "points" / "0005-legacy-80-s2" / "log.txt"));

    // results.jsonl says the same, one object per point.
    std::istringstream jl(slurp(out / "results.jsonl"));
    std::vector<nlohmann::json> lines;
    for (std::string l; std::getline(jl, l);) lines.push_back(nlohmann::json::parse(l));
    REQUIRE(lines.size() == 12);
    CHECK(lines[5]["axes"]["design"] == "legacy");
    CHECK(lines[5]["seed"] == 2);
    CHECK(lines[5]["metrics"]["counters.dmatest.bytes"] == s["counters"]["dmatest.bytes"]);

    // summary.csv: one row per design and value, its figures the seeds' mean, min, max and sample deviation.
    auto sum = csv(slurp(out / "summary.csv"));
    REQUIRE(sum.size() == 7);
    auto sc = columns(sum[0]);
    for (size_t g = 1; g < sum.size(); ++g) {
        CAPTURE(g);
        CHECK(sum[g][sc["points"]] == "2");
        double a = std::stod(rows[2 * g - 1][col["counters.dmatest.bytes"]]);
        double b = std::stod(rows[2 * g][col["counters.dmatest.bytes"]]);
        CHECK(std::stod(sum[g][sc["counters.dmatest.bytes.mean"]]) == doctest::Approx((a + b) / 2));
        CHECK(std::stod(sum[g][sc["counters.dmatest.bytes.min"]]) == std::min(a, b));
        CHECK(std::stod(sum[g][sc["counters.dmatest.bytes.max"]]) == std::max(a, b));
        CHECK(std::stod(sum[g][sc["counters.dmatest.bytes.stddev"]]) == doctest::Approx(std::fabs(a - b) / std::sqrt(2.0)));
        CHECK(sum[g][sc["counters.dmatest.bytes.n"]] == "2");
    }
    CHECK(sum[1][sc["design"]] == "legacy");
    CHECK(sum[6][sc["software.clients.dmatest.iterations"]] == "80");
}

TEST_CASE("a rerun skips whole points and redoes cut-short ones, and the tables come out the same") {
    tmpdir t;
    const fs::path out = t.path / "s";
    const std::string cmd = "sweep " + tiny(t) + grid + " -j 2 --out " + out.string();
    REQUIRE(ioatsim(cmd, t).status == 0);
    const std::string first = slurp(out / "results.csv"), first_sum = slurp(out / "summary.csv");
    const std::string first_jsonl = slurp(out / "results.jsonl");
    // A point never recorded, one whose summary was cut short, one recorded as crashed.
    const fs::path p = out / "points";
    fs::remove(p / "0002-legacy-50-s1" / "point.json");
    std::ofstream(p / "0007-atomic-20-s2" / "summary.json", std::ios::trunc) << "{\"verdict\":";
    nlohmann::json rec = nlohmann::json::parse(slurp(p / "0009-atomic-50-s2" / "point.json"));
    rec["status"] = "crashed";
    std::ofstream(p / "0009-atomic-50-s2" / "point.json", std::ios::trunc) << rec.dump();
    struct stat before {};
    REQUIRE(stat((p / "0004-legacy-80-s1" / "summary.json").c_str(), &before) == 0);

    result r = ioatsim(cmd, t);
    CHECK(r.status == 0);
    CHECK(r.out.find("12 points (3 run now): 12 pass") != std::string::npos);
    struct stat after {};
    REQUIRE(stat((p / "0004-legacy-80-s1" / "summary.json").c_str(), &after) == 0);
    CHECK(after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);  // untouched
    CHECK(after.st_ino == before.st_ino);
    CHECK(without_wall(slurp(out / "results.csv")) == without_wall(first));
    CHECK(without_wall(slurp(out / "summary.csv")) == without_wall(first_sum));
    CHECK(jsonl_without_wall(slurp(out / "results.jsonl")) == jsonl_without_wall(first_jsonl));
    CHECK(first.find("wall_time") != std::string::npos);  // there were wall columns to strip

    // A folder of another campaign is refused, untouched.
    const std::string kept = slurp(out / "results.csv");
    result other = ioatsim("sweep " + tiny(t) + " --axis software.clients.dmatest.iterations=20 --out " + out.string(), t);
    CHECK(other.status == 2);
    CHECK(other.err.find("holds another campaign") != std::string::npos);
    CHECK(slurp(out / "results.csv") == kept);
}

TEST_CASE("a point that times out or finds bad input is recorded with its exit status while the others run") {
    tmpdir t;
    const fs::path out = t.path / "s";
    // 1000000 iterations over 2 s of simulated time take far longer than the 0.5 s allowed.
    result r = ioatsim("sweep " + tiny(t) +
                           " --set run.until=2s --set 'timeline=[{at: 1 ms, do: cfg.read, device: \"0000:00:16.0\", offset: 0, width: 4}]'"
                           " --axis software.clients.dmatest.iterations=50,1000000"
                           " --axis 'timeline.0.device=0000:00:16.0,0000:00:17.0' --timeout 0.5 -j 2 --out " +
                           out.string(),
                       t);
    CHECK(r.status == 1);
    auto rows = csv(slurp(out / "results.csv"));
    REQUIRE(rows.size() == 5);
    auto col = columns(rows[0]);
    auto at = [&](size_t i, const char* c) { return rows[i + 1][col[c]]; };
    CHECK(at(0, "verdict") == "pass");
    CHECK(at(0, "exit_status") == "0");
    CHECK(at(1, "verdict") == "error");  // no such device: found only as the platform is built
    CHECK(at(1, "exit_status") == "2");
    CHECK(at(1, "message").find("0000:00:17.0") != std::string::npos);
    CHECK(at(2, "verdict") == "timeout");
    CHECK(at(2, "exit_status") == "137");
    CHECK(at(2, "counters.dmatest.tests") == "");
    CHECK(r.out.find("point 2 (software.clients.dmatest.iterations=1000000, timeline.0.device=0000:00:16.0, seed 1): "
                     "timeout (exit status 137)") != std::string::npos);
    CHECK(at(3, "verdict") == "error");
    CHECK(r.out.find("1 pass, 0 fail, 3 crashed, timed out or missing") != std::string::npos);
}

TEST_CASE("on a terminal a progress line counts points done, failed and running") {
    tmpdir t;
    const fs::path out = t.path / "s";
    // script(1) gives the program a terminal; its output is the terminal's.
    const std::string cmd = std::string(IOATSIM_BINARY) + " sweep " + tiny(t) +
                            " --axis software.clients.dmatest.iterations=10..60:6 -j 2 --out " + out.string();
    const std::string run = "script -qec '" + cmd + "' /dev/null >" + (t.path / "tty").string() + " 2>&1";
    REQUIRE(std::system(run.c_str()) == 0);
    const std::string tty = slurp(t.path / "tty");
    CHECK(tty.find("\rsweep: 6/6 done (0 fail, 0 crashed or timed out), 0 running") != std::string::npos);
    CHECK(tty.find(" running, ~") != std::string::npos);  // an estimate of the time left
    CHECK(tty.find("sweep: 6 points (6 run now)") != std::string::npos);
}

TEST_CASE("bad sweep input exits 2, names the option and value, and writes nothing") {
    tmpdir t;
    const std::string sc = tiny(t), out = " --out " + (t.path / "s").string();
    struct bad { std::string args, says; };
    const bad cases[] = {
        {" --axis nosuch.key=1,2", "nosuch"},
        {" --axis coherence.atomic_one_hop=50ns..2000ns:1", "--axis coherence.atomic_one_hop=50ns..2000ns:1: the count"},
        {" --axis coherence.atomic_one_hop=50ns..2000:4", "different units"},
        {" --axis ioat.xfercap=1..40:3", "sweep point 2 (ioat.xfercap=40, seed 1)"},
        {" --designs legacy,refcount", "--designs: unknown design \"refcount\""},
        {" --shard 3/2", "--shard: \"3/2\""},
        {" --emit pbs", "--emit: \"pbs\" is not slurm or parallel"},
        {" --throttle 2", "--throttle: only with --emit slurm"},
        {" --seeds 0", "--seeds: must be 1..1000"},
        {" --timeout -1", "--timeout"},
        {" --designs legacy,atomic --axis ioat.xfercap=10,12 --axis ioat.desc_overhead=100ns,200ns --plot copies.lost",
         "--plot: ioat.desc_overhead varies too"},
    };
    for (const bad& b : cases) {
        CAPTURE(b.args);
        result r = ioatsim("sweep " + sc + b.args + out, t);
        CHECK(r.status == 2);
        CHECK(r.err.find(b.says) != std::string::npos);
        CHECK_FALSE(fs::exists(t.path / "s"));
    }
}

TEST_CASE("shards run every N-th point and, merged, give the single run's tables byte for byte but wall time") {
    tmpdir t;
    const std::string base = "sweep " + tiny(t) + grid + " -j 2";
    REQUIRE(ioatsim(base + " --out " + (t.path / "whole").string(), t).status == 0);
    std::string dirs;
    for (int i = 1; i <= 3; ++i) {
        const fs::path d = t.path / ("shard" + std::to_string(i));
        result r = ioatsim(base + " --shard " + std::to_string(i) + "/3 --out " + d.string(), t);
        REQUIRE(r.status == 0);
        CHECK(r.out.find("shard " + std::to_string(i) + "/3: 4 points (4 run now)") != std::string::npos);
        CHECK_FALSE(fs::exists(d / "results.csv"));  // the merge writes the tables
        dirs += " " + d.string();
    }
    CHECK(fs::exists(t.path / "shard2" / "points" / "0001-legacy-20-s2" / "point.json"));
    CHECK_FALSE(fs::exists(t.path / "shard2" / "points" / "0000-legacy-20-s1"));
    result m = ioatsim("sweep merge" + dirs + " --out " + (t.path / "merged").string(), t);
    CHECK(m.status == 0);
    for (const char* f : {"results.csv", "summary.csv"})
        CHECK_MESSAGE(without_wall(slurp(t.path / "merged" / f)) == without_wall(slurp(t.path / "whole" / f)), f);
    CHECK(jsonl_without_wall(slurp(t.path / "merged" / "results.jsonl")) ==
          jsonl_without_wall(slurp(t.path / "whole" / "results.jsonl")));

    // A shard short: its points are missing, and the merge says so.
    result part = ioatsim("sweep merge " + (t.path / "shard1").string() + " " + (t.path / "shard2").string() +
                              " --out " + (t.path / "part").string(), t);
    CHECK(part.status == 1);
    auto rows = csv(slurp(t.path / "part" / "results.csv"));
    CHECK(std::count_if(rows.begin(), rows.end(), [](auto& r) { return r.size() > 4 && r[4] == "missing"; }) == 4);
    // Shards of another campaign do not mix.
    REQUIRE(ioatsim("sweep " + tiny(t) + " --axis software.clients.dmatest.iterations=20 --out " +
                        (t.path / "other").string(), t).status == 0);
    result mixed = ioatsim("sweep merge " + (t.path / "shard1").string() + " " + (t.path / "other").string(), t);
    CHECK(mixed.status == 2);
    CHECK(mixed.err.find("holds another campaign") != std::string::npos);
}

TEST_CASE("--emit slurm writes a job array with a throttle, output per task, and a dependent merge job") {
    tmpdir t;
    const fs::path out = t.path / "s";
    result r = ioatsim("sweep " + tiny(t) + grid + " --emit slurm --shards 4 --throttle 2 -j 2 --plot copies.completed"
                       " --out " + out.string(), t);
    REQUIRE(r.status == 0);
    CHECK(r.out.find("12 points in 4 shards") != std::string::npos);
    const std::string array = slurp(out / "slurm" / "sweep.sbatch"), merge = slurp(out / "slurm" / "merge.sbatch");
    const std::string submit = slurp(out / "slurm" / "submit.sh");
    CHECK(array.find("#SBATCH --array=1-4%2\n") != std::string::npos);
    CHECK(array.find("#SBATCH --cpus-per-task=2\n") != std::string::npos);
    CHECK(array.find("#SBATCH --output=" + (out / "slurm" / "shard-%a.out").string()) != std::string::npos);
    CHECK(array.find("--shard \"${SLURM_ARRAY_TASK_ID}/4\"") != std::string::npos);
    CHECK(array.find(std::string(IOATSIM_BINARY) + " sweep " + (t.path / "tiny.yaml").string()) != std::string::npos);
    CHECK(merge.find("sweep merge " + out.string() + " --plot copies.completed") != std::string::npos);
    CHECK(submit.find("--dependency=afterany:\"$array\"") != std::string::npos);
    CHECK(fs::exists(out / "sweep.json"));
    CHECK_FALSE(fs::exists(out / "points"));  // nothing ran
}

TEST_CASE("--emit parallel writes a GNU parallel job list over --sshlogin hosts that, run here, merges to the local tables") {
    tmpdir t;
    const std::string base = "sweep " + tiny(t) + grid;
    REQUIRE(ioatsim(base + " -j 2 --out " + (t.path / "whole").string(), t).status == 0);
    const fs::path out = t.path / "p";
    REQUIRE(ioatsim(base + " --emit parallel --shards 3 --sshlogin : --out " + out.string(), t).status == 0);
    const std::string jobs = slurp(out / "parallel" / "jobs.txt"), run = slurp(out / "parallel" / "run.sh");
    CHECK(std::count(jobs.begin(), jobs.end(), '\n') == 3);
    CHECK(jobs.find("--shard 3/3\n") != std::string::npos);
    CHECK(run.find("parallel --will-cite --jobs 1 --sshlogin : ") != std::string::npos);
    const std::string cmd = "bash " + (out / "parallel" / "run.sh").string() + " >" + (t.path / "log").string() + " 2>&1";
    INFO(slurp(t.path / "log"));
    REQUIRE(std::system(cmd.c_str()) == 0);
    CHECK(without_wall(slurp(out / "results.csv")) == without_wall(slurp(t.path / "whole" / "results.csv")));
    CHECK(slurp(out / "parallel" / "joblog").find("--shard 2/3") != std::string::npos);
}
