"""The `runway init` example cut down to seconds, for tests that train it: 300 samples, a narrow network, a constant rate."""

from __future__ import annotations


def tiny_example(epochs: int, *, extra: str = "") -> str:
    """The experiment config: ``epochs`` epochs in batches of 32, ``extra`` (jsonnet fields) added at its end."""
    return f"""
local example = import 'experiments/example.jsonnet';

example + {{
  data_pipeline+: {{ transforms+: {{ 'input:digits'+: {{ setup_kwargs+: {{ limit: 300 }} }} }} }},
  executor+: {{
    model+: {{ init_args+: {{ hidden: [16] }} }},
    optimizer+: {{ lr: 0.01 }},
    scheduler: {{ name: 'constant' }},
  }},
  train+: {{ epochs: {epochs}, batch_size: 32 }},{extra}
}}
"""
