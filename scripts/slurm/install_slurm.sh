#!/usr/bin/env bash
# install_slurm.sh - install the Debian packages of the two-node SLURM test
# cluster (munge, slurmctld, slurmd, the client tools, slurmdbd and MariaDB for
# accounting, iproute2 for the nodes' network namespaces; see README.md here).
# Idempotent: does nothing when every package is installed.
#
# The packages' own init scripts must not start daemons during the install:
# start_slurm.sh starts them with the project's configuration instead. A
# policy-rc.d that exits 101 ("action forbidden") tells invoke-rc.d so.
# Must run as root (Debian 12 / bookworm: slurm-wlm 22.05, MariaDB 10.11).
set -euo pipefail

PACKAGES=(munge slurmctld slurmd slurm-client slurmdbd mariadb-server iproute2)
POLICY=/usr/sbin/policy-rc.d

log() { printf '[install_slurm %(%H:%M:%S)T] %s\n' -1 "$*"; }

if [ "$(id -u)" != 0 ]; then
  echo "install_slurm.sh must run as root" >&2
  exit 1
fi

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  log "already installed: ${PACKAGES[*]}"
  exit 0
fi

started=$(date +%s)
# Only remove a policy file that this script created; a container image may
# ship its own (Docker's does) and it must stay.
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$POLICY"
  chmod 0755 "$POLICY"
  trap 'rm -f "$POLICY"' EXIT
fi

export DEBIAN_FRONTEND=noninteractive
log "installing: ${missing[*]}"
apt-get update -q
apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
log "installed in $(( $(date +%s) - started )) s"
