"""The `slurm` plugin for Runway."""
