#!/usr/bin/env bash
# stop_slurm.sh - stop the test cluster that start_slurm.sh started, and
# remove its network (the bridge rwslurm0, the veth pairs and the network
# namespaces runway-nodeN with their /etc/netns/runway-nodeN folders).
#
# Only the PIDs recorded under the state folder are signalled, and only while
# the process still carries the expected name (a PID may have been reused).
# Queued jobs are cancelled first so that no job step outlives slurmd.
#
# Environment:
#   RUNWAY_SLURM_STATE  the state folder of start_slurm.sh  (default /tmp/runway-slurm)
#   RUNWAY_SLURM_PURGE  1 = also delete the state folder (logs, job state, database)
set -uo pipefail

STATE=${RUNWAY_SLURM_STATE:-/tmp/runway-slurm}
log() { printf '[stop_slurm %(%H:%M:%S)T] %s\n' -1 "$*"; }

is_running() {
  local pid=$1 name=$2
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] || return 1
  ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null
}
recorded_running() { [ -s "$1" ] && is_running "$(cat "$1" 2>/dev/null)" "$2"; }

stop_recorded() {
  local pidfile=$1 name=$2 pid tick
  if ! recorded_running "$pidfile" "$name"; then rm -f "$pidfile"; return 0; fi
  pid=$(cat "$pidfile")
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for tick in $(seq 1 80); do
    is_running "$pid" "$name" || break
    sleep 0.25
  done
  if is_running "$pid" "$name"; then
    log "$name (pid $pid) ignored SIGTERM, killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

if recorded_running "$STATE/slurmctld.pid" slurmctld; then
  jobs=$(squeue -h -o '%A' 2>/dev/null | sort -u | tr '\n' ' ')
  if [ -n "${jobs// /}" ]; then
    log "cancelling jobs: $jobs"
    # shellcheck disable=SC2086  # one argument per job id
    scancel $jobs 2>/dev/null || true
    for tick in $(seq 1 60); do
      [ -z "$(squeue -h 2>/dev/null)" ] && break
      sleep 0.5
    done
  fi
fi

# reverse order of start_slurm.sh
for pidfile in "$STATE"/slurmd.pid "$STATE"/slurmd-*.pid; do
  [ -e "$pidfile" ] && stop_recorded "$pidfile" slurmd
done
stop_recorded "$STATE/slurmctld.pid" slurmctld
stop_recorded "$STATE/slurmdbd.pid" slurmdbd
stop_recorded "$STATE/mysql/mysqld.pid" mariadbd
# recorded only when start_slurm.sh started munged itself
stop_recorded "$STATE/munge/munged.pid" munged

# the network of start_slurm.sh: only names it creates
if command -v ip >/dev/null; then
  for ns in /run/netns/runway-node*; do
    [ -e "$ns" ] || continue
    name=${ns##*/}
    log "removing network namespace $name"
    ip netns delete "$name" 2>/dev/null || true
    rm -rf "/etc/netns/$name"
  done
  for veth in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep '^rwslurm-n[0-9]*$'); do
    ip link delete "$veth" 2>/dev/null || true
  done
  if ip link show rwslurm0 >/dev/null 2>&1; then
    log "removing bridge rwslurm0"
    ip link delete rwslurm0 2>/dev/null || true
  fi
  rmdir /etc/netns 2>/dev/null || true
fi

if [ "${RUNWAY_SLURM_PURGE:-0}" = 1 ]; then
  log "removing $STATE"
  rm -rf "$STATE"
fi
log "stopped"
