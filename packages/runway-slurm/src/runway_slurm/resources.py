"""The ``launcher.slurm`` config section: checking it and turning it into
submitit ``SlurmExecutor`` parameters.

Pure logic, no SLURM and no submitit needed, so that ``validate_config`` and
``--dry-run`` work on a laptop.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runway.errors import ConfigError, did_you_mean

SECTION = "launcher.slurm"

# Defaults chosen for the job, not for submitit: submitit's own default time
# limit (5 minutes) would kill any real training run.
DEFAULT_TIME_MINUTES = 60
# SLURM sends USR2 this many seconds before the time limit; submitit then
# checkpoints and requeues the job.
DEFAULT_SIGNAL_DELAY_S = 120
DEFAULT_MAX_TIMEOUTS = 3

_SCALAR = (str, int, float, bool)

# key -> (accepted types, description for messages)
KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "partition": ((str,), "a partition name"),
    "time": ((int, str), 'minutes (int) or "[D-]HH:MM:SS"'),
    "nodes": ((int,), "an integer >= 1"),
    "gpus_per_node": ((int,), "an integer >= 0"),
    "tasks_per_node": ((int,), "an integer >= 1"),
    "cpus_per_task": ((int,), "an integer >= 1"),
    "mem": ((int, str), 'memory per node: MB (int) or "4G", "512M"'),
    "account": ((str,), "an account name"),
    "qos": ((str,), "a QOS name"),
    "constraint": ((str,), "a node feature expression"),
    "job_name": ((str,), "a job name"),
    "setup": ((list,), "a list of shell lines run before the job (e.g. module load)"),
    "additional_parameters": ((dict,), "a mapping of extra sbatch options to values"),
    "signal_delay_s": ((int,), "seconds before the time limit at which SLURM sends USR2"),
    "max_timeouts": ((int,), "how often a timed-out job is requeued"),
    "array_parallelism": ((int,), "how many array tasks may run at once"),
    "pipeline_nodes": ((dict,), "a mapping of pipeline node names to the SLURM options of their `runway prepare` jobs"),
    "prepare_first": ((bool,), "true or false (true: a training job whose data is not cached submits the pipeline's node jobs first)"),
}
#: per-node settings of a pipeline submission; not an option of any one job
PIPELINE_NODES = "pipeline_nodes"

_MINIMUM = {
    "nodes": 1,
    "gpus_per_node": 0,
    "tasks_per_node": 1,
    "cpus_per_task": 1,
    "signal_delay_s": 0,
    "max_timeouts": 0,
    "array_parallelism": 1,
}

# SLURM's time formats: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S
_TIME_PATTERNS = [
    (re.compile(r"^(?P<m>\d+)$"), ("m",)),
    (re.compile(r"^(?P<m>\d+):(?P<s>\d+)$"), ("m", "s")),
    (re.compile(r"^(?P<h>\d+):(?P<m>\d+):(?P<s>\d+)$"), ("h", "m", "s")),
    (re.compile(r"^(?P<d>\d+)-(?P<h>\d+)$"), ("d", "h")),
    (re.compile(r"^(?P<d>\d+)-(?P<h>\d+):(?P<m>\d+)$"), ("d", "h", "m")),
    (re.compile(r"^(?P<d>\d+)-(?P<h>\d+):(?P<m>\d+):(?P<s>\d+)$"), ("d", "h", "m", "s")),
]
_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_MEM_PATTERN = re.compile(r"^\s*(?P<amount>\d+)\s*(?P<unit>[KMGT])?B?\s*$", re.IGNORECASE)


def parse_time_minutes(value: int | str) -> int:
    """A SLURM time limit in whole minutes (seconds round up).

    ``90`` and ``"90"`` are minutes; strings take SLURM's formats
    (``"MM:SS"``, ``"HH:MM:SS"``, ``"D-HH"``, ``"D-HH:MM"``, ``"D-HH:MM:SS"``).
    Raises ``ValueError`` for anything else or for a limit below one second.
    """
    if isinstance(value, bool):
        raise ValueError("expected minutes or a time string, got a boolean")
    if isinstance(value, int):
        seconds = value * 60
    else:
        text = value.strip()
        for pattern, parts in _TIME_PATTERNS:
            match = pattern.match(text)
            if match:
                seconds = sum(int(match.group(p)) * _SECONDS[p] for p in parts)
                break
        else:
            raise ValueError(f"{value!r} is not a SLURM time: use minutes or \"[D-]HH:MM:SS\"")
    if seconds <= 0:
        raise ValueError(f"{value!r} is not a positive time limit")
    return math.ceil(seconds / 60)


def parse_mem(value: int | str) -> str:
    """Memory per node in sbatch's ``--mem`` form: ``4096`` -> ``"4096M"``,
    ``"4G"``/``"4GB"``/``"4g"`` -> ``"4G"``. An int is megabytes, as in sbatch.
    """
    if isinstance(value, bool):
        raise ValueError("expected megabytes or a size such as \"4G\", got a boolean")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{value} is negative")
        return f"{value}M"
    match = _MEM_PATTERN.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a memory size: use megabytes or \"4G\", \"512M\"")
    return f"{int(match.group('amount'))}{(match.group('unit') or 'M').upper()}"


def check_section(section: Any, where: str = SECTION) -> list[str]:
    """Every problem in a ``launcher.slurm`` section, one sentence each."""
    if section is None:
        return []
    if not isinstance(section, Mapping):
        return [f"{where}: expected a mapping of SLURM options, got {type(section).__name__}"]
    problems: list[str] = []
    for key, value in section.items():
        spec = KEYS.get(key)
        if spec is None:
            problems.append(f"{where}.{key}: unknown key.{did_you_mean(key, KEYS)} Known keys: {', '.join(sorted(KEYS))}")
            continue
        types, description = spec
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            problems.append(f"{where}.{key}: expected {description}, got {value!r}")
            continue
        problems.extend(_check_value(f"{where}.{key}", key, value))
    if not problems and "time" in section:
        delay = section.get("signal_delay_s", DEFAULT_SIGNAL_DELAY_S)
        if delay >= parse_time_minutes(section["time"]) * 60:
            problems.append(
                f"{where}.signal_delay_s: {delay} s is not shorter than the time limit "
                f"{section['time']!r}; SLURM's warning would arrive before the job starts"
            )
    return problems


def pipeline_node_section(section: Mapping[str, Any] | None, node: str) -> dict[str, Any]:
    """The ``launcher.slurm`` options of pipeline node ``node``'s job: the
    section's own options (the default for all nodes; a training job's
    ``nodes``, tasks and GPUs excepted: a node job is one task), updated by
    ``pipeline_nodes[node]``."""
    section = {k: v for k, v in dict(section or {}).items() if k not in ("nodes", "tasks_per_node", "gpus_per_node", "prepare_first")}
    per_node = section.pop(PIPELINE_NODES, None) or {}
    return {**section, **dict(per_node.get(node) or {})}


def _check_value(path: str, key: str, value: Any) -> list[str]:
    if key in _MINIMUM and value < _MINIMUM[key]:
        return [f"{path}: expected {KEYS[key][1]}, got {value!r}"]
    if key == "time":
        try:
            parse_time_minutes(value)
        except ValueError as exc:
            return [f"{path}: {exc}"]
    if key == "mem":
        try:
            parse_mem(value)
        except ValueError as exc:
            return [f"{path}: {exc}"]
    if key == "setup":
        bad = [line for line in value if not isinstance(line, str)]
        if bad:
            return [f"{path}: every line must be a string, got {bad[0]!r}"]
    if key == "additional_parameters":
        for name, option in value.items():
            if not isinstance(option, _SCALAR):
                return [f"{path}.{name}: expected a string, number or boolean, got {option!r}"]
    if key == PIPELINE_NODES:
        problems: list[str] = []
        for node, options in value.items():
            if isinstance(options, Mapping) and PIPELINE_NODES in options:
                problems.append(f"{path}.{node}.{PIPELINE_NODES}: pipeline_nodes do not nest")
            else:
                problems.extend(check_section(options, f"{path}.{node}"))
        return problems
    if key in {"partition", "job_name", "account", "qos", "constraint"} and not value.strip():
        return [f"{path}: must not be empty"]
    return []


@dataclass(frozen=True)
class SlurmResources:
    """What a job asks SLURM for, checked and normalised."""

    time_minutes: int = DEFAULT_TIME_MINUTES
    partition: str | None = None
    nodes: int = 1
    gpus_per_node: int = 0
    tasks_per_node: int = 1
    cpus_per_task: int | None = None
    mem: str | None = None
    account: str | None = None
    qos: str | None = None
    constraint: str | None = None
    job_name: str | None = None
    setup: tuple[str, ...] = ()
    additional_parameters: dict[str, Any] = field(default_factory=dict)
    signal_delay_s: int = DEFAULT_SIGNAL_DELAY_S
    max_timeouts: int = DEFAULT_MAX_TIMEOUTS
    array_parallelism: int | None = None
    prepare_first: bool = False

    @classmethod
    def from_section(cls, section: Mapping[str, Any] | None, where: str = SECTION) -> "SlurmResources":
        """Build from a ``launcher.slurm`` section; raises ``ConfigError``
        listing every problem."""
        problems = check_section(section, where)
        if problems:
            raise ConfigError("invalid SLURM options:\n  " + "\n  ".join(problems))
        section = dict(section or {})
        gpus = section.get("gpus_per_node", 0)
        # One task per device is what Lightning's SLURMEnvironment expects.
        tasks = section.get("tasks_per_node", gpus if gpus > 0 else 1)
        return cls(
            time_minutes=parse_time_minutes(section.get("time", DEFAULT_TIME_MINUTES)),
            partition=section.get("partition"),
            nodes=section.get("nodes", 1),
            gpus_per_node=gpus,
            tasks_per_node=tasks,
            cpus_per_task=section.get("cpus_per_task"),
            mem=parse_mem(section["mem"]) if "mem" in section else None,
            account=section.get("account"),
            qos=section.get("qos"),
            constraint=section.get("constraint"),
            job_name=section.get("job_name"),
            setup=tuple(section.get("setup", ())),
            additional_parameters=dict(section.get("additional_parameters", {})),
            signal_delay_s=section.get("signal_delay_s", DEFAULT_SIGNAL_DELAY_S),
            max_timeouts=section.get("max_timeouts", DEFAULT_MAX_TIMEOUTS),
            array_parallelism=section.get("array_parallelism"),
            prepare_first=bool(section.get("prepare_first", False)),
        )

    @property
    def num_tasks(self) -> int:
        return self.nodes * self.tasks_per_node

    def executor_parameters(self, default_job_name: str) -> dict[str, Any]:
        """Keyword arguments for ``SlurmExecutor.update_parameters``."""
        params: dict[str, Any] = {
            "job_name": self.job_name or default_job_name,
            "time": self.time_minutes,
            "nodes": self.nodes,
            "ntasks_per_node": self.tasks_per_node,
            "signal_delay_s": self.signal_delay_s,
        }
        optional = {
            "partition": self.partition,
            "cpus_per_task": self.cpus_per_task,
            "gpus_per_node": self.gpus_per_node or None,
            "account": self.account,
            "qos": self.qos,
            "constraint": self.constraint,
            "array_parallelism": self.array_parallelism,
        }
        params.update({key: value for key, value in optional.items() if value is not None})
        if self.setup:
            params["setup"] = list(self.setup)
        extra = dict(self.additional_parameters)
        # submitit would read ``mem`` as gigabytes and round "1500M"; sbatch
        # takes the string as written.
        if self.mem is not None:
            extra.setdefault("mem", self.mem)
        if extra:
            params["additional_parameters"] = extra
        return params


# --------------------------------------------------------------------------
# The section against the trainer: one SLURM task per Lightning device.
# --------------------------------------------------------------------------

TRAINER_PARAS = "train.trainer_paras"


def _count_devices(devices: Any) -> int | None:
    """How many devices per node a ``devices`` setting names, or ``None``
    when Lightning decides at run time (``"auto"``, ``-1``)."""
    if isinstance(devices, bool):
        return None
    if isinstance(devices, int):
        return devices if devices > 0 else None
    if isinstance(devices, str) and devices.strip().isdigit():
        return int(devices) or None
    if isinstance(devices, str) and "," in devices:
        return len([d for d in devices.split(",") if d.strip()])
    if isinstance(devices, (list, tuple)):
        return len(devices) or None
    return None


def trainer_layout(config: Mapping[str, Any] | None) -> tuple[int | None, int | None, bool]:
    """``(devices per node, num_nodes, uses GPUs)`` from ``train.trainer_paras``;
    ``None`` where the config leaves it to Lightning."""
    train = (config or {}).get("train") if isinstance(config, Mapping) else None
    paras = train.get("trainer_paras") if isinstance(train, Mapping) else None
    if not isinstance(paras, Mapping):
        return None, None, False
    num_nodes = paras.get("num_nodes")
    num_nodes = num_nodes if isinstance(num_nodes, int) and not isinstance(num_nodes, bool) and num_nodes > 0 else None
    accelerator = str(paras.get("accelerator", "")).lower()
    return _count_devices(paras.get("devices")), num_nodes, accelerator in {"gpu", "cuda"}


def resources_for_job(section: Mapping[str, Any] | None, config: Mapping[str, Any] | None) -> SlurmResources:
    """The resources of a job whose experiment config is ``config``.

    Lightning's ``SLURMEnvironment`` runs one rank per SLURM task and checks
    that the tasks per node equal the trainer's ``devices`` (and the nodes
    its ``num_nodes``). So an absent ``tasks_per_node`` follows ``devices``,
    an absent ``nodes`` follows ``num_nodes``, ``gpus_per_node`` follows
    ``devices`` on a GPU accelerator; an absent ``num_nodes`` follows the
    job's nodes when it runs (``runway.launch.lightning_preemption``);
    settings that disagree are a ``ConfigError`` before anything is submitted.
    """
    section = dict(section or {})
    devices, num_nodes, on_gpus = trainer_layout(config)
    problems: list[str] = []
    if devices is not None:
        tasks = section.get("tasks_per_node")
        if tasks is None:
            section["tasks_per_node"] = devices
        elif tasks != devices:
            problems.append(
                f"{SECTION}.tasks_per_node is {tasks!r} but {TRAINER_PARAS}.devices asks for {devices} device(s) per node; "
                "Lightning runs one SLURM task per device: make them equal, or leave tasks_per_node out (it follows devices)"
            )
        gpus = section.get("gpus_per_node")
        if on_gpus and gpus is None:
            section["gpus_per_node"] = devices
        elif on_gpus and isinstance(gpus, int) and not isinstance(gpus, bool) and gpus < devices:
            problems.append(f"{SECTION}.gpus_per_node is {gpus} but {TRAINER_PARAS}.devices asks for {devices} GPUs per node")
    nodes = section.get("nodes")
    if nodes is None and num_nodes is not None:
        section["nodes"] = num_nodes
    elif nodes is not None and num_nodes is not None and nodes != num_nodes:
        problems.append(
            f"{SECTION}.nodes is {nodes!r} but {TRAINER_PARAS}.num_nodes is {num_nodes}; make them equal, "
            "or leave num_nodes out (it follows the job's nodes)"
        )
    if problems:
        raise ConfigError("SLURM options disagree with the trainer:\n  " + "\n  ".join(problems))
    return SlurmResources.from_section(section)
