"""The study a search keeps in its sweep folder, opened the same way by the sweeper and by each trial's job.

``<sweep folder>/optuna.json`` records how to open it: the study's name,
its storage, the sampler and the pruner with their options, the metric and
its direction. The storage is Optuna's journal file
(``<sweep folder>/optuna-journal.log``) unless ``--sweeper-opt storage=...``
names another journal file or an RDB URL (``sqlite:///...``,
``postgresql://...``). The journal takes a lock on each write that works on
a shared filesystem without a database server, so the tasks of a SLURM
array share one study through it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from runway.errors import ConfigError

SETTINGS_FILE = "optuna.json"
JOURNAL_FILE = "optuna-journal.log"

SAMPLERS = ("tpe", "random", "cmaes", "gp", "qmc", "nsgaii")
PRUNERS = ("median", "percentile", "hyperband", "successive_halving", "none")
# options of --sweeper-opt this plugin reads, and their defaults
DEFAULTS: dict[str, Any] = {
    "sampler": "tpe",
    "pruner": "median",
    "storage": None,
    "startup_trials": None,  # the sampler's random trials first (tpe's default is 10)
    "pruner_startup_trials": 2,  # trials that finish before any is pruned
    "pruner_warmup_epochs": 1,  # epochs of each trial that are never pruned
    "percentile": 25.0,
}


def is_url(storage: str) -> bool:
    return "://" in storage


def settings_for(search: Any) -> dict[str, Any]:
    """The study's settings from the search (checked); what :func:`open_study` needs in any process."""
    unknown = sorted(set(search.options) - set(DEFAULTS))
    if unknown:
        raise ConfigError(f"--sweeper-opt {', '.join(unknown)}: the optuna sweeper takes {', '.join(DEFAULTS)}")
    options = {**DEFAULTS, **search.options}
    sampler = str(options["sampler"]).lower()
    if sampler not in SAMPLERS:
        raise ConfigError(f"--sweeper-opt sampler={options['sampler']}: use one of {', '.join(SAMPLERS)}")
    pruner = str(options["pruner"]).lower()
    if pruner not in PRUNERS:
        raise ConfigError(f"--sweeper-opt pruner={options['pruner']}: use one of {', '.join(PRUNERS)}")
    storage = options["storage"]
    if storage is None:
        storage = str(Path(search.folder).resolve() / JOURNAL_FILE)
    elif not is_url(str(storage)):
        storage = str(Path(str(storage)).expanduser().resolve())
    if search.metric is None:
        raise ConfigError("--sweeper optuna needs --metric NAME (a validation metric, e.g. val/accuracy) and --direction max|min")
    if search.trials is None:
        raise ConfigError("--sweeper optuna needs --trials N: how many trials to finish")
    return {
        "study_name": search.sweep_id or "runway",
        "storage": str(storage),
        "sampler": sampler,
        "seed": search.seed,
        "startup_trials": options["startup_trials"],
        "pruner": pruner,
        "pruner_startup_trials": int(options["pruner_startup_trials"]),
        "pruner_warmup_epochs": int(options["pruner_warmup_epochs"]),
        "percentile": float(options["percentile"]),
        "metric": search.metric,
        "direction": search.direction,
    }


def write_settings(folder: Path, settings: dict[str, Any]) -> Path:
    path = Path(folder) / SETTINGS_FILE
    path.write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def read_settings(folder: Path) -> dict[str, Any]:
    return json.loads((Path(folder) / SETTINGS_FILE).read_text(encoding="utf-8"))


def make_storage(settings: dict[str, Any]) -> Any:
    import optuna

    storage = settings["storage"]
    if is_url(storage):
        return optuna.storages.RDBStorage(storage)
    from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

    Path(storage).parent.mkdir(parents=True, exist_ok=True)
    # the open(O_EXCL) lock works on NFS, where the default symlink lock may not
    return optuna.storages.JournalStorage(JournalFileBackend(storage, lock_obj=JournalFileOpenLock(storage)))


def make_sampler(settings: dict[str, Any]) -> Any:
    import optuna

    seed = settings.get("seed")
    name = settings["sampler"]
    startup = settings.get("startup_trials")
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, **({"n_startup_trials": int(startup)} if startup is not None else {}))
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed, **({"n_startup_trials": int(startup)} if startup is not None else {}))
    if name == "gp":
        return optuna.samplers.GPSampler(seed=seed, **({"n_startup_trials": int(startup)} if startup is not None else {}))
    if name == "qmc":
        return optuna.samplers.QMCSampler(seed=seed)
    return optuna.samplers.NSGAIISampler(seed=seed)


def make_pruner(settings: dict[str, Any]) -> Any:
    import optuna

    name = settings["pruner"]
    startup, warmup = settings["pruner_startup_trials"], settings["pruner_warmup_epochs"]
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=startup, n_warmup_steps=warmup)
    if name == "percentile":
        return optuna.pruners.PercentilePruner(settings["percentile"], n_startup_trials=startup, n_warmup_steps=warmup)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner()
    if name == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner()
    return optuna.pruners.NopPruner()


def open_study(settings: dict[str, Any], *, create: bool = False) -> Any:
    """The study (created when ``create`` and it does not exist yet), with its sampler and pruner."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = make_storage(settings)
    direction = "maximize" if settings["direction"] == "max" else "minimize"
    if create:
        return optuna.create_study(
            study_name=settings["study_name"], storage=storage, sampler=make_sampler(settings),
            pruner=make_pruner(settings), direction=direction, load_if_exists=True,
        )
    return optuna.load_study(study_name=settings["study_name"], storage=storage, sampler=make_sampler(settings), pruner=make_pruner(settings))
