"""Rewriting a runway_for_ml config (evaluated to a dict) into Runway's form.

:func:`migrate_config` returns the new config and one :class:`Change` per
key it touched. Nothing is lost: a value that Runway has no place for moves
under the top-level key ``_seed`` (``_``-keys are the user's and never
checked), at its old path, so it can still be read or deleted by hand.

Where the seed named its executor by a registry name
(``executor.ExecutorClass``), the project's code folders are searched for
a class of that name: one match becomes ``executor.class_path`` (so the
ported class runs as a plain ``LightningModule``), otherwise it becomes
``executor.name`` (a class registered with ``@runway.register_executor``).
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runway.config.overrides import copy_json
from runway.config.validation import SECTIONS

#: where values without a Runway equivalent are kept
KEEP_SECTION = "_seed"

#: the seed's loggers that Runway has no plugin for (csv is always on)
_UNSUPPORTED_LOGGERS = {
    "metrics_history": "Runway records every logged metric in train/logs/metrics.csv (the csv logger)",
}
_WANDB_RENAMES = {"PROJECT_NAME": "project", "USER_NAME": "entity", "project": "project", "entity": "entity", "tags": "tags"}
_EVAL_KEYS = ("pipeline_config", "valid_eval_pipeline_config", "eval_op_name", "setup_kwargs")
_META_DROPPED = {
    "DATA_FOLDER": "paths in setup_kwargs are relative to the project root",
    "TENSORBOARD_FOLDER": "metrics go to the enabled loggers",
    "platform_type": "no equivalent",
    "ignore_pretrained_weights": "no equivalent",
    "cuda": "choose devices with train.trainer_paras.accelerator/devices",
    "gpu_device": "choose devices with train.trainer_paras.accelerator/devices",
}
#: the seed's own eval-pipeline transforms and what does their work in Runway's eval
_SEED_EVAL_TRANSFORMS = {
    "GetEvaluationRecorder": "Runway's eval reads the test run's records (experiments/NAME_V<n>/test-SUFFIX/)",
    "MergeAllEvalRecorderAndSave": "Runway's eval writes the metrics to test-SUFFIX/metrics.json",
    "RunwayDisplayEvalResults": "`runway show NAME` and `runway compare` print the metrics",
    "UploadToWandb": "with loggers: ['wandb'], the eval metrics reach W&B through the logger",
}

#: where a seed node's setup_kwargs need a word (the transform keeps the seed's meaning)
_HUB_LOADERS = ("LoadHFDataset",)

_PIPELINE_DROPPED = {
    "DataPipelineLib": "the pipeline is Runway's",
    "DataPipelineClass": "the pipeline is Runway's",
    "inspector_config": "inspect: true on a node prints summaries",
}


@dataclass(frozen=True)
class Change:
    """One key that the migration touched.

    ``new`` is the Runway key (``None`` when the value moved under ``_seed``);
    ``todo`` marks something the user still has to do by hand.
    """

    old: str
    new: str | None
    note: str = ""
    todo: bool = False

    def line(self) -> str:
        """``old -> new (note)``, ``- old: kept under _seed.old (note)`` or ``! key: note``."""
        if self.todo:
            return f"! {self.old}: {self.note}"
        if self.new is None:
            return f"- {self.old}: no Runway equivalent, kept under {KEEP_SECTION}.{self.old}" + (
                f" ({self.note})" if self.note else ""
            )
        if self.new == self.old:
            return f"~ {self.old}: {self.note}"
        return f"{self.old} -> {self.new}" + (f" ({self.note})" if self.note else "")


@dataclass
class Migration:
    """The migrated config and the changes, in the order they were made."""

    config: dict[str, Any]
    changes: list[Change] = field(default_factory=list)

    @property
    def todos(self) -> list[Change]:
        return [c for c in self.changes if c.todo]

    def lines(self) -> list[str]:
        return [c.line() for c in self.changes]


# --------------------------------------------------------------------------- dict paths


def _get(tree: Mapping[str, Any], path: str) -> Any:
    node: Any = tree
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _has(tree: Mapping[str, Any], path: str) -> bool:
    node: Any = tree
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def _pop(tree: dict[str, Any], path: str) -> Any:
    *parents, last = path.split(".")
    node: Any = tree
    for part in parents:
        node = node[part]
    return node.pop(last)


def _set(tree: dict[str, Any], path: str, value: Any) -> None:
    """Set ``path``; objects already there are merged (the existing keys win)."""
    *parents, last = path.split(".")
    node = tree
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    existing = node.get(last)
    if isinstance(existing, dict) and isinstance(value, dict):
        node[last] = {**value, **existing}
    else:
        node[last] = value


class _Migrator:
    def __init__(self, config: Mapping[str, Any], project: Any) -> None:
        self.config: dict[str, Any] = copy_json(dict(config))
        self.project = project
        self.changes: list[Change] = []
        self.seed_form = False
        self._setups: dict[str, list[str]] | None = None

    # ---- primitives ----------------------------------------------------------

    def move(self, old: str, new: str, note: str = "", value: Any = None) -> None:
        taken = _pop(self.config, old)
        _set(self.config, new, taken if value is None else value)
        self.changes.append(Change(old, new, note))

    def keep(self, old: str, note: str = "") -> None:
        """Move a value with no equivalent under ``_seed``, at its old path."""
        _set(self.config, f"{KEEP_SECTION}.{old}", _pop(self.config, old))
        self.changes.append(Change(old, None, note))

    def todo(self, key: str, note: str) -> None:
        self.changes.append(Change(key, key, note, todo=True))

    def drop_if_empty(self, section: str) -> None:
        if _has(self.config, section) and _get(self.config, section) == {}:
            _pop(self.config, section)

    def _class_path_executor(self) -> bool:
        name = _get(self.config, "executor.ExecutorClass")
        if name is None or self.project is None:
            return _has(self.config, "executor.class_path")
        found = find_classes(self.project, str(name))
        return len(found) == 1 and not derives_from_seed_executor(self.project, str(name))

    # ---- sections --------------------------------------------------------------

    def run(self) -> Migration:
        self.top_level()
        self.executor()
        self.train_and_test()
        self.meta()
        self.data_pipeline()
        self.evaluation()
        self.unread_keys()
        self.unknown_top_level()
        for section in ("executor", "train", "test", "eval"):
            self.drop_if_empty(section)
        return Migration(self.config, self.changes)

    def top_level(self) -> None:
        c = self.config
        if "meta_config" in c:
            self.move("meta_config", "meta")
        if "experiment_name" in c:
            self.keep(
                "experiment_name",
                f"was {c['experiment_name']!r}; the experiment's name is NAME in `runway train NAME`, "
                "the name of its file in configs/experiments/",
            )
        if "test_suffix" in c:
            self.move("test_suffix", "test.suffix", "the suffix `runway run` tests under; `runway infer NAME SUFFIX` names its own")
        if "exp_version" in c:
            self.keep("exp_version", "choose the version with --version N")

    def executor(self) -> None:
        c = self.config
        if "tokenizer_config" in c and not self._class_path_executor():
            self.keep("tokenizer_config", "read by seed code as global_config.tokenizer_config")
        elif "tokenizer_config" in c:
            self.move("tokenizer_config", "executor.init_args.tokenizer_config", "the executor builds its tokenizer from it")
        converted = _has(c, "executor.ExecutorClass")
        seed_form = False
        if converted:
            name = _get(c, "executor.ExecutorClass")
            found = find_classes(self.project, str(name)) if self.project is not None else []
            if len(found) == 1 and self.project is not None and derives_from_seed_executor(self.project, str(name)):
                seed_form = True
                self.move(
                    "executor.ExecutorClass", "executor.name",
                    f"found in {found[0][1]}, built on the seed's BaseExecutor: run by runway.compat's executor",
                )
            elif len(found) == 1:
                self.move("executor.ExecutorClass", "executor.class_path", f"found in {found[0][1]}", value=found[0][0])
            else:
                where = (
                    f"several classes of that name: {', '.join(p for p, _ in found)}; set executor.class_path to one"
                    if found
                    else "register the class with @runway.register_executor, or set executor.class_path"
                )
                self.move("executor.ExecutorClass", "executor.name", where)
        by_class = _has(c, "executor.class_path")
        if _has(c, "executor.init_kwargs"):
            kwargs = dict(_get(c, "executor.init_kwargs") or {})
            node = kwargs.get("use_data_node")
            if isinstance(node, str) and node and not _has(c, "executor.data"):
                _set(c, "executor.data", {"train": node, "test": node})
                self.changes.append(Change(
                    "executor.init_kwargs.use_data_node", "executor.data",
                    f"train and test read {node!r}" + ("" if seed_form else "; pick a split of a dict output with {node, item}"),
                ))
            if by_class:
                self.move("executor.init_kwargs", "executor.init_args", "the constructor's keyword arguments")
            else:
                self.keep(
                    "executor.init_kwargs",
                    "the seed executor's constructor arguments, passed to it by runway.compat" if seed_form
                    else "only an executor.class_path module takes constructor arguments (executor.init_args)",
                )
        model_target = "executor.init_args.model_config" if by_class else "executor.model"
        if _has(c, "executor.model_config"):
            self.move("executor.model_config", model_target)
        if "model_config" in c:
            if _has(c, model_target):
                self.keep("model_config", "executor.model_config was used instead")
            else:
                self.move("model_config", model_target, "" if by_class else "the executor's model_config")
        if converted and not _has(c, "executor.data") and "datamodule" not in c:
            self.todo(
                "executor.data",
                "name the pipeline outputs to train and test on, e.g. {train: 'output:train', test: 'output:test'}, "
                "or add a datamodule {class_path, init_args}",
            )
        self.seed_form = seed_form

    def train_and_test(self) -> None:
        c = self.config
        by_class = _has(c, "executor.class_path")
        if _has(c, "train.optimizer_config"):
            spec = _get(c, "train.optimizer_config")
            if by_class or not isinstance(spec, Mapping):
                self.keep("train.optimizer_config", "a class_path module configures its own optimizers (configure_optimizers)")
            else:
                optimizer = {"name": spec.get("optimizer_name", "AdamW"), **(spec.get("optimizer_params") or {})}
                self.move("train.optimizer_config", "executor.optimizer", "optimizer_name -> name, optimizer_params inlined", value=optimizer)
                scheduler = spec.get("scheduler")
                if isinstance(scheduler, str):
                    params = dict(spec.get("scheduler_params") or {})
                    if "num_warmup_steps" in params:
                        params["warmup_steps"] = params.pop("num_warmup_steps")
                    _set(c, "executor.scheduler", {"name": scheduler, **params})
                    self.changes.append(Change("train.optimizer_config.scheduler", "executor.scheduler"))
        if _has(c, "train.model_checkpoint_callback_paras"):
            paras = dict(_get(c, "train.model_checkpoint_callback_paras") or {})
            for old, new in (("monitor", "train.monitor"), ("mode", "train.monitor_mode")):
                if paras.get(old) is not None:
                    _set(c, new, paras.pop(old))
                    self.changes.append(Change(f"train.model_checkpoint_callback_paras.{old}", new))
                else:
                    paras.pop(old, None)
            _set(c, "train.model_checkpoint_callback_paras", paras)
            keep_all = paras.get("save_top_k") == -1
            if keep_all and self.seed_form:
                self.keep(
                    "train.model_checkpoint_callback_paras",
                    f"save_top_k: -1: runway.compat's executor also keeps a checkpoint per validation, named "
                    f"{paras.get('filename') or 'epoch={epoch}-step={step}'}.ckpt, beside best.ckpt and last.ckpt",
                )
            elif paras:
                self.keep("train.model_checkpoint_callback_paras", "Runway keeps best.ckpt (by train.monitor) and last.ckpt")
                if keep_all:
                    self.todo(
                        "train.model_checkpoint_callback_paras.save_top_k",
                        "-1 (every checkpoint) is not kept by Runway for this executor: only best.ckpt and last.ckpt exist; "
                        "add a lightning ModelCheckpoint subclass in the module's configure_callbacks() if you need them all",
                    )
            else:
                _pop(c, "train.model_checkpoint_callback_paras")
        if _has(c, "train.trainer_fit_paras"):
            self.keep("train.trainer_fit_paras", "Runway passes the fit arguments; resume with `runway train --resume`")
        if _has(c, "test.checkpoint_name"):
            name = str(_get(c, "test.checkpoint_name"))
            which = {"last.ckpt": "last", "best.ckpt": "best"}.get(name, name)
            self.keep("test.checkpoint_name", f"was {name!r}: `runway infer NAME SUFFIX --checkpoint {which}`")
            kept = _get(c, f"{KEEP_SECTION}.train.model_checkpoint_callback_paras") or {}
            if which not in ("last", "best") and not (self.seed_form and kept.get("save_top_k") == -1):
                self.todo("test.checkpoint_name", f"{name!r} will not exist: Runway writes best.ckpt and last.ckpt")
        if _has(c, "test.trainer_paras"):
            self.keep("test.trainer_paras", "inference uses train.trainer_paras' accelerator")

    def meta(self) -> None:
        c = self.config
        if _has(c, "meta.logger_enable"):
            enabled = _get(c, "meta.logger_enable") or []
            if isinstance(enabled, str):
                enabled = [enabled]
            kept = [str(n) for n in enabled if n != "csv" and n not in _UNSUPPORTED_LOGGERS]
            notes = ["csv is always on"] + [
                f"{n!r} dropped: {_UNSUPPORTED_LOGGERS[n]}" for n in enabled if n in _UNSUPPORTED_LOGGERS
            ]
            if "tensorboard" in kept:
                notes.append("tensorboard needs the tensorboard package (pip install 'runway-core[tensorboard]')")
            self.move("meta.logger_enable", "loggers", "; ".join(notes), value=kept)
        if _has(c, "meta.WANDB"):
            settings = dict(_get(c, "meta.WANDB") or {})
            wandb = {new: settings.pop(old) for old, new in _WANDB_RENAMES.items() if old in settings}
            if wandb:
                _set(c, "plugins.wandb", wandb)
                self.changes.append(Change("meta.WANDB", "plugins.wandb", ", ".join(sorted(wandb))))
            _set(c, "meta.WANDB", settings)
            if settings:
                self.keep("meta.WANDB", f"{', '.join(sorted(settings))} not used by the wandb plugin")
            else:
                _pop(c, "meta.WANDB")
        for key, setting in (("default_cache_dir", "cache_dir"), ("cache", "cache_dir"), ("EXPERIMENT_FOLDER", "experiments_dir")):
            if _has(c, f"meta.{key}"):
                self.keep(f"meta.{key}", f"a project setting: {setting} in runway.toml")
        for key, why in _META_DROPPED.items():
            if _has(c, f"meta.{key}"):
                self.keep(f"meta.{key}", why)
        if _has(c, "meta.use_versioning"):
            self.keep(
                "meta.use_versioning",
                "Runway versions every run (NAME_V<n>): `runway infer NAME SUFFIX --version N` picks one; "
                "there is no switch to overwrite a run",
            )

    def data_pipeline(self) -> None:
        c = self.config
        pipeline = c.get("data_pipeline")
        if not isinstance(pipeline, dict):
            return
        transforms = pipeline.get("transforms")
        old_style = "in_features" in pipeline or (
            isinstance(transforms, Mapping) and any(isinstance(v, list) for v in transforms.values())
        )
        if old_style:
            self.keep("data_pipeline", "the seed's early feature-loader pipeline (in_features, transforms by split)")
            self.todo("data_pipeline", "rewrite it as data_pipeline.transforms nodes (transform_name, input_node, setup_kwargs)")
            return
        for key, why in _PIPELINE_DROPPED.items():
            if key in pipeline:
                self.keep(f"data_pipeline.{key}", why)
        if "dataloader_args" in pipeline:
            self.keep("data_pipeline.dataloader_args", "batch with train.batch_size and test.batch_size")
        if "do_inspect" in pipeline:
            enabled = bool(pipeline["do_inspect"])
            silenced = []
            if not enabled and isinstance(transforms, Mapping):
                for node_name, node in transforms.items():
                    if isinstance(node, dict) and node.get("inspect"):
                        node["inspect"] = False
                        silenced.append(node_name)
            note = "inspect: true on a node inspects it"
            if silenced:
                note += "; do_inspect was false, so inspect is now false on " + ", ".join(silenced)
            self.keep("data_pipeline.do_inspect", note)
        if isinstance(transforms, Mapping):
            for node_name, node in transforms.items():
                if isinstance(node, Mapping):
                    self.node_setup_kwargs(str(node_name), node)
        if "out_ops" in pipeline:
            outputs = pipeline["out_ops"] or []
            self.keep("data_pipeline.out_ops", "Runway produces the nodes named output:...")
            others = [n for n in outputs if not str(n).startswith("output:")]
            if others:
                self.todo("data_pipeline.out_ops", f"{', '.join(map(str, others))} not named output:...; produce them with `runway prepare --node NODE`")

    def node_setup_kwargs(self, node_name: str, node: Mapping[str, Any]) -> None:
        """Look at a node's setup_kwargs where the seed's transform behaves in a way worth saying."""
        name = node.get("transform_name")
        kwargs = node.get("setup_kwargs") or {}
        if not isinstance(kwargs, Mapping):
            return
        where = f"data_pipeline.transforms.{node_name}.setup_kwargs"
        if name in _HUB_LOADERS and kwargs.get("dataset_name") and not (
            kwargs.get("data_files") or kwargs.get("load_from_disk")
        ):
            hub = "/".join(str(part) for part in (kwargs.get("dataset_path"), kwargs["dataset_name"]) if part)
            local = self.project is not None and (Path(self.project.root) / hub).exists()
            if not local:
                self.changes.append(Change(
                    where, where,
                    f"{name} downloads {hub!r} from the Hugging Face Hub on the first `runway prepare` "
                    "(then it is cached), as runway_for_ml did",
                ))
        missing = [arg for arg in self.required_setup_args(str(name)) if arg not in kwargs]
        if missing:
            self.todo(
                where,
                f"{name}.setup() requires {', '.join(missing)}, which the node does not give "
                "(runway_for_ml failed there only when the node ran; Runway checks it before running)",
            )
        if name == "SplitHFDatasetToTrainTestValidation":
            split_kwargs = kwargs.get("train_test_split_kwargs") or {}
            if not (isinstance(split_kwargs, Mapping) and "seed" in split_kwargs):
                self.todo(
                    f"{where}.train_test_split_kwargs",
                    "no seed: the split is drawn anew whenever the node reruns, as in runway_for_ml; "
                    "add train_test_split_kwargs.seed for a fixed split (or use Runway's HFDatasetSplit, seeded "
                    "by default, which keeps the other splits)",
                )

    def required_setup_args(self, transform_name: str) -> list[str]:
        """The arguments without a default of ``setup()`` of the project's class ``transform_name`` (parsed, not imported)."""
        if self.project is None:
            return []
        if self._setups is None:
            self._setups = _setup_signatures(self.project)
        return self._setups.get(transform_name, [])

    def evaluation(self) -> None:
        c = self.config
        moved = [key for key in _EVAL_KEYS if _has(c, f"eval.{key}")]
        ported: list[str] = []
        for key in ("pipeline_config", "valid_eval_pipeline_config"):
            ported += self.eval_pipeline_nodes(key)
        for key in moved:
            self.keep(f"eval.{key}", "Runway's eval computes eval.metrics over the test records")
        if moved:
            left = f"; port {', '.join(ported)} that way" if ported else ""
            self.todo(
                "eval.metrics",
                "list the metrics to compute (accuracy, f1, ... or your @runway.register_metric functions over "
                f"the records; Runway's default is {list(_default_metrics())}){left}",
            )

    def eval_pipeline_nodes(self, key: str) -> list[str]:
        """Say, node by node, where the seed's eval pipeline went in Runway's eval; the nodes left to port."""
        transforms = _get(self.config, f"eval.{key}.transforms")
        if not isinstance(transforms, Mapping):
            return []
        ported = []
        for node_name, node in transforms.items():
            name = node.get("transform_name") if isinstance(node, Mapping) else None
            where = f"eval.{key}.transforms.{node_name}"
            if name in _SEED_EVAL_TRANSFORMS:
                self.changes.append(Change(where, where, f"{name}: {_SEED_EVAL_TRANSFORMS[name]}"))
            else:
                ported.append(f"{node_name} ({name})")
                self.todo(
                    where,
                    f"{name} computed metrics on the seed's EvalRecorder: write it as a @runway.register_metric "
                    "function over the test records and list it in eval.metrics",
                )
        return ported

    def unread_keys(self) -> None:
        """Keys of the sections Runway reads that it would refuse: kept under ``_seed``."""
        from runway.experiment import settings as typed

        known = {
            "train": typed.TrainSettings, "test": typed.TestSettings, "eval": typed.EvalSettings,
            "meta": typed.MetaSettings, "executor": typed.ExecutorSettings,
        }
        for section, cls in known.items():
            values = self.config.get(section)
            if not isinstance(values, dict):
                continue
            fields = set(cls.__dataclass_fields__)
            for key in list(values):
                if key not in fields and not str(key).startswith("_"):
                    note = "read by seed code through global_config" if self.seed_form else "not a Runway setting"
                    self.keep(f"{section}.{key}", note)

    def unknown_top_level(self) -> None:
        for key in list(self.config):
            if key in SECTIONS or key.startswith("_"):
                continue
            self.keep(key, "not a Runway section")


def _default_metrics() -> tuple[str, ...]:
    from runway.experiment.settings import DEFAULT_METRICS

    return DEFAULT_METRICS


def _parsed_code(project: Any) -> Iterator[tuple[Path, ast.Module]]:
    """``(file, syntax tree)`` for each Python file of the project's code folders that parses; nothing is imported."""
    for folder in project.code_dirs:
        if not Path(folder).is_dir():
            continue
        for path in sorted(Path(folder).rglob("*.py")):
            try:
                yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            except (SyntaxError, UnicodeDecodeError, OSError):
                continue


def find_classes(project: Any, name: str) -> list[tuple[str, str]]:
    """``(module.path.Class, file)`` for each class called ``name`` in the project's code folders.

    The files are parsed, not imported.
    """
    found: list[tuple[str, str]] = []
    root = Path(project.root)
    for path, tree in _parsed_code(project):
        if any(isinstance(node, ast.ClassDef) and node.name == name for node in tree.body):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found.append((".".join([*parts, name]), path.relative_to(root).as_posix()))
    return found


def _class_bases(project: Any) -> dict[str, list[str]]:
    """Class name -> the names of its bases, over the project's code folders."""
    bases: dict[str, list[str]] = {}
    for path, tree in _parsed_code(project):
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                names = []
                for base in node.bases:
                    if isinstance(base, ast.Name):
                        names.append(base.id)
                    elif isinstance(base, ast.Attribute):
                        names.append(base.attr)
                bases.setdefault(node.name, names)
    return bases


def _setup_signatures(project: Any) -> dict[str, list[str]]:
    """Class name -> the parameters of its own ``setup()`` that have no default, over the code folders."""
    found: dict[str, list[str]] = {}
    for path, tree in _parsed_code(project):
        for node in tree.body:
            if not isinstance(node, ast.ClassDef):
                continue
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "setup":
                    positional = [*item.args.posonlyargs, *item.args.args][1:]  # without self
                    required = positional[: len(positional) - len(item.args.defaults)]
                    required += [
                        a for a, d in zip(item.args.kwonlyargs, item.args.kw_defaults) if d is None
                    ]
                    found.setdefault(node.name, [a.arg for a in required])
    return found


def derives_from_seed_executor(project: Any, name: str) -> bool:
    """Whether the project's class ``name`` is built on the seed's ``BaseExecutor`` (parsed, not imported)."""
    bases = _class_bases(project)
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for base in bases.get(current, []):
            if base == "BaseExecutor":
                return True
            todo.append(base)
    return False


def migrate_config(config: Mapping[str, Any], *, project: Any = None) -> Migration:
    """Map a seed-shaped config to Runway's keys.

    :param config: the evaluated seed config (not changed).
    :param project: the :class:`runway.project.Project` whose code folders
        are searched for ``executor.ExecutorClass`` (``None``: not searched).
    :returns: the new config and the changes, key by key.
    """
    return _Migrator(config, project).run()


def render(config: dict, source: Path, target: Path | None) -> str:
    """The text of a migrated config: JSON for a ``.json`` target, else jsonnet saying where it came from."""
    text = json.dumps(config, indent=2, ensure_ascii=False) + "\n"
    if target is not None and target.suffix == ".json":
        return text
    # JSON is valid jsonnet; the comment says where it came from
    return f"// Migrated from the runway_for_ml config {source.name} by `runway migrate`.\n{text}"
