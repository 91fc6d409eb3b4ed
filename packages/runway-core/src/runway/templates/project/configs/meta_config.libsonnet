// Settings every experiment shares.
{
  meta: {
    // seeds Python, numpy, torch and dataloader workers: reruns on CPU repeat exactly
    seed: 42,
    // `--dummy` runs the pipeline on a small sample (see data_processing/digits.py)
    use_dummy_data: std.extVar('runway.use_dummy_data') == 'true',
  },
  // Resources for `--launcher slurm` (runway-slurm): add partition, account,
  // gpus_per_node, mem... for your cluster; `--opts launcher.slurm.time=...`
  // overrides one run.
  launcher: {
    slurm: { time: '01:00:00' },
  },
}
