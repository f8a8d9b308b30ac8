#!/usr/bin/env bash
# A single-node Slurm on this machine, for tests and for trying `logq tasks submit` without a
# cluster: munged, slurmctld and slurmd from Debian's packages (slurmctld slurmd slurm-client
# munge), run as root with a private config in DIR. Process tracking by /proc (proctrack/linuxproc)
# and no task plugin: both work in a container without cgroups or systemd.
#   scripts/slurm_local.sh start DIR   # prints the SLURM_CONF to export; exit 77 if Slurm cannot start
#   scripts/slurm_local.sh stop DIR
set -euo pipefail
cmd=${1:?usage: slurm_local.sh start|stop DIR}
dir=$(realpath -m "${2:?usage: slurm_local.sh start|stop DIR}")
skip() { echo "slurm_local: cannot start Slurm here: $*" >&2; exit 77; }

stop() {
  for pidf in "$dir/slurmd.pid" "$dir/slurmctld.pid"; do
    [ -f "$pidf" ] && kill "$(cat "$pidf")" 2>/dev/null || true
  done
  sleep 1
}

if [ "$cmd" = stop ]; then stop; exit 0; fi
[ "$cmd" = start ] || { echo "usage: slurm_local.sh start|stop DIR" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || skip "needs root (the daemons run as root here)"
for b in munged slurmctld slurmd sbatch sinfo; do
  command -v "$b" >/dev/null || skip "$b not installed (apt-get install slurmctld slurmd slurm-client munge)"
done
mkdir -p "$dir/state" "$dir/spool" "$dir/log"

# munge: one daemon per machine, on its standard socket (sbatch and the daemons find it there).
if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
  [ -f /etc/munge/munge.key ] || skip "/etc/munge/munge.key is missing (reinstall munge)"
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  runuser -u munge -- /usr/sbin/munged || skip "munged did not start"
  sleep 1
  munge -n </dev/null | unmunge >/dev/null 2>&1 || skip "munge does not answer"
fi

host=$(hostname -s)
cpus=$(nproc --all)  # not nproc: it follows OMP_NUM_THREADS (scripts/env.sh sets 1)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))  # MiB Slurm may give out: half
cat > "$dir/slurm.conf" <<CONF
ClusterName=logqtest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=${LOGQ_SLURMCTLD_PORT:-16817}
SlurmdPort=${LOGQ_SLURMD_PORT:-16818}
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=logq Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$dir/slurm.conf
stop
slurmctld -c || skip "slurmctld did not start (see $dir/log/slurmctld.log)"
slurmd -c || skip "slurmd did not start (see $dir/log/slurmd.log)"
for _ in $(seq 30); do
  if sinfo -h -o %t 2>/dev/null | grep -qx idle; then echo "$SLURM_CONF"; exit 0; fi
  sleep 1
done
stop
skip "the node did not become idle in 30 s (see $dir/log/)"
