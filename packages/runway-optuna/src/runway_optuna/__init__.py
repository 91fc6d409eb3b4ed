"""Runway's optuna sweeper: ``runway sweep NAME --sweeper optuna --trials N --metric M``."""
