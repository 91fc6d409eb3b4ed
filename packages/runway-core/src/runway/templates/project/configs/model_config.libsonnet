// The executor (executors/classifier.py), its model (modeling/mlp.py), the
// optimizer and schedule, training, testing and evaluation.
{
  executor: {
    name: 'digits_classifier',
    // which pipeline output each split reads
    data: {
      train: { node: 'output:tensors', item: 'train' },
      validation: { node: 'output:tensors', item: 'validation' },
      test: { node: 'output:tensors', item: 'test' },
    },
    model: {
      class_path: 'modeling.mlp:MLP',
      init_args: { in_features: 64, hidden: [128], num_classes: 10, dropout: 0.1 },
    },
    optimizer: { name: 'AdamW', lr: 0.003, weight_decay: 0.0001 },
    scheduler: { name: 'cosine', warmup_steps: 10 },
  },
  train: {
    epochs: 12,
    batch_size: 64,
    monitor: 'val/accuracy',  // best.ckpt is the epoch with the highest one
    // passed to lightning.Trainer as they are
    trainer_paras: { accelerator: 'cpu', devices: 1 },
  },
  test: { suffix: 'test', split: 'test', batch_size: 256 },
  eval: { metrics: ['accuracy', 'f1', 'worst_class_accuracy'] },
}
