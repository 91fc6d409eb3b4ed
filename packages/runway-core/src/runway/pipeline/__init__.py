"""The data pipeline: transforms, a checked DAG, and a content-addressed cache.

Public API:

``Transform``, ``register_transform``
    write and register transforms (see :mod:`runway.pipeline.transform`).
``run_pipeline(config, project, *, nodes=None, regenerate=(), dummy=False, plugins=None)``
    run the ``data_pipeline`` of a config; returns a :class:`PipelineRun`
    with ``outputs`` (node -> data) and ``keys`` (node -> cache key).
``plan_pipeline(...)``
    the same arguments; checks the graph and says what a run would do,
    without running it (what ``runway pipeline explain`` prints).
"""

from __future__ import annotations

from runway.support.lazy import lazy_attributes

# public name -> "module:attribute", imported on first access: importing a
# module of this package (a plugin's, a command's) does not import them all
_LAZY: dict[str, str] = {
    "Node": "runway.pipeline.graph:Node",
    "Pipeline": "runway.pipeline.graph:Pipeline",
    "Plan": "runway.pipeline.plan:Plan",
    "transform_registry": "runway.pipeline.registry:transform_registry",
    "PipelineRun": "runway.pipeline.runner:PipelineRun",
    "Progress": "runway.pipeline.runner:Progress",
    "plan_pipeline": "runway.pipeline.runner:plan_pipeline",
    "run_pipeline": "runway.pipeline.runner:run_pipeline",
    "Transform": "runway.pipeline.transform:Transform",
    "register_transform": "runway.pipeline.transform:register_transform",
}

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())

__all__ = sorted(_LAZY)
