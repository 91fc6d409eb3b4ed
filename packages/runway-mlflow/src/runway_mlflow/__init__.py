"""The `mlflow` plugin for Runway."""
