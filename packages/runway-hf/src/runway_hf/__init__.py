"""The ``hf`` plugin for Runway: Hugging Face ``datasets`` transforms, the Arrow
cache format, tokenizers and ``transformers`` executors.

Public API (importing it does not import ``datasets`` or ``transformers``):

``HFDatasetTransform``
    base class for a project's own transforms over ``datasets`` objects.
``register_hf_function``
    register a function that ``HFDatasetFilter``/``HFDatasetMap`` name in configs.
``ArrowFormat``
    the ``arrow`` cache format.
"""

from __future__ import annotations

from runway_hf.arrow_format import ArrowFormat
from runway_hf.functions import register_hf_function, registered_hf_functions
from runway_hf.transforms.base import HFDatasetTransform

__version__ = "0.1.0"

__all__ = ["ArrowFormat", "HFDatasetTransform", "__version__", "register_hf_function", "registered_hf_functions"]
