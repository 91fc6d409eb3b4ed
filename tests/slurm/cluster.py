"""The local SLURM test cluster (two nodes, see scripts/slurm/README.md), for
any test suite that needs one.

A suite's ``conftest.py`` takes the fixture with::

    from cluster import slurm_cluster  # noqa: F401  (tests/slurm on sys.path)

Where ``sbatch`` exists the fixture reuses a running cluster or starts one
with ``scripts/slurm/start_slurm.sh``. Where SLURM is not installed it skips,
except under CI (``CI=true``), where a missing cluster fails the tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
START_SCRIPT = REPO_ROOT / "scripts" / "slurm" / "start_slurm.sh"
INSTALL_HINT = "sudo bash scripts/slurm/install_slurm.sh && sudo bash scripts/slurm/start_slurm.sh"
START_TIMEOUT_S = 300


class ClusterUnavailable(Exception):
    """SLURM is installed but the cluster cannot be started or reached."""


@dataclass(frozen=True)
class SlurmCluster:
    """What tests need to size their jobs to the nodes (``cpus`` and
    ``memory_mb`` are each node's; ``node`` is the first of ``nodes``)."""

    partition: str
    node: str
    cpus: int
    memory_mb: int
    state_dir: Path
    nodes: tuple[str, ...] = ()


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def state_dir() -> Path:
    return Path(os.environ.get("RUNWAY_SLURM_STATE", "/tmp/runway-slurm"))


def slurm_installed() -> bool:
    return all(shutil.which(tool) for tool in ("sbatch", "srun", "squeue", "sacct", "scontrol", "sinfo"))


def _ok(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=20, check=False).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def cluster_ready() -> bool:
    """The controller answers, every node takes jobs and accounting works
    (a node that is down is started again by the start script)."""
    if not (_ok(["scontrol", "ping"]) and _ok(["sacct", "-n", "-X", "-S", "now-1minute", "-o", "JobID"])):
        return False
    states = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, check=False).stdout.split()
    return bool(states) and all(state in {"idle", "mix", "alloc", "comp"} for state in states)


def describe_cluster() -> SlurmCluster:
    """The default partition and its nodes, read from ``sinfo``."""
    out = subprocess.run(
        ["sinfo", "-h", "-N", "-o", "%P|%N|%c|%m"], capture_output=True, text=True, check=True
    ).stdout
    rows = [line.split("|") for line in out.splitlines() if line.strip()]
    default = [row for row in rows if row[0].endswith("*")] or rows
    partition, node, cpus, memory = default[0]
    nodes = tuple(sorted({row[1] for row in default}))
    return SlurmCluster(partition.rstrip("*"), node, int(cpus), int(memory.rstrip("+")), state_dir(), nodes)


def start_cluster() -> None:
    """Run the start script; raise ``ClusterUnavailable`` with its output."""
    if os.geteuid() != 0:
        raise ClusterUnavailable(f"SLURM is installed but not running, and starting it needs root: {INSTALL_HINT}")
    # a file, not a pipe: the daemons the script starts outlive it
    with tempfile.TemporaryFile(mode="w+") as log:
        try:
            code = subprocess.run(
                ["bash", str(START_SCRIPT)], stdout=log, stderr=subprocess.STDOUT, timeout=START_TIMEOUT_S, check=False
            ).returncode
        except subprocess.TimeoutExpired:
            code = None
        log.seek(0)
        output = log.read()
    if code != 0:
        raise ClusterUnavailable(f"{START_SCRIPT} failed (exit {code}):\n{output[-3000:]}")


def ensure_cluster() -> SlurmCluster:
    """A ready cluster: the running one, or one started now."""
    if not cluster_ready():
        start_cluster()
        if not cluster_ready():
            raise ClusterUnavailable("start_slurm.sh succeeded but the cluster does not answer")
    return describe_cluster()


@pytest.fixture(scope="session")
def slurm_cluster() -> SlurmCluster:
    """The local SLURM cluster (started on first use, left running)."""
    if not slurm_installed():
        reason = f"SLURM is not installed (no sbatch on PATH); to run these tests: {INSTALL_HINT}"
        if in_ci():
            pytest.fail(f"CI is set and {reason}", pytrace=False)
        pytest.skip(reason)
    try:
        return ensure_cluster()
    except ClusterUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)


@contextmanager
def cluster_turn(*, exclusive: bool) -> Iterator[None]:
    """Hold the cluster for one test: shared with other tests, or ``exclusive`` for one that stops
    the controller (a job that ends while ``slurmctld`` is down can stay RUNNING in its records,
    so no other test's job may be running then). A file lock, so that it holds across xdist workers."""
    import fcntl

    folder = state_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "tests.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
