"""The `hf` plugin for Runway."""
