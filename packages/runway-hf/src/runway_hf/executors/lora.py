"""LoRA adapters (``peft``) around a ``transformers`` model, from ``train.lora``.

.. code-block:: jsonnet

    train: {
      lora: {
        target_modules: ["query", "value"],  // default: peft's choice for the model type
        r: 8,                                // rank (default 8)
        alpha: 16,                           // scaling numerator (default 16)
        dropout: 0.05,                       // on the adapter input (default 0)
        modules_to_save: ["pooler"],         // also trained, in full (default none)
        bias: "none",                        // "none", "all" or "lora_only"
      },
    },

The base weights are frozen; only the adapters (and ``modules_to_save``)
train. For ``HFSequenceClassification`` peft also trains the new
classification head (``classifier``/``score``), which starts random.
Checkpoints hold the wrapped model's whole ``state_dict``, so ``runway
infer`` rebuilds the same wrapped model from the saved config and loads
them strictly. Needs ``pip install 'runway-hf[lora]'`` (peft).
"""

from __future__ import annotations

from typing import Any

from runway.errors import ConfigError

LORA_SECTION = "train.lora"
DEFAULTS: dict[str, Any] = {"r": 8, "alpha": 16, "dropout": 0.0, "bias": "none"}
# our key -> LoraConfig's
PEFT_NAMES = {
    "target_modules": "target_modules",
    "r": "r",
    "alpha": "lora_alpha",
    "dropout": "lora_dropout",
    "modules_to_save": "modules_to_save",
    "bias": "bias",
}


def lora_settings(train_config: dict[str, Any]) -> dict[str, Any] | None:
    """``train.lora`` checked and completed with defaults; ``None`` when not set (or ``false``)."""
    spec = train_config.get("lora")
    if spec is None or spec is False:
        return None
    if spec is True:
        spec = {}
    if not isinstance(spec, dict):
        raise ConfigError(f"{LORA_SECTION}: expected an object ({{r: 8, alpha: 16, target_modules: [...]}}), got {spec!r}")
    unknown = sorted(set(spec) - set(PEFT_NAMES))
    if unknown:
        raise ConfigError(f"{LORA_SECTION}: unknown key(s) {', '.join(unknown)}; known: {', '.join(PEFT_NAMES)}")
    settings = {**DEFAULTS, **spec}
    if not isinstance(settings["r"], int) or isinstance(settings["r"], bool) or settings["r"] < 1:
        raise ConfigError(f"{LORA_SECTION}.r: expected a positive integer, got {settings['r']!r}")
    for key in ("target_modules", "modules_to_save"):
        value = settings.get(key)
        if isinstance(value, str):
            settings[key] = [value]
        elif value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise ConfigError(f"{LORA_SECTION}.{key}: expected a module name or a list of them, got {value!r}")
    return settings


def require_peft() -> Any:
    try:
        import peft
    except ImportError:
        raise ConfigError(
            f"{LORA_SECTION}: LoRA needs the peft package: pip install 'runway-hf[lora]'"
        ) from None
    return peft


def wrap_with_lora(model: Any, settings: dict[str, Any], task_type: str) -> Any:
    """``model`` as a peft model with LoRA adapters (base weights frozen)."""
    peft = require_peft()
    kwargs = {PEFT_NAMES[key]: value for key, value in settings.items() if value is not None}
    try:
        config = peft.LoraConfig(task_type=task_type, **kwargs)
        return peft.get_peft_model(model, config)
    except ValueError as exc:
        raise ConfigError(f"{LORA_SECTION}: {exc}") from None


def trainable_parameter_names(model: Any) -> list[str]:
    """Names of the parameters that train (``requires_grad``)."""
    return [name for name, parameter in model.named_parameters() if parameter.requires_grad]
