"""The ``runway`` command line (click)."""
