"""runway_for_ml's ``BaseExecutor``, run by Runway's trainer.

An executor written for the seed (``class MyExecutor(BaseExecutor)`` with
the seed's constructor, ``_init_model``, ``self.dp.get_data([...])``,
``self.valid_eval_recorder``/``self.test_eval_recorder``) keeps its code: the
import line points here, and the ``core-compat`` plugin builds it with the
arguments the seed passed (the pipeline section, ``executor.model`` as its
``model_config``, the ``train``/``test`` sections as the seed wrote them and
the whole config as ``global_config``). Runway provides the rest: the version
folder, ``best.ckpt``/``last.ckpt``, the loggers and the records.

What differs from the seed:

- ``self.dp`` runs Runway's pipeline (cached by Runway); ``get_data(nodes,
  explode=True)`` returns the one node's output as the seed did.
- ``global_config`` is the Runway config with the seed-only values that
  ``runway migrate`` kept under ``_seed`` laid back in place, plus the seed's
  ``experiment_name``, ``train_dir`` and ``test_dir``.
- Validation and test recorders are written as JSON under the version's
  ``train/`` folder; what a ``test_step`` logs into ``test_eval_recorder``
  becomes ``runway infer``'s records, with the fields that the seed's eval
  pipeline compared (``pred_field``/``ref_field``) as ``prediction`` and
  ``target``.
- ``model_checkpoint_callback_paras`` with ``save_top_k: -1`` keeps a
  checkpoint per validation under the seed's ``filename`` pattern next to
  ``best.ckpt`` and ``last.ckpt``, so a configured checkpoint name exists.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import lightning.pytorch as pl

from runway.errors import ConfigError

KEEP_SECTION = "_seed"

# the run's context while build_seed_executor constructs a class: the seed's
# constructors pass their own arguments on, so it cannot travel as one of them
_building = threading.local()
_building.context = None


class AttrDict(dict):
    """A dict whose keys read as attributes too, as the seed's ``EasyDict`` configs did."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, value in list(self.items()):
            self[key] = _attr(value)

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = _attr(value)

    def __deepcopy__(self, memo: Any) -> "AttrDict":
        import copy

        return AttrDict({k: copy.deepcopy(v, memo) for k, v in self.items()})


def _attr(value: Any) -> Any:
    if isinstance(value, Mapping) and not isinstance(value, AttrDict):
        return AttrDict(value)
    if isinstance(value, list):
        return [_attr(v) for v in value]
    return value


def _overlay(base: Any, kept: Any) -> Any:
    """``kept`` (the seed-only values) under ``base``: ``base`` wins where both have a key."""
    if isinstance(base, Mapping) and isinstance(kept, Mapping):
        merged = {k: v for k, v in kept.items()}
        for key, value in base.items():
            merged[key] = _overlay(value, kept.get(key)) if key in kept else value
        return merged
    return base


def seed_view(config: Mapping[str, Any], *, experiment: str = "", version_dir: Path | None = None) -> AttrDict:
    """The config as seed code read it (see the module docstring)."""
    plain = {k: v for k, v in config.items() if k != KEEP_SECTION}
    view = _overlay(plain, config.get(KEEP_SECTION) or {})
    executor = dict(view.get("executor") or {})
    view.setdefault("model_config", executor.get("model") or {})
    train = dict(view.get("train") or {})
    optimizer = executor.get("optimizer")
    if isinstance(optimizer, Mapping) and "optimizer_config" not in train:
        params = {k: v for k, v in optimizer.items() if k != "name"}
        seed_optimizer: dict[str, Any] = {"optimizer_name": optimizer.get("name", "AdamW"), "optimizer_params": params}
        scheduler = executor.get("scheduler")
        if isinstance(scheduler, Mapping):
            seed_optimizer["scheduler"] = scheduler.get("name")
            seed_optimizer["scheduler_params"] = {"num_warmup_steps": scheduler.get("warmup_steps") or 0}
        train["optimizer_config"] = seed_optimizer
    view["train"] = train
    view.setdefault("test", {})
    meta = dict(view.get("meta") or {})
    meta.setdefault("logger_enable", list(config.get("loggers") or []))
    view["meta"] = meta
    if experiment:
        view.setdefault("experiment_name", experiment)
    if version_dir is not None:
        view["train_dir"] = str(version_dir / "train")
        suffix = (config.get("test") or {}).get("suffix", "test")
        view["test_dir"] = str(version_dir / f"test-{suffix}")
    return AttrDict(view)


# --------------------------------------------------------------------------- the pipeline


class DataPipeline:
    """The seed's ``DataPipeline`` handle over Runway's pipeline of this config."""

    def __init__(self, config: Mapping[str, Any], project: Any = None, *, known: Mapping[str, Any] | None = None) -> None:
        self.config = dict(config)
        self.project = project
        self.outputs: dict[str, Any] = dict(known or {})

    def get_data(self, out_transforms: Sequence[str] | str, explode: bool = False, **_: Any) -> Any:
        """The outputs of ``out_transforms``; with ``explode`` and one node, its output alone."""
        from runway.pipeline import run_pipeline
        from runway.project import Project

        nodes = [out_transforms] if isinstance(out_transforms, str) else list(out_transforms)
        missing = [n for n in nodes if n not in self.outputs]
        if missing:
            project = self.project or Project.find(required=False) or Project(root=Path.cwd())
            self.outputs.update(run_pipeline(self.config, project, nodes=missing).outputs)
        if explode and len(nodes) == 1:
            return self.outputs[nodes[0]]
        return {n: self.outputs[n] for n in nodes}

    def apply_transforms(self) -> Any:
        from runway.pipeline import run_pipeline

        return run_pipeline(self.config, self.project).outputs

    def reset(self) -> None:
        self.outputs.clear()


# --------------------------------------------------------------------------- the recorder


class EvalRecorder:
    """The seed's evaluation recorder: per-sample logs and summary stats, saved as JSON."""

    def __init__(self, name: str, base_dir: str | Path, meta_config: Any = None) -> None:
        self.name = name
        self.base_dir = Path(base_dir)
        self.meta_config = dict(meta_config or {})
        self._samples: dict[str, list[Any]] = {}
        self._stats: dict[str, Any] = {}

    @property
    def save_dir(self) -> Path:
        return self.base_dir / self.name

    def log_sample_dict(self, sample: Mapping[str, Any]) -> None:
        self.log_sample_dict_batch({k: [v] for k, v in sample.items()})

    def log_sample_dict_batch(self, batch: Mapping[str, Sequence[Any]]) -> None:
        size = len(next(iter(self._samples.values()), []))
        for key, values in batch.items():
            column = self._samples.setdefault(key, [None] * size)
            column.extend(_listed(values))
        longest = max((len(c) for c in self._samples.values()), default=0)
        for column in self._samples.values():
            column.extend([None] * (longest - len(column)))

    def log_stats_dict(self, stats: Mapping[str, Any]) -> None:
        self._stats.update(stats)

    def get_sample_logs_column(self, name: str) -> list[Any]:
        return list(self._samples.get(name, []))

    def set_sample_logs_column(self, name: str, values: Sequence[Any]) -> None:
        self._samples[name] = list(values)

    def get_sample_logs(self, data_format: str = "dict") -> Any:
        return {k: list(v) for k, v in self._samples.items()}

    def get_stats_logs(self, data_format: str = "dict") -> dict[str, Any]:
        return dict(self._stats)

    def __len__(self) -> int:
        return len(next(iter(self._samples.values()), []))

    def rows(self, start: int = 0) -> list[dict[str, Any]]:
        return [{k: v[i] for k, v in self._samples.items()} for i in range(start, len(self))]

    def rename(self, new_name: str, new_base_dir: str | Path | None = None) -> None:
        self.name = new_name
        if new_base_dir is not None:
            self.base_dir = Path(new_base_dir)

    def save_to_disk(self, file_prefix: str = "eval_recorder", file_format: str = "json") -> Path:
        from runway.support.files import write_json

        self.save_dir.mkdir(parents=True, exist_ok=True)
        target = self.save_dir / f"{file_prefix}.json"
        write_json(target, {"name": self.name, "samples": self.get_sample_logs(), "stats": self._stats})
        return target


def _listed(values: Any) -> list[Any]:
    if hasattr(values, "detach"):
        values = values.detach().cpu().tolist()
    elif hasattr(values, "tolist"):
        values = values.tolist()
    if not isinstance(values, list):
        values = [values]
    return values


def _compared_fields(global_config: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """``pred_field`` and ``ref_field`` of the seed's eval pipeline, if it named them."""

    def walk(node: Any) -> tuple[str | None, str | None]:
        if isinstance(node, Mapping):
            if isinstance(node.get("pred_field"), str):
                return node["pred_field"], node.get("ref_field")
            for value in node.values():
                found = walk(value)
                if found[0]:
                    return found
        return None, None

    return walk(global_config.get("eval") or {})


# --------------------------------------------------------------------------- the executor


class BaseExecutor(pl.LightningModule):
    """runway_for_ml's ``BaseExecutor`` (see the module docstring)."""

    def __init__(
        self,
        data_pipeline_config: Any,
        model_config: Any,
        mode: str,
        train_config: Any = None,
        test_config: Any = None,
        use_data_node: str | None = None,
        log_file_path: str | None = None,
        valid_eval_pipeline_config: Any = None,
        test_eval_pipeline_config: Any = None,
        global_config: Any = None,
        eval_recorder_config: Any = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        context = getattr(_building, "context", None)
        self.global_config = self.config = AttrDict(global_config or {})
        self.dp_config = AttrDict(data_pipeline_config or {})
        known = getattr(context, "data", None) or {}
        whole = {"data_pipeline": dict(data_pipeline_config or {}), "meta": dict(self.global_config.get("meta") or {})}
        served = {use_data_node: known["train"]} if use_data_node and "train" in known else {}
        if use_data_node and "test" in known:
            served[use_data_node] = known["test"]
        self.dp = DataPipeline(_runway_pipeline_config(whole), getattr(context, "project", None), known=served)
        self.valid_eval_dp_config = valid_eval_pipeline_config
        self.test_eval_dp_config = test_eval_pipeline_config
        self.valid_eval_pipeline = None
        self.test_eval_pipeline = None
        self.model_config = AttrDict(model_config or {})
        self.training_config = AttrDict(train_config or {})
        self.test_config = AttrDict(test_config or {})
        self.optimizer_config = self.training_config.get("optimizer_config")
        self.additional_kwargs = self.model_config.get("additional_kwargs", {})
        self.mode = mode
        self.log_file_path = log_file_path
        self.log_list: list[Any] = []
        self.test_cnt = 0
        self.valid_cnt = 0
        self.use_data_node = use_data_node
        self.use_wandb = False
        self.tb_logger = self.wandb_logger = self.metrics_history_logger = None
        self._runway_context = context
        self._init_model(self.model_config)

    # ---- what subclasses override -----------------------------------------

    def _init_model(self, model_config: Mapping[str, Any]) -> None:
        """The seed's default: a ``transformers`` model ``ModelClass.from_pretrained(model_version)``."""
        lib = model_config.get("ModelLib")
        if lib != "transformers":
            raise ConfigError(
                f"executor.model.ModelLib: {lib!r}; the seed's BaseExecutor builds only 'transformers' "
                f"models; override _init_model(self, model_config) in {type(self).__name__}"
            )
        import transformers

        cls = getattr(transformers, model_config["ModelClass"])
        source = model_config.get("checkpoint_path") or model_config.get("model_version")
        self.model = cls.from_pretrained(source, **(model_config.get("load_checkpoint_kwargs") or {}))

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.model(*args, **kwargs)

    # ---- data ---------------------------------------------------------------

    def prepare_data(self) -> None:
        if self.use_data_node:
            self.prepared_data = self.dp.get_data([self.use_data_node], explode=True)

    def setup(self, stage: str) -> None:
        pass

    def _loader(self, many: str, dataset: str, batch_size_from: Mapping[str, Any], shuffle: bool) -> Any:
        if many in self.__dict__:
            return self.__dict__[many]
        if dataset in self.__dict__:
            from torch.utils.data import DataLoader

            return DataLoader(
                self.__dict__[dataset],
                shuffle=shuffle,
                batch_size=batch_size_from.get("batch_size", 1),
                num_workers=batch_size_from.get("dataloader_workers", 0),
            )
        raise NotImplementedError(f"{type(self).__name__}: set self.{many} or self.{dataset} in setup()")

    def train_dataloader(self) -> Any:
        return self._loader("train_dataloaders", "train_dataset", self.training_config, True)

    def val_dataloader(self) -> Any:
        if "valid_dataloaders" not in self.__dict__ and "val_dataset" not in self.__dict__:
            return []
        return self._loader("valid_dataloaders", "val_dataset", self.training_config, False)

    def test_dataloader(self) -> Any:
        return self._loader("test_dataloaders", "test_dataset", self.test_config, False)

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        # Runway's default monitor for an executor.name module; the seed's own
        # executors log names of their choosing, so the latest step's loss stands in
        loss = outputs.get("loss") if isinstance(outputs, Mapping) else outputs
        if hasattr(loss, "detach") and getattr(loss, "numel", lambda: 0)() == 1:
            self.log("train/loss", loss.detach(), on_step=True, on_epoch=False, logger=False)

    # ---- optimisation ----------------------------------------------------------

    def configure_optimizers(self) -> Any:
        from runway.experiment.optim import build_optimizer, build_scheduler
        from runway.experiment.settings import parse_optimizer, parse_scheduler

        spec = dict(self.optimizer_config or {})
        params = dict(spec.get("optimizer_params") or {})
        optimizer = build_optimizer(self.parameters(), parse_optimizer({"name": spec.get("optimizer_name", "AdamW"), **params}))
        schedule = spec.get("scheduler")
        if schedule in (None, "none"):
            return optimizer
        warmup = (spec.get("scheduler_params") or {}).get("num_warmup_steps", 0)
        settings = parse_scheduler({"name": schedule, "warmup_steps": warmup})
        total = int(self.trainer.estimated_stepping_batches) if self._trainer is not None else 1
        scheduler = build_scheduler(optimizer, settings, total) if settings is not None else None
        if scheduler is None:
            return optimizer
        return {"optimizer": optimizer, "lr_scheduler": scheduler}

    def configure_callbacks(self) -> Any:
        paras = dict(self.training_config.get("model_checkpoint_callback_paras") or {})
        if paras.get("save_top_k") != -1 or self._runway_context is None:
            return []
        return [_EveryCheckpoint(Path(self._runway_context.version_dir) / "train" / "checkpoints", paras.get("filename"))]

    # ---- recorders ---------------------------------------------------------------

    def _train_dir(self) -> Path:
        return Path(self.global_config.get("train_dir") or ".")

    def on_validation_start(self) -> None:
        self.valid_cnt += 1
        name = f"validation-{self.valid_cnt}-{self.global_step}"
        self.valid_eval_recorder = EvalRecorder(name, self._train_dir() / "eval_recorders")

    def on_validation_end(self) -> None:
        if self.trainer.is_global_zero and not self.trainer.sanity_checking:
            self.valid_eval_recorder.save_to_disk("eval_recorder")

    def on_test_start(self) -> None:
        self.test_eval_recorder = EvalRecorder("test-evaluation", self._train_dir() / "eval_recorders")

    def on_test_end(self) -> None:
        if self.trainer.is_global_zero:
            self.test_eval_recorder.save_to_disk("eval_recorder")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("test_step")
        if own is not None and not getattr(own, "_records_from_recorder", False):
            cls.test_step = _recording(own)


def _recording(test_step: Any) -> Any:
    """A seed ``test_step`` that logs into ``test_eval_recorder`` and returns nothing
    returns the rows it logged instead, so Runway records them."""

    @functools.wraps(test_step)
    def step(self: BaseExecutor, *args: Any, **kwargs: Any) -> Any:
        recorder = getattr(self, "test_eval_recorder", None)
        before = len(recorder) if recorder is not None else 0
        out = test_step(self, *args, **kwargs)
        if out is not None or recorder is None or len(recorder) == before:
            return out
        pred_field, ref_field = _compared_fields(self.global_config)
        rows = recorder.rows(before)
        for row in rows:
            if pred_field in row:
                row["prediction"] = row[pred_field]
            if ref_field in row:
                row["target"] = row[ref_field]
            row.setdefault("prediction", None)
        return rows

    step._records_from_recorder = True  # type: ignore[attr-defined]
    return step


class _EveryCheckpoint(pl.Callback):
    """The seed's ``save_top_k: -1``: a checkpoint after every validation, named by its pattern.

    Not a ``ModelCheckpoint``: a module's callback of that type would replace Runway's own.
    """

    def __init__(self, folder: Path, pattern: str | None) -> None:
        self.folder = folder
        self.pattern = pattern or "epoch={epoch}-step={step}"

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        if trainer.sanity_checking:
            return
        name = self.pattern.format(epoch=trainer.current_epoch, step=trainer.global_step)
        trainer.save_checkpoint(str(self.folder / f"{name}.ckpt"))


def _runway_pipeline_config(config: Mapping[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(config, default=str))


# --------------------------------------------------------------------------- building


def is_seed_executor(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, BaseExecutor)


def build_seed_executor(cls: type, config: Mapping[str, Any], context: Any) -> BaseExecutor:
    """``cls`` with the arguments the seed passed, from a migrated Runway config."""
    view = seed_view(config, experiment=getattr(context, "experiment", ""), version_dir=getattr(context, "version_dir", None))
    executor = dict((config.get("executor") or {}))
    kept = dict(((config.get(KEEP_SECTION) or {}).get("executor") or {}).get("init_kwargs") or {})
    data = executor.get("data") or {}
    node = kept.pop("use_data_node", None)
    if node is None:
        refs = [v if isinstance(v, str) else (v or {}).get("node") for v in data.values()]
        node = next((r for r in refs if r), None)
    stage = getattr(context, "stage", "fit")
    _building.context = context
    try:
        return cls(
            data_pipeline_config=view.get("data_pipeline") or {},
            model_config=view.get("model_config") or {},
            mode="train" if stage == "fit" else "test",
            train_config=view.get("train") or {},
            test_config=view.get("test") or {},
            use_data_node=node,
            global_config=view,
            **kept,
        )
    finally:
        _building.context = None


def batch_depad(x: Any, attension_mask: Any = None, y: Any = None, pad_len: int = 0) -> Any:
    """The seed's helper: cut padding columns (token id 0) off a batch of inputs, mask and labels."""
    import torch

    keep_in = int(torch.max((x != 0).sum(dim=-1))) + pad_len
    keep_out = int(torch.max((y != 0).sum(dim=-1))) + pad_len
    return x[:, :keep_in], attension_mask[:, :keep_in], y[:, :keep_out]
