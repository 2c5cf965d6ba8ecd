// A sweep on a real scheduler: a single-node Slurm cluster brought up on this
// machine by tools/slurm/single-node.sh (Debian's slurm-wlm and munge, as
// root), a 12-point sweep submitted as a job array with its dependent merge
// job, and the merged tables compared with a local run's. Where Slurm cannot
// start (no packages, not root), the case says why and counts as skipped.
#include "sweep_cli.h"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>

using namespace sweep_test;

namespace {

struct cluster {
    std::string script = std::string(IOATSIM_SOURCE_DIR) + "/tools/slurm/single-node.sh";
    fs::path dir;
    bool up = false;
    ~cluster() {
        if (up) (void)std::system((script + " stop " + dir.string() + " >/dev/null 2>&1").c_str());
    }
};

std::string shell(const std::string& cmd, const tmpdir& t) {
    const fs::path out = t.path / "shell.out";
    (void)std::system((cmd + " >" + out.string() + " 2>&1").c_str());
    return slurp(out);
}

}  // namespace

TEST_CASE("a 12-point sweep runs as a Slurm job array and its merge equals a local run") {
    tmpdir t;
    cluster c;
    c.dir = t.path / "cluster";
    const int rc = std::system((c.script + " start " + c.dir.string() + " >" + (t.path / "start.log").string() +
                                " 2>&1").c_str());
    c.up = true;  // stop whatever did start, in any case
    if (rc != 0) {
        std::cout << "IOATSIM-SKIP: Slurm cannot run here: " << slurp(t.path / "start.log") << std::endl;
        MESSAGE("Slurm could not start; skipped");
        return;
    }
    setenv("SLURM_CONF", (c.dir / "slurm.conf").c_str(), 1);

    const std::string base = "sweep " + tiny(t) +
                             " --axis software.clients.dmatest.iterations=10..120:6 --designs legacy,atomic";
    REQUIRE(ioatsim(base + " -j 2 --out " + (t.path / "whole").string(), t).status == 0);
    const fs::path out = t.path / "cluster-sweep";
    REQUIRE(ioatsim(base + " --emit slurm --shards 3 --throttle 2 --out " + out.string(), t).status == 0);

    const std::string submitted = shell("bash " + (out / "slurm" / "submit.sh").string(), t);
    INFO(submitted);
    const size_t at = submitted.find("merge job ");
    REQUIRE(at != std::string::npos);
    const std::string merge_job = std::to_string(std::stoul(submitted.substr(at + 10)));
    // Wait for the merge job to leave the queue: it starts only once every array task ended.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
    std::string queue;
    while (std::chrono::steady_clock::now() < deadline) {
        queue = shell("squeue -h -j " + merge_job, t);
        if (queue.find_first_not_of(" \n") == std::string::npos || queue.find("Invalid job id") != std::string::npos)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    INFO("queue: " << queue << "\nslurmctld: " << slurp(c.dir / "log" / "slurmctld.log"));
    const std::string state = shell("scontrol show job " + merge_job, t);
    CHECK(state.find("JobState=COMPLETED") != std::string::npos);
    for (int i = 1; i <= 3; ++i) {
        const std::string task = slurp(out / "slurm" / ("shard-" + std::to_string(i) + ".out"));
        CHECK(task.find("shard " + std::to_string(i) + "/3: 4 points (4 run now): 4 pass") != std::string::npos);
    }
    CHECK(slurp(out / "slurm" / "merge.out").find("sweep: 12 points (0 run now): 12 pass") != std::string::npos);
    REQUIRE(fs::exists(out / "results.csv"));
    CHECK(without_wall(slurp(out / "results.csv")) == without_wall(slurp(t.path / "whole" / "results.csv")));
    CHECK(without_wall(slurp(out / "summary.csv")) == without_wall(slurp(t.path / "whole" / "summary.csv")));
}
