// A complete experiment: `runway run example` prepares the digits data,
// trains the MLP classifier, predicts the test split and evaluates it.
local meta = import 'meta_config.libsonnet';
local data = import 'data_config.libsonnet';
local model = import 'model_config.libsonnet';

meta + data + model + {
  description: 'MLP on scikit-learn digits',
}
