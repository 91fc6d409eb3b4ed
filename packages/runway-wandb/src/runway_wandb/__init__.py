"""The `wandb` plugin for Runway."""
