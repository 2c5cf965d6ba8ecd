#!/usr/bin/env bash
# A throw-away single-node Slurm cluster on this machine, for testing sweeps'
# job arrays (Debian's slurm-wlm and munge; run as root; no systemd needed).
#
#   tools/slurm/single-node.sh start DIR   writes DIR/slurm.conf and a munge key,
#                                          starts munged, slurmctld and slurmd
#                                          (each daemonises itself), waits for the
#                                          node to be idle, prints SLURM_CONF=...
#   tools/slurm/single-node.sh stop DIR    stops the three and waits for them
#
# Everything (state, spool, logs, sockets, pid files) stays in DIR, and the
# ports are free ones, so it neither touches nor meets a system's own Slurm.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi

# A TCP port nothing listens on (bash's /dev/tcp connects or fails).
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

stop() {
  if [ -f "$dir/slurm.conf" ]; then
    SLURM_CONF="$dir/slurm.conf" scontrol shutdown >/dev/null 2>&1 || true
  fi
  # Whatever scontrol did not stop, and munged, by their own pid files only.
  for f in slurmd.pid slurmctld.pid munged.pid; do
    [ -f "$dir/$f" ] || continue
    pid=$(cat "$dir/$f" 2>/dev/null || true)
    [ -n "$pid" ] || continue
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/$f"
  done
}

case "$cmd" in
stop)
  stop
  exit 0
  ;;
start) ;;
*)
  echo "$0: unknown command \"$cmd\" (start or stop)" >&2
  exit 2
  ;;
esac

for tool in munged slurmctld slurmd sbatch scontrol sinfo; do
  command -v "$tool" >/dev/null || { echo "$0: $tool is not installed (apt-get install slurm-wlm munge)" >&2; exit 3; }
done
[ "$(id -u)" -eq 0 ] || { echo "$0: must run as root (slurmd starts jobs as their users)" >&2; exit 3; }

mkdir -p "$dir/state" "$dir/spool" "$dir/log"
chmod 700 "$dir"
dir=$(cd "$dir" && pwd)
host=$(hostname -s)
cpus=$(nproc)

# munge: a key of our own and a socket in DIR.
head -c 1024 /dev/urandom >"$dir/munge.key"
chmod 400 "$dir/munge.key"
munged --force --key-file="$dir/munge.key" --socket="$dir/munge.sock" --pid-file="$dir/munged.pid" \
  --log-file="$dir/log/munged.log" --seed-file="$dir/munged.seed"

ctld_port=$(free_port)
slurmd_port=$(free_port)
while [ "$slurmd_port" = "$ctld_port" ]; do slurmd_port=$(free_port); done

# No cgroups, no accounting, no MPI: what runs in a container without systemd.
cat >"$dir/slurm.conf" <<EOF
ClusterName=ioatsim-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge.sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SwitchType=switch/none
SchedulerType=sched/backfill
ReturnToService=2
MaxArraySize=100001
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=1000 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

export SLURM_CONF="$dir/slurm.conf"
if ! slurmctld -i -f "$SLURM_CONF" || ! slurmd -f "$SLURM_CONF"; then
  echo "$0: a Slurm daemon did not start; logs in $dir/log" >&2
  stop
  exit 3
fi
for _ in $(seq 1 150); do
  if sinfo -h -o %T 2>/dev/null | grep -qx idle; then
    echo "SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 0.2
done
echo "$0: the node did not become idle in 30 s; logs in $dir/log" >&2
sinfo >&2 || true
stop
exit 3
