#!/usr/bin/env bash
# start_slurm.sh - start a real two-node SLURM cluster on this machine for
# Runway's tests: munged, MariaDB (own data folder, 127.0.0.1 only), slurmdbd
# and slurmctld on the host, and one slurmd per compute node, each in its own
# network namespace with its own address and hostname (see README.md here).
# Accounting is always on: submitit reads job states with sacct, and without
# slurmdbd every state reads UNKNOWN.
#
# The network: a bridge (rwslurm0, $SUBNET.1/24) on the host, and per node a
# namespace runway-nodeN with a veth pair (host end rwslurm-nN on the bridge,
# node end eth0 at $SUBNET.(10+N)). The nodes reach each other and the
# controller over the bridge only; nothing is routed beyond it. Each node's
# slurmd (and so every job on the node) runs with its own hostname
# runway-nodeN (a UTS namespace) and its own /etc/hosts, bound from
# /etc/netns/runway-nodeN/hosts in a mount namespace, which names the
# controller and every node.
#
# Idempotent: daemons that answer are left alone, dead ones are started again,
# and a changed slurm.conf/slurmdbd.conf restarts the SLURM daemons. Every PID
# this script starts is recorded under the state folder; stop_slurm.sh stops
# exactly those. Run install_slurm.sh first. Must run as root.
#
# Environment:
#   RUNWAY_SLURM_STATE      state, spool, logs, PIDs, database  (default /tmp/runway-slurm)
#   RUNWAY_SLURM_PARTITION  the one partition's name             (default debug)
#   RUNWAY_SLURM_NODES      compute nodes (namespaces)           (default 2)
#   RUNWAY_SLURM_SUBNET     first three octets of their /24      (default 10.231.0)
#   RUNWAY_SLURM_CPUS       CPUs each node advertises            (default: nproc)
#   RUNWAY_SLURM_MEM_MB     RealMemory of each node in MB        (default: MemTotal minus a margin, shared out)
#   RUNWAY_SLURM_DB_PORT    MariaDB port on 127.0.0.1            (default 13306)
#   RUNWAY_SLURM_TIMEOUT    seconds to wait for each daemon      (default 60)
set -euo pipefail

STATE=${RUNWAY_SLURM_STATE:-/tmp/runway-slurm}
PARTITION=${RUNWAY_SLURM_PARTITION:-debug}
CPUS=${RUNWAY_SLURM_CPUS:-$(nproc)}
DB_PORT=${RUNWAY_SLURM_DB_PORT:-13306}
TIMEOUT=${RUNWAY_SLURM_TIMEOUT:-60}
NODES=${RUNWAY_SLURM_NODES:-2}
SUBNET=${RUNWAY_SLURM_SUBNET:-10.231.0}
CONTROLLER=$(hostname -s)
CONTROLLER_ADDR=$SUBNET.1
BRIDGE=rwslurm0
NODE_PREFIX=runway-node
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
case "$NODES" in ''|*[!0-9]*) echo "RUNWAY_SLURM_NODES must be a number from 1 to 9, got '$NODES'" >&2; exit 2 ;; esac
[ "$NODES" -ge 1 ] && [ "$NODES" -le 9 ] || { echo "RUNWAY_SLURM_NODES must be from 1 to 9, got $NODES" >&2; exit 2; }
[[ "$SUBNET" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "RUNWAY_SLURM_SUBNET must be three octets such as 10.231.0, got '$SUBNET'" >&2; exit 2; }
MEM_MB=${RUNWAY_SLURM_MEM_MB:-$(( $(node_memory_mb) / NODES ))}
node_name() { echo "$NODE_PREFIX$1"; }
node_addr() { echo "$SUBNET.$(( 10 + $1 ))"; }

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

# ------------------------------------------------------------------- network
# Idempotent: what exists is kept, what is missing is added.
ensure_network() {
  command -v ip >/dev/null || fail "the ip command (iproute2) is missing"
  ip link show "$BRIDGE" >/dev/null 2>&1 || ip link add "$BRIDGE" type bridge || fail "cannot create bridge $BRIDGE"
  ip -4 addr show dev "$BRIDGE" | grep -q "inet $CONTROLLER_ADDR/" \
    || ip addr add "$CONTROLLER_ADDR/24" dev "$BRIDGE" || fail "cannot give $BRIDGE the address $CONTROLLER_ADDR"
  ip link set "$BRIDGE" up
  local hosts i name addr veth
  hosts=$(printf '127.0.0.1 localhost\n%s %s\n' "$CONTROLLER_ADDR" "$CONTROLLER"
          for i in $(seq 1 "$NODES"); do printf '%s %s\n' "$(node_addr "$i")" "$(node_name "$i")"; done)
  for i in $(seq 1 "$NODES"); do
    name=$(node_name "$i"); addr=$(node_addr "$i"); veth=rwslurm-n$i
    [ -e "/run/netns/$name" ] || ip netns add "$name" || fail "cannot create network namespace $name"
    # deleting a namespace deletes its end of the pair, and so the pair
    ip link show "$veth" >/dev/null 2>&1 || ip link add "$veth" type veth peer name eth0 netns "$name" \
      || fail "cannot create the veth pair of $name"
    ip link set "$veth" master "$BRIDGE" && ip link set "$veth" up || fail "cannot attach $veth to $BRIDGE"
    ip netns exec "$name" ip link set lo up
    ip netns exec "$name" ip -4 addr show dev eth0 | grep -q "inet $addr/" \
      || ip netns exec "$name" ip addr add "$addr/24" dev eth0 || fail "cannot give $name the address $addr"
    ip netns exec "$name" ip link set eth0 up
    mkdir -p "/etc/netns/$name"
    printf '%s\n' "$hosts" | replace_if_different "/etc/netns/$name/hosts" 0644 || true
  done
  log "network: bridge $BRIDGE $CONTROLLER_ADDR, nodes $(for i in $(seq 1 "$NODES"); do printf '%s=%s ' "$(node_name "$i")" "$(node_addr "$i")"; done)"
}

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
# Written by Runway's scripts/slurm/start_slurm.sh: a test cluster of $NODES
# node(s), each slurmd in its own network namespace on bridge $BRIDGE.
ClusterName=$CLUSTER
SlurmctldHost=$CONTROLLER($CONTROLLER_ADDR)
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
# %n: each node's slurmd has its own spool, PID file and log
SlurmdSpoolDir=$STATE/spool/%n
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd-%n.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd-%n.log
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
$(for i in $(seq 1 "$NODES"); do
  echo "NodeName=$(node_name "$i") NodeAddr=$(node_addr "$i") NodeHostname=$(node_name "$i") CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN"
done)
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

# start_slurmd NAME: the node's slurmd inside its network namespace, with its
# own hostname (a UTS namespace) and /etc/hosts (a mount namespace)
start_slurmd() {
  local name=$1 pidfile=$STATE/slurmd-$1.pid
  if recorded_running "$pidfile" slurmd; then
    log "slurmd $name: already running, pid $(cat "$pidfile")"
    return
  fi
  mkdir -p "$STATE/spool/$name"
  # nsenter, not `ip netns exec`: that mounts a fresh /sys without the
  # cgroup tree that slurmd reads; the hosts file is bound by hand instead
  nsenter --net="/run/netns/$name" unshare --uts --mount --propagation slave /bin/sh -c \
    "mount --bind '/etc/netns/$name/hosts' /etc/hosts && hostname '$name' && exec slurmd -N '$name'" \
    < /dev/null >> "$STATE/log/slurmd-$name.start.log" 2>&1 || fail "slurmd $name did not start"
  retry_until 10 recorded_running "$pidfile" slurmd || fail "slurmd $name exited"
  log "slurmd $name: started, pid $(cat "$pidfile")"
}

# A node left down/drained by an earlier run is resumed; ready means it can
# take a job now.
node_ready() {
  local node_state
  node_state=$(sinfo -h -n "$1" -o '%t' 2>/dev/null) || return 1
  case "$node_state" in
    idle|mix|alloc|comp) return 0 ;;
    down*|drain*|drng*) scontrol update nodename="$1" state=resume >/dev/null 2>&1; return 1 ;;
    *) return 1 ;;
  esac
}
accounting_ready() { sacct -n -X -S now-1minute -o JobID >/dev/null; }

stop_slurmds() {
  local pidfile
  # slurmd.pid: the one host slurmd of the single-node cluster this script used to start
  for pidfile in "$STATE"/slurmd.pid "$STATE"/slurmd-*.pid; do
    [ -e "$pidfile" ] && stop_recorded "$pidfile" slurmd
  done
  return 0
}

ensure_network
start_munge
start_mariadb
if write_config; then
  log "configuration in $CONF_DIR changed: restarting the SLURM daemons"
  stop_slurmds
  stop_recorded "$STATE/slurmctld.pid" slurmctld
  stop_recorded "$STATE/slurmdbd.pid" slurmdbd
fi
start_slurmdbd
start_slurmctld
for i in $(seq 1 "$NODES"); do start_slurmd "$(node_name "$i")"; done

for i in $(seq 1 "$NODES"); do
  retry_until "$TIMEOUT" node_ready "$(node_name "$i")" || { sinfo -N -l || true; fail "node $(node_name "$i") is not ready"; }
done
retry_until "$TIMEOUT" accounting_ready || fail "sacct does not work"
log "cluster ready in $(since_start): $NODES node(s) $NODE_PREFIX[1-$NODES] with $CPUS CPUs and ${MEM_MB} MB each, partition $PARTITION, state in $STATE"
sinfo
