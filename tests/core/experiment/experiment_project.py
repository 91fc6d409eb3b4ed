"""The tiny experiment that the experiment tests train: the `runway init` example cut down."""

# the example, cut down: 300 samples, a narrow network, 2 epochs at a constant rate
TINY_CONFIG = """
local example = import 'experiments/example.jsonnet';

example + {
  data_pipeline+: { transforms+: { 'input:digits'+: { setup_kwargs+: { limit: 300 } } } },
  executor+: {
    model+: { init_args+: { hidden: [16] } },
    optimizer+: { lr: 0.01 },
    scheduler: { name: 'constant' },
  },
  train+: { epochs: 2, batch_size: 32 },
}
"""
