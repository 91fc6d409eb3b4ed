// The data pipeline: scikit-learn's bundled digits (8x8 images, 10 classes; no
// download), split with a fixed seed, standardised with the train split's
// statistics, and turned into tensors. Each node's output is cached in
// local_cache/ under a key of its transform, settings and inputs.
{
  data_pipeline: {
    name: 'digits',
    transforms: {
      'input:digits': {
        transform_name: 'LoadDigits',
        setup_kwargs: { limit: null },  // a number keeps only the first N samples
      },
      split: {
        input_node: 'input:digits',
        transform_name: 'SplitRows',
        setup_kwargs: { validation_fraction: 0.15, test_fraction: 0.2, seed: 0 },
      },
      normalise: {
        input_node: 'split',
        transform_name: 'Standardise',
      },
      'output:tensors': {
        input_node: 'normalise',
        transform_name: 'ToTensors',
      },
    },
  },
}
