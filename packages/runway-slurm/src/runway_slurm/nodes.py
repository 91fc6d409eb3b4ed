"""The nodes a SLURM job runs on: where its ranks meet, and which hosts ran it.

Inside a job of several nodes, :func:`set_master_address` points
``MASTER_ADDR`` (where torch.distributed's ranks rendezvous; Lightning's
``SLURMEnvironment`` reads it) at the first node's ``NodeAddr`` as SLURM
knows it, so the ranks meet even where node names do not resolve to an
address that the other nodes reach. :func:`record_node` appends one line
per node and run (the node's first task writes it) to
``<submitit folder>/<job id>_nodes.jsonl``; :func:`job_nodes` reads it back
for ``runway status`` and the job's ``job_status`` answer.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runway.support.files import append_json_line, read_json_lines

NODES_SUFFIX = "_nodes.jsonl"
_QUERY_TIMEOUT_S = 30


def _scontrol(*args: str) -> str:
    try:
        done = subprocess.run(["scontrol", *args], capture_output=True, text=True, timeout=_QUERY_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout if done.returncode == 0 else ""


def job_hostnames(nodelist: str) -> list[str]:
    """``runway-node[1-2]`` -> ``["runway-node1", "runway-node2"]`` (``scontrol show hostnames``)."""
    return _scontrol("show", "hostnames", nodelist).split()


def node_address(node: str) -> str | None:
    """The ``NodeAddr`` that slurm.conf gives ``node`` (``scontrol show node``)."""
    match = re.search(r"\bNodeAddr=(\S+)", _scontrol("show", "node", "-o", node))
    return match.group(1) if match else None


def set_master_address(environ: dict[str, str] | None = None) -> str | None:
    """In a job of more than one node, set ``MASTER_ADDR`` to the first node's
    address; returns it (``None``: one node, or SLURM does not say)."""
    environ = os.environ if environ is None else environ
    nodes = environ.get("SLURM_JOB_NUM_NODES") or environ.get("SLURM_NNODES") or ""
    nodelist = environ.get("SLURM_JOB_NODELIST") or environ.get("SLURM_NODELIST")
    if not (nodes.isdigit() and int(nodes) > 1 and nodelist):
        return None
    hosts = job_hostnames(nodelist)
    if not hosts:
        return None
    address = node_address(hosts[0]) or hosts[0]
    environ["MASTER_ADDR"] = address
    return address


def nodes_file(folder: str | os.PathLike[str], job_id: str) -> Path:
    return Path(folder) / f"{job_id}{NODES_SUFFIX}"


def record_node(environ: Mapping[str, str] | None = None) -> Path | None:
    """Append this node's line (node index, SLURM's node name, the hostname,
    the address ranks meet at, the restart) when this task is the node's
    first; ``None`` outside a submitit SLURM job or on another task."""
    environ = os.environ if environ is None else environ
    folder, job_id = environ.get("SUBMITIT_FOLDER"), environ.get("SLURM_JOB_ID")
    if not folder or not job_id or environ.get("SLURM_LOCALID", "0") != "0":
        return None
    if environ.get("SLURM_ARRAY_JOB_ID") and environ.get("SLURM_ARRAY_TASK_ID"):
        job_id = f"{environ['SLURM_ARRAY_JOB_ID']}_{environ['SLURM_ARRAY_TASK_ID']}"
    line = {
        "job_id": job_id,
        "node_index": int(environ.get("SLURM_NODEID", "0") or 0),
        "slurm_node": environ.get("SLURMD_NODENAME"),
        "hostname": socket.gethostname(),
        "num_nodes": int(environ.get("SLURM_JOB_NUM_NODES", "1") or 1),
        "master_addr": environ.get("MASTER_ADDR"),
        "restart": int(environ.get("SLURM_RESTART_COUNT", "0") or 0),
    }
    return append_json_line(nodes_file(folder, job_id), line)


def job_nodes(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The node lines of a job record's job, oldest first (a torn line is skipped)."""
    if not record.get("folder") or not record.get("job_id"):
        return []
    try:
        return read_json_lines(nodes_file(str(record["folder"]), str(record["job_id"])))
    except OSError:
        return []


def job_hosts(record: Mapping[str, Any]) -> list[str]:
    """The hostnames that ran the job's latest run, by node index."""
    lines = job_nodes(record)
    if not lines:
        return []
    latest = max(line.get("restart", 0) for line in lines)
    by_index = {line.get("node_index", 0): line.get("hostname") for line in lines if line.get("restart", 0) == latest}
    return [str(by_index[index]) for index in sorted(by_index)]
