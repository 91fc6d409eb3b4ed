"""Bringing runway_for_ml ("the seed") projects to Runway.

The seed's API under one import, so that a seed project's transforms and
executors run with their import lines changed::

    from runway.compat import BaseTransform, HFDatasetTransform, register_transform_functor
    from runway.compat import BaseExecutor, register_executor

and the migration behind ``runway migrate PROJECT_DIR`` (or ``FILE``):
:func:`migrate_config` maps the seed's keys to Runway's and says, key by
key, what it changed. :data:`SEED_KEYS` lists every seed key and its
replacement; a seed key left in a config is reported with it.

``HFDatasetTransform`` is the seed's base class over
``runway_hf.HFDatasetTransform`` (``pip install runway-hf``), built on first
use.

Why migrate rewrites imports instead of shipping a ``runway_for_ml``
package: a stand-in of that name would shadow the real one wherever both
are installed (the seed was often a git submodule in the project's own
folder), and a traceback would then point into code the user never wrote.
``runway migrate`` rewrites each ``from runway_for_ml... import X`` to
``from runway.compat import X`` (and ``pytorch_lightning`` to
``lightning.pytorch``, the trainer Runway runs), shows the diff with
``--dry-run`` and keeps a backup, so which code runs stays visible in the
project's own files. A file that still imports ``runway_for_ml`` is
reported by name, with that command, instead of a raw traceback.
"""

from __future__ import annotations

from typing import Any

from runway.support.lazy import lazy_attributes

# public name -> "module:attribute", imported on first access
_LAZY: dict[str, str] = {
    "BaseTransform": "runway.compat.transforms:BaseTransform",
    "register_transform_functor": "runway.compat.transforms:register_transform_functor",
    "register_transform": "runway.pipeline.transform:register_transform",
    "DummyTransform": "runway.compat.transforms:DummyTransform",
    "BaseExecutor": "runway.compat.executor:BaseExecutor",
    "EvalRecorder": "runway.compat.executor:EvalRecorder",
    "DataPipeline": "runway.compat.executor:DataPipeline",
    "EasyDict": "runway.compat.executor:AttrDict",
    "DataPipelineConfig": "runway.compat.executor:AttrDict",
    "ModelConfig": "runway.compat.executor:AttrDict",
    "MetaConfig": "runway.compat.executor:AttrDict",
    "batch_depad": "runway.compat.executor:batch_depad",
    "register_executor": "runway.experiment.registry:register_executor",
    "migrate_project": "runway.compat.project:migrate_project",
    "migrate_config": "runway.compat.migration:migrate_config",
    "Migration": "runway.compat.migration:Migration",
    "Change": "runway.compat.migration:Change",
    "SEED_KEYS": "runway.compat.keys:SEED_KEYS",
}


_NEED_HF = ("HFDatasetTransform", "get_tokenizer")
_lazy_getattr, __dir__ = lazy_attributes(__name__, _LAZY, globals(), extra=_NEED_HF)


def __getattr__(name: str) -> Any:
    if name == "HFDatasetTransform":
        from runway.compat.transforms import hf_dataset_transform

        value = hf_dataset_transform()
    elif name == "get_tokenizer":
        from runway.compat.transforms import hf_dataset_transform

        hf_dataset_transform()  # the same message where runway-hf is missing
        from runway_hf.tokenizers import get_tokenizer as value
    else:
        return _lazy_getattr(name)
    globals()[name] = value
    return value


# the runway-hf names are left out of __all__: a star import must not need runway-hf
__all__ = [*_LAZY]
