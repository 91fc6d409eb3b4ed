#!/usr/bin/env bash
# start_slurm.sh - start a real single-node SLURM cluster on this machine for
# Runway's tests: munged, MariaDB (own data folder, 127.0.0.1 only), slurmdbd,
# slurmctld and slurmd. Accounting is always on: submitit reads job states with
# sacct, and without slurmdbd every state reads UNKNOWN.
#
# Idempotent: daemons that answer are left alone, dead ones are started again,
# and a changed slurm.conf/slurmdbd.conf restarts the SLURM daemons. Every PID
# this script starts is recorded under the state folder; stop_slurm.sh stops
# exactly those. Run install_slurm.sh first. Must run as root.
#
# Environment:
#   RUNWAY_SLURM_STATE      state, spool, logs, PIDs, database  (default /tmp/runway-slurm)
#   RUNWAY_SLURM_PARTITION  the one partition's name             (default debug)
#   RUNWAY_SLURM_CPUS       CPUs the node advertises             (default: nproc)
#   RUNWAY_SLURM_MEM_MB     RealMemory of the node in MB         (default: MemTotal minus a margin)
#   RUNWAY_SLURM_DB_PORT    MariaDB port on 127.0.0.1            (default 13306)
#   RUNWAY_SLURM_TIMEOUT    seconds to wait for each daemon      (default 60)
set -euo pipefail

STATE=${RUNWAY_SLURM_STATE:-/tmp/runway-slurm}
PARTITION=${RUNWAY_SLURM_PARTITION:-debug}
CPUS=${RUNWAY_SLURM_CPUS:-$(nproc)}
DB_PORT=${RUNWAY_SLURM_DB_PORT:-13306}
TIMEOUT=${RUNWAY_SLURM_TIMEOUT:-60}
NODE=$(hostname -s)
CLUSTER=runway
# sbatch, sacct and submitit find /etc/slurm without SLURM_CONF
CONF_DIR=/etc/slurm
# a throwaway database reachable from 127.0.0.1 only
DB_USER=slurm
DB_PASSWORD=runway-slurm-local

# Leave room for the OS and the daemons: a job asking for the whole of
# MemTotal would never fit once they are running.
node_memory_mb() {
  local total_mb margin_mb
  total_mb=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
  margin_mb=$(( total_mb / 10 ))
  [ "$margin_mb" -ge 512 ] || margin_mb=512
  [ "$total_mb" -gt $(( margin_mb + 256 )) ] || { echo 256; return; }
  echo $(( total_mb - margin_mb ))
}
MEM_MB=${RUNWAY_SLURM_MEM_MB:-$(node_memory_mb)}

STARTED_AT=$(date +%s.%N)
since_start() { awk -v a="$STARTED_AT" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f s", b - a}'; }
log() { printf '[start_slurm %(%H:%M:%S)T] %s\n' -1 "$*"; }
fail() {
  log "ERROR: $*"
  local f
  for f in "$STATE"/log/*.log; do
    [ -s "$f" ] || continue
    echo "----- last lines of $f"
    tail -n 25 "$f"
  done
  exit 1
}

# is_running PID NAME: the process exists, is not a zombie and is called NAME
# (the name check protects against a recycled PID).
is_running() {
  local pid=$1 name=$2
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] || return 1
  ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null
}
recorded_running() { [ -s "$1" ] && is_running "$(cat "$1" 2>/dev/null)" "$2"; }

# retry_until SECONDS COMMAND...: run COMMAND every 0.25 s until it succeeds
retry_until() {
  local deadline=$(( $(date +%s) + $1 ))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.25
  done
}

# stop_recorded PIDFILE NAME: SIGTERM, then SIGKILL after 20 s
stop_recorded() {
  local pidfile=$1 name=$2 pid
  if ! recorded_running "$pidfile" "$name"; then rm -f "$pidfile"; return 0; fi
  pid=$(cat "$pidfile")
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  # wait on the process, not the file: some daemons remove their PID file early
  retry_until 20 bash -c "! [ -d /proc/$pid ] || grep -q '^State:[[:space:]]*Z' /proc/$pid/status" \
    || { log "$name ignored SIGTERM, killing"; kill -KILL "$pid" 2>/dev/null || true; }
  rm -f "$pidfile"
}

# replace_if_different FILE MODE < content: returns 0 when FILE changed
replace_if_different() {
  local target=$1 mode=$2 staged
  staged=$(mktemp)
  cat > "$staged"
  if [ -f "$target" ] && cmp -s "$staged" "$target"; then rm -f "$staged"; return 1; fi
  install -m "$mode" "$staged" "$target"
  rm -f "$staged"
}

[ "$(id -u)" = 0 ] || { echo "start_slurm.sh must run as root" >&2; exit 1; }
command -v slurmctld >/dev/null || { echo "SLURM is not installed: run scripts/slurm/install_slurm.sh" >&2; exit 1; }

mkdir -p "$STATE"/{ctld,spool,log}
chmod 0755 "$STATE"

# ------------------------------------------------------------------- munge
# munged accepts only a key that its own user owns with mode 0400, so it runs
# as 'munge', never as root.
start_munge() {
  install -d -o munge -g munge -m 0755 /run/munge "$STATE/munge"
  install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
  if [ ! -s /etc/munge/munge.key ]; then
    install -d -o munge -g munge -m 0700 /etc/munge
    mungekey --create --keyfile=/etc/munge/munge.key
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    log "munged: already answering"
    return
  fi
  rm -f /run/munge/munge.socket.2 /run/munge/munge.socket.2.lock
  runuser -u munge -- /usr/sbin/munged --pid-file="$STATE/munge/munged.pid" \
    < /dev/null >> "$STATE/log/munged.start.log" 2>&1 || fail "munged did not start"
  retry_until 10 bash -c 'munge -n | unmunge' || fail "munged does not answer"
  log "munged: started, pid $(cat "$STATE/munge/munged.pid")"
}

# ------------------------------------------------------------------- MariaDB
DB_DIR=$STATE/mysql
db_sql() { mariadb --no-defaults -S "$DB_DIR/mysqld.sock" -u root -e "$1"; }
start_mariadb() {
  install -d -o mysql -g mysql -m 0750 "$DB_DIR"
  if [ ! -d "$DB_DIR/data/mysql" ]; then
    mariadb-install-db --no-defaults --user=mysql --datadir="$DB_DIR/data" \
      --auth-root-authentication-method=socket --skip-test-db \
      > "$STATE/log/mariadb-install.log" 2>&1 || fail "mariadb-install-db failed"
  fi
  if recorded_running "$DB_DIR/mysqld.pid" mariadbd; then
    log "mariadbd: already running, pid $(cat "$DB_DIR/mysqld.pid")"
  else
    # small buffers: this database holds a few hundred job records
    setsid /usr/sbin/mariadbd --no-defaults --user=mysql --datadir="$DB_DIR/data" \
      --socket="$DB_DIR/mysqld.sock" --pid-file="$DB_DIR/mysqld.pid" \
      --bind-address=127.0.0.1 --port="$DB_PORT" --skip-name-resolve \
      --log-error="$STATE/log/mariadb.log" --innodb-buffer-pool-size=64M \
      --innodb-log-file-size=16M --innodb-lock-wait-timeout=900 \
      < /dev/null > /dev/null 2>&1 &
    retry_until "$TIMEOUT" db_sql 'SELECT 1' || fail "mariadbd does not answer"
    log "mariadbd: started, pid $(cat "$DB_DIR/mysqld.pid") ($(since_start))"
  fi
  db_sql "CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
          GRANT ALL ON slurm_acct_db.* TO '$DB_USER'@'127.0.0.1'; FLUSH PRIVILEGES;" \
    || fail "could not create the accounting database user"
}

# ------------------------------------------------------------------- config
# Returns 0 when a file changed, so the running daemons must reload it.
write_config() {
  local changed=1
  mkdir -p "$CONF_DIR"
  replace_if_different "$CONF_DIR/slurm.conf" 0644 <<CONF && changed=0
# Written by Runway's scripts/slurm/start_slurm.sh: a single-node test cluster.
ClusterName=$CLUSTER
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
CredType=cred/munge
# a requeued job may restart once its credential expired (default 120 s)
AuthInfo=cred_expire=10
MpiDefault=none
MailProg=/bin/true
# no cgroups in a container: track processes by parent id, bind no tasks
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
# take CPUs/RealMemory from this file, not from the hardware probe
SlurmdParameters=config_overrides
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
SchedulerType=sched/backfill
# start jobs on the next tick and look at all pending (and requeued) jobs
# every 2 s instead of every 60 s
SchedulerParameters=batch_sched_delay=0,sched_min_interval=100000,sched_interval=2
MessageTimeout=5
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# a job without --mem gets 512 MB per CPU, not the whole node
DefMemPerCPU=512
# grace between SIGTERM and SIGKILL on cancel or time-out (default 30 s)
KillWait=5
MinJobAge=300
InactiveLimit=0
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=6819
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  # slurmdbd refuses a config that is not owned by SlurmUser with mode 0600
  replace_if_different "$CONF_DIR/slurmdbd.conf" 0600 <<CONF && changed=0
# Written by Runway's scripts/slurm/start_slurm.sh.
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=6819
SlurmUser=root
DebugLevel=info
LogFile=$STATE/log/slurmdbd.log
PidFile=$STATE/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=$DB_USER
StoragePass=$DB_PASSWORD
StorageLoc=slurm_acct_db
CONF
  return $changed
}

# ------------------------------------------------------------------- SLURM daemons
start_slurmdbd() {
  if recorded_running "$STATE/slurmdbd.pid" slurmdbd; then
    log "slurmdbd: already running, pid $(cat "$STATE/slurmdbd.pid")"
  else
    slurmdbd < /dev/null >> "$STATE/log/slurmdbd.start.log" 2>&1 || fail "slurmdbd did not start"
    retry_until "$TIMEOUT" sacctmgr -n list cluster || fail "slurmdbd does not answer"
    log "slurmdbd: started, pid $(cat "$STATE/slurmdbd.pid") ($(since_start))"
  fi
  if ! sacctmgr -n -P list cluster format=cluster | grep -qx "$CLUSTER"; then
    sacctmgr -i add cluster "$CLUSTER" >/dev/null || fail "could not register cluster $CLUSTER"
  fi
}

start_slurmctld() {
  if recorded_running "$STATE/slurmctld.pid" slurmctld; then
    log "slurmctld: already running, pid $(cat "$STATE/slurmctld.pid")"
    return
  fi
  slurmctld < /dev/null >> "$STATE/log/slurmctld.start.log" 2>&1 || fail "slurmctld did not start"
  retry_until "$TIMEOUT" scontrol ping || fail "slurmctld does not answer"
  log "slurmctld: started, pid $(cat "$STATE/slurmctld.pid")"
}

start_slurmd() {
  if recorded_running "$STATE/slurmd.pid" slurmd; then
    log "slurmd: already running, pid $(cat "$STATE/slurmd.pid")"
    return
  fi
  slurmd -N "$NODE" < /dev/null >> "$STATE/log/slurmd.start.log" 2>&1 || fail "slurmd did not start"
  retry_until 10 recorded_running "$STATE/slurmd.pid" slurmd || fail "slurmd exited"
  log "slurmd: started, pid $(cat "$STATE/slurmd.pid")"
}

# A node left down/drained by an earlier run is resumed; ready means it can
# take a job now.
node_ready() {
  local node_state
  node_state=$(sinfo -h -n "$NODE" -o '%t' 2>/dev/null) || return 1
  case "$node_state" in
    idle|mix|alloc|comp) return 0 ;;
    down*|drain*|drng*) scontrol update nodename="$NODE" state=resume >/dev/null 2>&1; return 1 ;;
    *) return 1 ;;
  esac
}
accounting_ready() { sacct -n -X -S now-1minute -o JobID >/dev/null; }

start_munge
start_mariadb
if write_config; then
  log "configuration in $CONF_DIR changed: restarting the SLURM daemons"
  stop_recorded "$STATE/slurmd.pid" slurmd
  stop_recorded "$STATE/slurmctld.pid" slurmctld
  stop_recorded "$STATE/slurmdbd.pid" slurmdbd
fi
start_slurmdbd
start_slurmctld
start_slurmd

retry_until "$TIMEOUT" node_ready || { sinfo -N -l || true; fail "node $NODE is not ready"; }
retry_until "$TIMEOUT" accounting_ready || fail "sacct does not work"
log "cluster ready in $(since_start): node $NODE, $CPUS CPUs, ${MEM_MB} MB, partition $PARTITION, state in $STATE"
sinfo
