#!/bin/bash
# A single-node Slurm cluster for the cluster integration test, run as root
# without systemd: munged (as user munge), slurmctld and slurmd, each in the
# foreground in the background so that its PID is known.
#
#   single-node.sh start STATE_DIR   writes STATE_DIR/slurm.conf, starts the
#                                    daemons, waits (at most 60 s) until the
#                                    node is idle; prints SLURM_CONF=...
#   single-node.sh stop STATE_DIR    stops the daemons it started, by PID, in
#                                    reverse order (at most 10 s each)
#
# Needs Debian's slurmctld, slurmd, slurm-client and munge packages.
set -euo pipefail
command=${1:?usage: single-node.sh start|stop STATE_DIR}
state=${2:?usage: single-node.sh start|stop STATE_DIR}

stop_pid() {  # name: SIGTERM, then SIGKILL after 10 s
    local file="$state/$1.pid"
    [[ -f $file ]] || return 0
    local pid; pid=$(cat "$file")
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$file"
}

if [[ $command == stop ]]; then
    stop_pid slurmd; stop_pid slurmctld; stop_pid munged
    exit 0
fi
[[ $command == start ]] || { echo "error: unknown command '$command' (start or stop)" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "error: the single-node Slurm cluster needs root" >&2; exit 2; }
for tool in munged mungekey slurmctld slurmd sbatch scontrol; do
    command -v "$tool" >/dev/null || { echo "error: $tool not found (apt-get install slurmctld slurmd slurm-client munge)" >&2; exit 2; }
done
mkdir -p "$state"/{spool,ctld,log,munge,munge-run}
chmod 755 "$state"
chown munge:munge "$state/munge" "$state/munge-run" "$state/log"
chmod 700 "$state/munge"
chmod 755 "$state/munge-run"
# A munge key of the test's own, readable by munge alone.
[[ -f $state/munge/munge.key ]] || mungekey --create --keyfile="$state/munge/munge.key"
chown munge:munge "$state/munge/munge.key"
chmod 600 "$state/munge/munge.key"
cpus=$(nproc)
cat > "$state/slurm.conf" <<CONF
ClusterName=thunnini-test
SlurmctldHost=localhost
SlurmUser=root
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
AuthInfo=socket=$state/munge-run/munge.socket
CredType=cred/munge
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.daemon.pid
SlurmdPidFile=$state/slurmd.daemon.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
DependencyParameters=kill_invalid_depend
MailProg=/bin/true
ReturnToService=2
NodeName=thunnini-node NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$state/slurm.conf

runuser -u munge -- munged --foreground --key-file="$state/munge/munge.key" --socket="$state/munge-run/munge.socket" \
    --pid-file="$state/munge-run/munged.pid" --log-file="$state/log/munged.log" --seed-file="$state/munge/munge.seed" \
    >"$state/log/munged.out" 2>&1 &
echo $! > "$state/munged.pid"
for _ in $(seq 100); do [[ -S $state/munge-run/munge.socket ]] && break; sleep 0.1; done
[[ -S $state/munge-run/munge.socket ]] || { echo "error: munged did not start (see $state/log/munged.log)" >&2; exit 1; }

slurmctld -D -f "$SLURM_CONF" >"$state/log/slurmctld.out" 2>&1 &
echo $! > "$state/slurmctld.pid"
slurmd -D -N thunnini-node -f "$SLURM_CONF" >"$state/log/slurmd.out" 2>&1 &
echo $! > "$state/slurmd.pid"

for _ in $(seq 600); do
    if scontrol show node thunnini-node 2>/dev/null | grep -q "State=IDLE"; then
        echo "SLURM_CONF=$SLURM_CONF"
        exit 0
    fi
    sleep 0.1
done
echo "error: the Slurm node did not become idle in 60 s (logs in $state/log)" >&2
exit 1
