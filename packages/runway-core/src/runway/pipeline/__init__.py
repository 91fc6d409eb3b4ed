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

from runway.pipeline.graph import Node, Pipeline
from runway.pipeline.plan import Plan
from runway.pipeline.registry import transform_registry
from runway.pipeline.runner import PipelineRun, Progress, plan_pipeline, run_pipeline
from runway.pipeline.transform import Transform, register_transform

__all__ = [
    "Node",
    "Pipeline",
    "PipelineRun",
    "Plan",
    "Progress",
    "Transform",
    "plan_pipeline",
    "register_transform",
    "run_pipeline",
    "transform_registry",
]
