#include "tools/sweep_emit.h"

#include "platform/runner.h"
#include "tools/sweep_run.h"

#include <sys/stat.h>

#include <filesystem>
#include <sstream>

namespace ioatsim::sweep {
namespace fs = std::filesystem;

namespace {

std::string words(const std::vector<std::string>& args) {
    std::string s;
    for (const std::string& a : args) s += " " + shell_quote(a);
    return s;
}

void write_script(const fs::path& p, const std::string& text) {
    write_whole(p.string(), text);
    chmod(p.c_str(), 0755);
}

}  // namespace

std::string shell_quote(const std::string& w) {
    if (!w.empty() && w.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=/.,:@%") ==
                          std::string::npos)
        return w;
    std::string q = "'";
    for (char c : w) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

std::string emit(const emit_request& r) {
    const fs::path dir = fs::path(r.out) / r.kind;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw input_error(dir.string() + ": cannot create: " + ec.message());
    const std::string n = std::to_string(r.shards);
    const std::string sweep = shell_quote(r.binary) + " sweep" + words(r.sweep_args) + " --out " + shell_quote(r.out);
    const std::string merge = shell_quote(r.binary) + " sweep merge " + shell_quote(r.out) + words(r.merge_args);

    if (r.kind == "slurm") {
        std::ostringstream a;
        a << "#!/bin/bash\n"
          << "# ioatsim sweep: one array task per shard; shard I of " << n << " runs points I-1, I-1+" << n << ", I-1+2*" << n << ", ...\n"
          << "#SBATCH --job-name=ioatsim-sweep\n"
          << "#SBATCH --array=1-" << n << "%" << (r.throttle ? r.throttle : r.shards) << "\n"
          << "#SBATCH --cpus-per-task=" << r.jobs << "\n"
          << "#SBATCH --output=" << (dir / "shard-%a.out").string() << "\n"
          << "exec " << sweep << " -j \"${SLURM_CPUS_PER_TASK:-" << r.jobs << "}\" --shard \"${SLURM_ARRAY_TASK_ID}/"
          << n << "\"\n";
        write_script(dir / "sweep.sbatch", a.str());
        write_script(dir / "merge.sbatch", "#!/bin/bash\n# Joins the shards' points into results.csv, once every task ended.\n"
                                           "#SBATCH --job-name=ioatsim-sweep-merge\n#SBATCH --output=" +
                                               (dir / "merge.out").string() + "\nexec " + merge + "\n");
        std::ostringstream s;
        s << "#!/bin/bash\n"
          << "# Submits the shards as a job array, then the merge as a job that waits for all of them\n"
          << "# (afterany: a shard with a crashed point still leaves the others to merge).\n"
          << "set -euo pipefail\n"
          << "array=$(sbatch --parsable " << shell_quote((dir / "sweep.sbatch").string()) << ")\n"
          << "array=${array%%;*}\n"
          << "merge=$(sbatch --parsable --dependency=afterany:\"$array\" "
          << shell_quote((dir / "merge.sbatch").string()) << ")\n"
          << "merge=${merge%%;*}\n"
          << "echo \"array job $array, merge job $merge\"\n";
        write_script(dir / "submit.sh", s.str());
        return (dir / "submit.sh").string();
    }

    std::ostringstream jobs;
    for (unsigned i = 1; i <= r.shards; ++i)
        jobs << sweep << " -j " << r.jobs << " --shard " << i << "/" << n << "\n";
    write_whole((dir / "jobs.txt").string(), jobs.str());
    std::ostringstream s;
    s << "#!/bin/bash\n"
      << "# Runs the " << n << " shards of jobs.txt with GNU parallel, one at a time on each --sshlogin host\n"
      << "# (\":\" is this machine), then merges them. A failed shard still leaves the others to merge.\n"
      << "parallel --will-cite --jobs 1 --sshlogin " << shell_quote(r.sshlogin) << " --joblog "
      << shell_quote((dir / "joblog").string()) << " :::: " << shell_quote((dir / "jobs.txt").string()) << "\n"
      << "exec " << merge << "\n";
    write_script(dir / "run.sh", s.str());
    return (dir / "run.sh").string();
}

}  // namespace ioatsim::sweep
