"""Every hook that Runway calls, in one place.

Plugins implement these with ``@runway.hookimpl`` in the module that their
``[project.entry-points.runway]`` stanza names. The entry-point name is the
plugin's name everywhere: ``--logger NAME``, ``--launcher NAME``, its config
section and ``RUNWAY_PLUGINS_BLOCK``.

Each docstring says when the hook is called, what it receives, what it
returns (and what ``None`` means) and how the results are combined.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import pluggy

if TYPE_CHECKING:  # heavy or circular types only for the type checker
    from lightning.pytorch import LightningModule

    from runway.launch.job import Job, JobHandle
    from runway.logging.run import Run

PROJECT_NAME = "runway"
#: the attribute ``@hookimpl`` sets on a hook function (pluggy's ``<project>_impl``)
IMPL_ATTRIBUTE = f"{PROJECT_NAME}_impl"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# --------------------------------------------------------------------------
# The four hooks of the public API. Their signatures are fixed.
# --------------------------------------------------------------------------


@hookspec
def register_transforms(register: Callable[..., None]) -> None:
    """Contribute data-pipeline transforms.

    When: once per plugin manager, the first time the transform registry is
    needed (``runway prepare``, ``runway train``, ``runway pipeline ...``).

    :param register: ``register(cls)`` or ``register(cls, name="Alias")`` for
        each ``runway.Transform`` subclass (or plain function). The registered
        name is the class name unless ``name=`` says otherwise; it is the
        ``transform_name`` used in configs.
    :returns: nothing; registration happens through ``register``.

    How: called on every plugin. A name registered by two plugins is an error
    that names both.
    """


@hookspec(firstresult=True)
def build_executor(name: str, config: dict, context: Any) -> LightningModule | None:
    """Build the executor (a ``LightningModule``) that an experiment asks for.

    When: before training, inference or evaluation of an experiment.

    :param name: the executor name from the config (``executor.name``, or a
        ``class_path``).
    :param config: the whole resolved experiment config.
    :param context: the ``runway.experiment.ExecutorContext`` of the run
        (experiment folder, data loaders by split, the plugin manager).
    :returns: the module, or ``None`` when ``name`` is not this plugin's.

    How: first non-``None`` result wins; core's built-in executor plugin is
    called last, so an installed plugin can take over any name.
    """


@hookspec
def log_metrics(run: Run, metrics: dict[str, float], step: int | None) -> None:
    """Record metrics with a logging backend.

    When: for every metric Runway records: training metrics through the
    Lightning logger that forwards here, evaluation metrics and pipeline
    statistics directly.

    :param run: the ``runway.logging.Run`` (experiment, version, folder,
        config, tags, job type, and ``run.state(plugin_name)`` for ids that
        must survive a requeue).
    :param metrics: metric name to value.
    :param step: the global step, or ``None`` for metrics with no step.
    :returns: nothing.

    How: called only on the logger plugins that the run enables (a
    ``subset_hook_caller``); an exception in one backend is caught and turned
    into a warning so that it never stops training.
    """


@hookspec(firstresult=True)
def launch_job(job: Job, launcher: str) -> JobHandle | None:
    """Run a job with the launcher named by ``--launcher``.

    When: ``runway train``, ``run``, ``infer``, ``eval`` and ``sweep``, once
    the experiment version is allocated.

    :param job: the ``runway.launch.Job``: the command to run, the experiment
        version it belongs to and the resources it asks for.
    :param launcher: the launcher name asked for (``local``, ``slurm``, ...).
    :returns: a ``JobHandle``, or ``None`` when ``launcher`` is not this
        plugin's name.

    How: first non-``None`` result wins.
    """


# --------------------------------------------------------------------------
# Lifecycle and registration hooks around them.
# --------------------------------------------------------------------------


@hookspec
def logger_start_run(run: Run) -> None:
    """A logging backend opens (or resumes) its run.

    When: once per process before the first ``log_metrics`` of a run, with
    ``run.config`` (the resolved config, secrets redacted) and ``run.tags``.

    :param run: the ``runway.logging.Run``.
    :returns: nothing.

    How: called on the enabled logger plugins only; failures become warnings.
    """


@hookspec
def logger_finish_run(run: Run, status: str) -> None:
    """A logging backend closes its run.

    When: once per process after the last metric of a run.

    :param run: the ``runway.logging.Run``.
    :param status: ``completed``, ``failed`` or ``interrupted``.
    :returns: nothing.

    How: called on the enabled logger plugins only; failures become warnings.
    """


@hookspec
def log_artifact(run: Run, path: str, name: str) -> None:
    """Hand a file (config, provenance, ``metrics.json``) to the backends.

    When: after the file is written in the experiment folder.

    :param run: the ``runway.logging.Run``.
    :param path: absolute path of the file.
    :param name: its name relative to the experiment version folder.
    :returns: nothing.

    How: called on the enabled logger plugins only; failures become warnings.
    """


@hookspec
def register_metrics(register: Callable[..., None]) -> None:
    """Contribute evaluation metrics.

    When: once per plugin manager, the first time ``runway eval`` needs them.

    :param register: ``register(fn)`` or ``register(fn, name="f1")``; ``fn``
        takes ``(predictions, targets)`` (two equal-length lists) and returns a
        float or a ``dict[str, float]``.
    :returns: nothing.

    How: called on every plugin; a duplicate name is an error naming both.
    """


@hookspec
def register_cache_formats(register: Callable[..., None]) -> None:
    """Contribute formats in which pipeline outputs are cached.

    When: once per plugin manager, before the first cache write or read.

    :param register: ``register(fmt)`` for each object with ``name``,
        ``priority`` (higher is asked first), ``accepts(obj) -> bool``,
        ``save(obj, folder)`` and ``load(folder) -> obj``.
    :returns: nothing.

    How: called on every plugin; on save the accepting format with the
    highest priority wins.
    """


@hookspec(firstresult=True)
def summarize_data(data: Any) -> dict | None:
    """Describe a pipeline value for ``inspect: true`` and the inspector.

    When: before and after a node whose config says ``inspect: true``.

    :param data: the value entering or leaving a transform.
    :returns: a dict of summary fields (``type``, ``length``, ``fields``,
        ``rows`` ...), or ``None`` to let another plugin describe it.

    How: first non-``None`` result wins; core's generic summary is last.
    """


@hookspec
def validate_config(config: dict) -> list[str] | None:
    """Check the part of an experiment config that a plugin owns.

    When: after a config is evaluated and overridden, before anything runs.

    :param config: the whole resolved config (read it, do not change it).
    :returns: a list of problems, each a sentence naming the key
        (``"launcher.slurm.time: expected HH:MM:SS"``), or ``None``/``[]``.

    How: called on every plugin; all problems are reported together.
    """


# --------------------------------------------------------------------------
# Following launched jobs: ``runway status/cancel/logs NAME`` hand each
# record of ``<version_dir>/jobs.jsonl`` to these.
# --------------------------------------------------------------------------


@hookspec(firstresult=True)
def job_status(record: dict) -> dict | None:
    """Report the state of a job that a launcher submitted.

    When: ``runway status NAME``, once per record in the version's
    ``jobs.jsonl``.

    :param record: one ``jobs.jsonl`` line as a dict: ``launcher``,
        ``job_id``, ``submitted``, ``argv``, ``command``, ``folder`` and the
        launcher's own keys.
    :returns: a dict with at least ``state`` (the launcher's word for it,
        e.g. ``PENDING``, ``RUNNING``, ``COMPLETED``, ``FAILED``), optionally
        ``final`` (``True`` once the job will not run again) and ``failed``
        (``True`` when it ended in failure), and, when the job failed,
        ``stderr_tail``; or ``None`` when ``record["launcher"]`` is not this
        plugin's.

    How: first non-``None`` result wins.
    """


@hookspec(firstresult=True)
def cancel_job(record: dict) -> bool | None:
    """Cancel a job that a launcher submitted.

    When: ``runway cancel NAME``, for each record whose job may still run.

    :param record: one ``jobs.jsonl`` line as a dict (see ``job_status``).
    :returns: ``True`` when a cancel request reached a pending or running
        job, ``False`` when the job had already ended, ``None`` when
        ``record["launcher"]`` is not this plugin's.

    How: first non-``None`` result wins.
    """


@hookspec(firstresult=True)
def job_logs(record: dict) -> str | None:
    """Return the output that a submitted job has written so far.

    When: ``runway logs NAME``, for the records it shows.

    :param record: one ``jobs.jsonl`` line as a dict (see ``job_status``).
    :returns: the job's stdout and stderr as text (empty when nothing was
        written yet), or ``None`` when ``record["launcher"]`` is not this
        plugin's.

    How: first non-``None`` result wins.
    """


# --------------------------------------------------------------------------
# Sweeps: many versions handed to a launcher at once.
# --------------------------------------------------------------------------


@hookspec(firstresult=True)
def launch_array(jobs: list[Job], launcher: str, folder: str) -> list[JobHandle] | None:
    """Submit the points of a sweep together, as one job array.

    When: ``runway sweep NAME --launcher L`` (and ``runway sweep resume``)
    with a launcher other than ``local``, once every point's experiment
    version is allocated. When no plugin answers, each job goes to
    ``launch_job`` on its own instead.

    :param jobs: one ``runway.launch.Job`` per point, in point order, each
        with ``wait=False``; they share the resources of the first.
    :param launcher: the launcher name asked for (``slurm``, ...).
    :param folder: a folder of the sweep's own where the launcher may keep
        the array's files (scripts, logs).
    :returns: one ``JobHandle`` per job, in the same order (``state``
        ``submitted``, ``job_id`` the launcher's id of that array task, and
        ``info["record"]`` the dict that ``job_status`` takes), or ``None``
        when ``launcher`` is not this plugin's or it cannot submit arrays.

    How: first non-``None`` result wins.
    """


# --------------------------------------------------------------------------
# Reading a submitted job's output files (``runway logs --stderr/--follow``).
# --------------------------------------------------------------------------


@hookspec(firstresult=True)
def job_log_files(record: dict) -> dict[str, str] | None:
    """Name the files a submitted job writes its output to.

    When: ``runway logs NAME`` with ``--stderr`` or ``--follow``, which read
    (and keep reading) the files themselves; without this hook they fall
    back to ``job_logs``.

    :param record: one ``jobs.jsonl`` line as a dict (see ``job_status``).
    :returns: ``{"stdout": path, "stderr": path}`` for the job's first task
        (the files need not exist yet), or ``None`` when
        ``record["launcher"]`` is not this plugin's.

    How: first non-``None`` result wins.
    """


# --------------------------------------------------------------------------
# Extending the search and the command line.
# --------------------------------------------------------------------------


@hookspec
def register_sweepers(register: Callable[..., None]) -> None:
    """Contribute sweepers: strategies that propose a sweep's points.

    When: once per plugin manager, the first time ``runway sweep`` (start,
    resume or status) needs the sweeper registry.

    :param register: ``register(factory, name="optuna")`` for each sweeper.
        ``factory(search)`` receives the ``runway.sweep.sweepers.Search`` (the
        parsed ``--opts`` axes, ``trials``, ``metric``, ``direction``,
        ``seed``, ``options`` from ``--sweeper-opt``, the sweep's own folder)
        and returns an object with ``ask(count) -> list[Proposal]`` (up to
        ``count`` new points; ``[]`` when it proposes no more) and
        ``tell(proposal, result)`` (the point's ``TrialResult`` once its
        version has ended); see :mod:`runway.sweep.sweepers`.
    :returns: nothing; registration happens through ``register``.

    How: called on every plugin; core's ``grid`` and ``random`` are built-in
    sweepers registered the same way. A name registered by two plugins is an
    error that names both.
    """


@hookspec
def register_commands(register: Callable[..., None]) -> None:
    """Add commands (or command groups) to the ``runway`` command line.

    When: when ``runway`` lists its commands (``runway --help``, ``runway
    plugins``) or is asked for one that is not core's. The answers are
    cached, keyed on the installed distributions and the registering
    modules' files, so ``runway --help`` does not import plugins each time.

    :param register: ``register(name, target, help)``: ``name`` is the
        command (``runway NAME``), ``target`` a ``"module:attribute"`` string
        naming a ``click.Command`` (imported only when the command runs, so
        the plugin module stays light) and ``help`` the one line that
        ``runway --help`` shows.
    :returns: nothing; registration happens through ``register``.

    How: called on every plugin. A name that core's commands or another
    plugin already use is refused with an error that names both.
    """
