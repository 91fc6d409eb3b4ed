"""The config sections Runway itself reads, parsed once into typed settings.

:func:`parse_settings` turns ``train``, ``test``, ``eval``, ``executor``,
``launcher`` and ``meta`` into frozen dataclasses, so that every default is
written once, here, and every mistake is reported before a version exists,
naming its key::

    train.epohcs: unknown key. Did you mean 'epochs'?
    executor.optimizer.lr: expected a number, got 'abc'
    train.trainer_paras.acelerator: not an argument of lightning.Trainer. Did you mean 'accelerator'?

.. code-block:: jsonnet

    train: {
      epochs: 1,                // lightning's max_epochs
      batch_size: 32,
      num_workers: 0,           // DataLoader workers
      monitor: null,            // what "best" means; see TrainSettings.monitor
      monitor_mode: null,       // min | max; default min for names ending in "loss", else max
      log_every_n_steps: 10,
      validation_records: true, // per-sample records of every validation epoch
      trainer_paras: {},        // lightning.Trainer arguments; they win over Runway's
                                // (callbacks, logger, plugins, profiler: {class_path, init_args} objects too)
      ckpt_path: null,          // a Lightning checkpoint the fit starts from (LightningCLI's ckpt_path)
      ckpt_weights_only: null,  // LightningCLI's weights_only, passed to fit with ckpt_path
      lora: null,               // runway-hf's LoRA adapters (checked by runway-hf)
    },
    test: { suffix: "test", split: "test", batch_size: <train.batch_size> },
    eval: { metrics: ["accuracy"], prediction_field: "prediction", target_field: "target" },
    meta: { seed: 0, use_dummy_data: false },   // seed false: no seeding
    executor: {
      name: null, class_path: null,   // a registered runway.Executor, or any LightningModule
      init_args: {},                  // class_path's constructor arguments (free-form)
      data: {},                       // split -> pipeline node (see runway.experiment.data)
      model: {},                      // the executor's model (free-form: the executor reads it)
      optimizer: { name: "AdamW", lr: 1e-3 },  // other keys go to the torch optimizer;
                                      // or LightningCLI's { class_path: "torch.optim.Adam", init_args: {...} }
      scheduler: null,                // { name: constant|linear|cosine|none, warmup_steps, warmup_ratio, min_lr_ratio }
      lr_scheduler: null,             // class_path modules: LightningCLI's { class_path, init_args }
    },
    launcher: { <launcher name>: { ... } },   // each launcher checks its own section

Free-form parts stay plain dicts: ``executor.init_args``, ``executor.data``,
``executor.model``, the optimizer's torch arguments, ``train.lora`` and each
``launcher.<name>``; the plugin that owns one checks it. Keys starting with
``_`` are the user's own, as at the top level, and are not checked.
The parsed settings do not replace the config: executors and plugins still
receive the whole resolved config and read their own sections from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runway.errors import ConfigError, did_you_mean

DEFAULT_EPOCHS = 1
DEFAULT_BATCH_SIZE = 32
DEFAULT_LOG_EVERY_N_STEPS = 10
DEFAULT_SEED = 0
DEFAULT_SUFFIX = "test"
DEFAULT_SPLIT = "test"
DEFAULT_METRICS = ("accuracy",)
DEFAULT_OPTIMIZER = "AdamW"
DEFAULT_LR = 1e-3
MONITOR_MODES = ("min", "max")
OPTIMIZERS = ("AdamW", "Adam", "SGD")
SCHEDULES = ("constant", "linear", "cosine", "none")
SCHEDULE_ALIASES = {"linear_warmup": "linear", "linear_with_warmup": "linear", "cosine_with_warmup": "cosine"}
#: accelerators Lightning accepts beside its registry's (it maps them itself)
_ACCELERATOR_ORDER = ("cpu", "gpu", "cuda", "mps", "tpu")


# --------------------------------------------------------------------------- the sections


@dataclass(frozen=True)
class TrainSettings:
    """``train``: how a version is fitted."""

    epochs: int = DEFAULT_EPOCHS
    batch_size: int = DEFAULT_BATCH_SIZE
    num_workers: int = 0
    #: the logged metric whose best value picks ``best.ckpt``; ``None`` lets the
    #: executor form decide (``val/loss`` for a runway.Executor, the latest epoch
    #: for a class_path module, whose logged names Runway cannot know)
    monitor: str | None = None
    monitor_mode: str | None = None
    log_every_n_steps: int = DEFAULT_LOG_EVERY_N_STEPS
    validation_records: bool = True
    trainer_paras: dict[str, Any] = field(default_factory=dict)
    #: a Lightning checkpoint that the fit starts from (LightningCLI's ``ckpt_path``)
    ckpt_path: str | None = None
    #: LightningCLI's ``weights_only``, passed to ``fit`` with ``ckpt_path``
    ckpt_weights_only: bool | None = None
    #: runway-hf's ``train.lora``, kept as written (runway-hf checks it)
    lora: Any = None

    def mode_for(self, monitor: str) -> str:
        """``monitor_mode``, else ``min`` for a name ending in ``loss`` and ``max`` otherwise."""
        return self.monitor_mode or ("min" if str(monitor).endswith("loss") else "max")


@dataclass(frozen=True)
class TestSettings:
    """``test``: what ``runway infer`` predicts (and ``runway run``'s suffix)."""

    __test__ = False  # not a pytest test class, whatever its name

    suffix: str = DEFAULT_SUFFIX
    #: the name in ``executor.data`` that inference reads
    split: str = DEFAULT_SPLIT
    #: defaults to ``train.batch_size``
    batch_size: int = DEFAULT_BATCH_SIZE


@dataclass(frozen=True)
class EvalSettings:
    """``eval``: the metrics ``runway eval`` computes over a test run's records."""

    metrics: tuple[str, ...] = DEFAULT_METRICS
    #: the record field that metrics read as the prediction
    prediction_field: str = "prediction"
    #: the record field that metrics read as the target
    target_field: str = "target"


@dataclass(frozen=True)
class OptimizerSettings:
    """``executor.optimizer``: ``name`` and ``lr``; every other key goes to the torch optimizer.

    Or LightningCLI's form, ``class_path`` (a ``torch.optim.Optimizer``) and
    its ``init_args``, which leaves ``name`` and ``lr`` unused.
    """

    name: str = DEFAULT_OPTIMIZER
    lr: float = DEFAULT_LR
    options: dict[str, Any] = field(default_factory=dict)
    class_path: str | None = None
    init_args: dict[str, Any] = field(default_factory=dict)

    def kwargs(self) -> dict[str, Any]:
        """The torch optimizer's keyword arguments."""
        return {"lr": self.lr, **self.options}


@dataclass(frozen=True)
class SchedulerSettings:
    """``executor.scheduler``: a schedule stepped every optimizer step."""

    name: str = "constant"
    warmup_steps: int | None = None
    #: of all steps; used when ``warmup_steps`` is not given
    warmup_ratio: float | None = None
    min_lr_ratio: float = 0.0


@dataclass(frozen=True)
class ExecutorSettings:
    """``executor``: a registered ``runway.Executor`` (``name``) or any LightningModule (``class_path``)."""

    name: str | None = None
    class_path: str | None = None
    init_args: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    optimizer: OptimizerSettings = field(default_factory=OptimizerSettings)
    scheduler: SchedulerSettings | None = None
    #: LightningCLI's ``lr_scheduler``: ``{class_path, init_args}`` (class_path modules)
    lr_scheduler: dict[str, Any] | None = None

    @property
    def by_class_path(self) -> bool:
        return self.class_path is not None


@dataclass(frozen=True)
class LauncherSettings:
    """``launcher``: one free-form section per launcher, checked by that launcher's plugin."""

    sections: dict[str, dict[str, Any]] = field(default_factory=dict)

    def resources(self, launcher: str) -> dict[str, Any]:
        """``launcher.<launcher>`` (a copy; empty when the config has none)."""
        return dict(self.sections.get(launcher) or {})


@dataclass(frozen=True)
class MetaSettings:
    """``meta``: the seed and the dummy-data switch."""

    #: ``None`` (``seed: false`` in the config): nothing is seeded, as LightningCLI's ``seed_everything: false``
    seed: int | None = DEFAULT_SEED
    use_dummy_data: bool = False


@dataclass(frozen=True)
class Settings:
    """Everything Runway itself reads from a config (see the module docstring)."""

    train: TrainSettings = field(default_factory=TrainSettings)
    test: TestSettings = field(default_factory=TestSettings)
    eval: EvalSettings = field(default_factory=EvalSettings)
    executor: ExecutorSettings = field(default_factory=ExecutorSettings)
    launcher: LauncherSettings = field(default_factory=LauncherSettings)
    meta: MetaSettings = field(default_factory=MetaSettings)


# --------------------------------------------------------------------------- parsing


_UNSET: Any = object()


class _Section:
    """Reads one section's values, noting each problem (and returning the default) instead of raising."""

    def __init__(self, where: str, raw: Any, problems: list[str], *, known: Sequence[str], strict: bool) -> None:
        self.where = where
        self.problems = problems
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            problems.append(f"{where}: expected an object, got {raw!r}")
            raw = {}
        self.raw: Mapping[str, Any] = raw
        if strict:
            for key in raw:
                if key not in known and not str(key).startswith("_"):
                    problems.append(unknown_key(f"{where}.{key}", known))

    def has(self, key: str) -> bool:
        return self.raw.get(key) is not None

    def _bad(self, key: str, expected: str, value: Any, default: Any) -> Any:
        self.problems.append(f"{self.where}.{key}: expected {expected}, got {value!r}")
        return default

    def integer(self, key: str, default: Any, *, minimum: int | None = None) -> Any:
        value = self.raw.get(key)
        if value is None:
            return default
        if not isinstance(value, int) or isinstance(value, bool) or (minimum is not None and value < minimum):
            expected = {None: "an integer", 0: "an integer >= 0", 1: "a positive integer"}.get(minimum, f"an integer >= {minimum}")
            return self._bad(key, expected, value, default)
        return value

    def number(self, key: str, default: Any, *, minimum: float | None = None) -> Any:
        value = self.raw.get(key)
        if value is None:
            return default
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return self._bad(key, "a number", value, default)
        if minimum is not None and value < minimum:
            return self._bad(key, f"a number >= {minimum:g}", value, default)
        return float(value)

    def string(self, key: str, default: Any, *, choices: Sequence[str] | None = None) -> Any:
        value = self.raw.get(key)
        if value is None:
            return default
        if not isinstance(value, str) or not value.strip():
            return self._bad(key, "a non-empty string", value, default)
        if choices is not None and value not in choices:
            self.problems.append(f"{self.where}.{key}: {value!r} is not one of {', '.join(choices)}")
            return default
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            return self._bad(key, "true or false", value, default)
        return value

    def mapping(self, key: str, what: str = "an object") -> dict[str, Any]:
        value = self.raw.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            return self._bad(key, what, value, {})
        return dict(value)

    def strings(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self.raw.get(key)
        if value is None:
            return default
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return self._bad(key, "a list of names", value, default)
        return tuple(value) or default


def unknown_key(dotted: str, known: Sequence[str]) -> str:
    """``<dotted>: unknown key. Did you mean ...?``; a runway_for_ml key names its replacement."""
    from runway.compat.keys import seed_key_hint

    hint = seed_key_hint(dotted)
    if hint is not None:
        return hint
    key = dotted.rpartition(".")[2]
    suggestion = did_you_mean(key, known)
    return f"{dotted}: unknown key.{suggestion or ' Known keys: ' + ', '.join(known)}"


def _fields(cls: type) -> tuple[str, ...]:
    return tuple(cls.__dataclass_fields__)


def _train(raw: Any, problems: list[str], strict: bool) -> TrainSettings:
    s = _Section("train", raw, problems, known=_fields(TrainSettings), strict=strict)
    monitor = s.string("monitor", None)
    paras = s.mapping("trainer_paras", "an object of lightning.Trainer arguments")
    if strict and paras:
        problems.extend(trainer_paras_problems(paras))
    return TrainSettings(
        epochs=s.integer("epochs", DEFAULT_EPOCHS, minimum=1),
        batch_size=s.integer("batch_size", DEFAULT_BATCH_SIZE, minimum=1),
        num_workers=s.integer("num_workers", 0, minimum=0),
        monitor=monitor,
        monitor_mode=s.string("monitor_mode", None, choices=MONITOR_MODES),
        log_every_n_steps=s.integer("log_every_n_steps", DEFAULT_LOG_EVERY_N_STEPS, minimum=1),
        validation_records=s.boolean("validation_records", True),
        trainer_paras=paras,
        ckpt_path=s.string("ckpt_path", None),
        ckpt_weights_only=s.boolean("ckpt_weights_only", None),
        lora=s.raw.get("lora"),
    )


def _test(raw: Any, problems: list[str], strict: bool, train: TrainSettings) -> TestSettings:
    s = _Section("test", raw, problems, known=_fields(TestSettings), strict=strict)
    return TestSettings(
        suffix=s.string("suffix", DEFAULT_SUFFIX),
        split=s.string("split", DEFAULT_SPLIT),
        batch_size=s.integer("batch_size", train.batch_size, minimum=1),
    )


def _eval(raw: Any, problems: list[str], strict: bool) -> EvalSettings:
    s = _Section("eval", raw, problems, known=_fields(EvalSettings), strict=strict)
    return EvalSettings(
        metrics=s.strings("metrics", DEFAULT_METRICS),
        prediction_field=s.string("prediction_field", "prediction"),
        target_field=s.string("target_field", "target"),
    )


def _optimizer(raw: Any, problems: list[str]) -> OptimizerSettings:
    # every key besides name and lr is a torch argument: the optimizer checks those when built
    s = _Section("executor.optimizer", raw, problems, known=(), strict=False)
    if "class_path" in s.raw:
        spec = class_object_spec(s.raw, "executor.optimizer", problems)
        return OptimizerSettings(class_path=spec["class_path"], init_args=spec["init_args"]) if spec else OptimizerSettings()
    name = s.raw.get("name", DEFAULT_OPTIMIZER)
    canonical = {o.lower(): o for o in OPTIMIZERS}.get(name.lower()) if isinstance(name, str) else None
    if canonical is None:
        problems.append(f"executor.optimizer.name: unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
        canonical = DEFAULT_OPTIMIZER
    options = {k: v for k, v in s.raw.items() if k not in ("name", "lr")}
    for key in ("weight_decay", "momentum", "eps", "dampening"):
        s.number(key, None)
    betas = options.get("betas")
    if betas is not None:
        if not (isinstance(betas, (list, tuple)) and len(betas) == 2
                and all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in betas)):
            problems.append(f"executor.optimizer.betas: expected two numbers, got {betas!r}")
        else:
            options["betas"] = tuple(betas)
    return OptimizerSettings(name=canonical, lr=s.number("lr", DEFAULT_LR, minimum=0.0), options=options)


def _scheduler(raw: Any, problems: list[str]) -> SchedulerSettings | None:
    if not raw:
        return None
    s = _Section("executor.scheduler", raw, problems, known=_fields(SchedulerSettings), strict=True)
    name = s.raw.get("name", "constant")
    lowered = SCHEDULE_ALIASES.get(str(name).lower(), str(name).lower())
    if not isinstance(name, str) or lowered not in SCHEDULES:
        problems.append(f"executor.scheduler.name: unknown schedule {name!r}; choose one of {', '.join(SCHEDULES)}")
        lowered = "constant"
    return SchedulerSettings(
        name=lowered,
        warmup_steps=s.integer("warmup_steps", None, minimum=0),
        warmup_ratio=s.number("warmup_ratio", None, minimum=0.0),
        min_lr_ratio=s.number("min_lr_ratio", 0.0, minimum=0.0),
    )


def _executor(raw: Any, problems: list[str], strict: bool) -> ExecutorSettings:
    from runway.experiment.data import DataRef

    s = _Section("executor", raw, problems, known=_fields(ExecutorSettings), strict=strict)
    class_path = s.raw.get("class_path")
    if class_path is not None and (not isinstance(class_path, str) or not class_path.strip()):
        problems.append(f"executor.class_path: expected 'package.module.Class', got {class_path!r}")
        class_path = None
    data = s.mapping("data", "an object mapping splits to pipeline nodes")
    for split, ref in data.items():
        try:
            DataRef.parse(split, ref)
        except ConfigError as exc:
            problems.append(str(exc))
    return ExecutorSettings(
        name=s.string("name", None),
        class_path=class_path.strip() if class_path else None,
        init_args=s.mapping("init_args", "an object of keyword arguments"),
        data=data,
        model=s.mapping("model"),
        optimizer=_optimizer(s.raw.get("optimizer"), problems),
        scheduler=_scheduler(s.raw.get("scheduler"), problems),
        lr_scheduler=class_object_spec(s.raw["lr_scheduler"], "executor.lr_scheduler", problems) if s.has("lr_scheduler") else None,
    )


def class_object_spec(raw: Any, where: str, problems: list[str]) -> dict[str, Any] | None:
    """``{class_path, init_args}`` as written, or ``None`` with the problem noted."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("class_path"), str) or not raw["class_path"].strip():
        problems.append(f"{where}: expected {{class_path: 'package.module.Class', init_args: {{...}}}}, got {raw!r}")
        return None
    unknown = [k for k in raw if k not in ("class_path", "init_args")]
    if unknown:
        problems.append(f"{where}.{unknown[0]}: unknown key; {{class_path, init_args}} objects take only those two")
    init_args = raw.get("init_args") or {}
    if not isinstance(init_args, Mapping):
        problems.append(f"{where}.init_args: expected an object of keyword arguments, got {init_args!r}")
        init_args = {}
    return {"class_path": raw["class_path"].strip(), "init_args": dict(init_args)}


def _launcher(raw: Any, problems: list[str]) -> LauncherSettings:
    s = _Section("launcher", raw, problems, known=(), strict=False)
    sections = {}
    for name in s.raw:
        sections[str(name)] = s.mapping(str(name), f"an object (the {name} launcher's settings)")
    return LauncherSettings(sections=sections)


def _meta(raw: Any, problems: list[str], strict: bool) -> MetaSettings:
    s = _Section("meta", raw, problems, known=_fields(MetaSettings), strict=strict)
    seed = None if s.raw.get("seed") is False else s.integer("seed", DEFAULT_SEED)
    return MetaSettings(seed=seed, use_dummy_data=s.boolean("use_dummy_data", False))


def accelerator_names() -> list[str]:
    """The ``accelerator`` values Lightning accepts, its registry's first in a familiar order."""
    from lightning.pytorch.accelerators import AcceleratorRegistry

    registered = set(AcceleratorRegistry.available_accelerators())
    known = [name for name in _ACCELERATOR_ORDER if name in registered or name == "gpu"]
    return [*known, *sorted(registered - set(known)), "auto"]


def trainer_paras_problems(paras: Mapping[str, Any]) -> list[str]:
    """Keys of ``train.trainer_paras`` that ``lightning.Trainer`` does not take, and an unknown accelerator."""
    import inspect

    from lightning.pytorch import Trainer

    parameters = inspect.signature(Trainer.__init__).parameters
    accepted = [name for name in parameters if name != "self"]
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    problems = []
    if not takes_any:
        for key in paras:
            if key not in accepted:
                problems.append(
                    f"train.trainer_paras.{key}: not an argument of lightning.Trainer.{did_you_mean(str(key), accepted)}"
                )
    accelerator = paras.get("accelerator")
    if isinstance(accelerator, str):
        names = accelerator_names()
        if accelerator not in names:
            problems.append(f"train.trainer_paras.accelerator: {accelerator!r} is not one of {', '.join(names)}")
    from runway.experiment.lightning_objects import trainer_object_problems

    problems.extend(trainer_object_problems(paras))
    return problems


def settings_problems(config: Mapping[str, Any], *, strict: bool = True) -> list[str]:
    """Every problem :func:`parse_settings` would report (an empty list when none).

    ``strict=False`` checks only the values of known keys: unknown keys and
    ``train.trainer_paras`` (which imports Lightning) are left to the strict
    parse, so that loading a config for ``runway config show`` stays fast and
    permissive.
    """
    problems: list[str] = []
    _parse(config, problems, strict)
    return problems


def _parse(config: Mapping[str, Any], problems: list[str], strict: bool) -> Settings:
    if not isinstance(config, Mapping):
        problems.append(f"the config must be an object, got {config!r}")
        return Settings()
    train = _train(config.get("train"), problems, strict)
    return Settings(
        train=train,
        test=_test(config.get("test"), problems, strict, train),
        eval=_eval(config.get("eval"), problems, strict),
        executor=_executor(config.get("executor"), problems, strict),
        launcher=_launcher(config.get("launcher"), problems),
        meta=_meta(config.get("meta"), problems, strict),
    )


def raise_problems(problems: Sequence[str]) -> None:
    """One :class:`ConfigError` naming each problem; nothing when there are none."""
    if len(problems) == 1:
        raise ConfigError(problems[0])
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise ConfigError(f"the config has {len(problems)} problem(s):\n{listing}")


def parse_settings(config: Mapping[str, Any]) -> Settings:
    """The typed settings of ``config``'s ``train``, ``test``, ``eval``, ``executor``,
    ``launcher`` and ``meta`` sections.

    :raises ConfigError: naming the key of every problem (exit code 2).
    """
    problems: list[str] = []
    settings = _parse(config, problems, strict=True)
    raise_problems(problems)
    return settings


def parse_optimizer(spec: Mapping[str, Any] | None) -> OptimizerSettings:
    """``executor.optimizer`` alone, for code that builds an optimizer from a dict."""
    problems: list[str] = []
    settings = _optimizer(spec, problems)
    raise_problems(problems)
    return settings


def parse_scheduler(spec: Mapping[str, Any] | None) -> SchedulerSettings | None:
    """``executor.scheduler`` alone (``None`` when it is empty)."""
    problems: list[str] = []
    settings = _scheduler(spec, problems)
    raise_problems(problems)
    return settings


def parse_section(config: Mapping[str, Any], section: str) -> Any:
    """One section's settings (``"eval"``, ``"meta"``, ...), checked strictly, the others ignored.

    For a step that needs one section of a stored config, without paying
    for the others (``train.trainer_paras`` imports Lightning).
    """
    problems: list[str] = []
    raw = config.get(section) if isinstance(config, Mapping) else None
    parsers = {
        "eval": lambda: _eval(raw, problems, True),
        "meta": lambda: _meta(raw, problems, True),
        "launcher": lambda: _launcher(raw, problems),
    }
    if section not in parsers:
        raise ValueError(f"parse_section: {section!r} is parsed with the others; use parse_settings")
    settings = parsers[section]()
    raise_problems(problems)
    return settings
