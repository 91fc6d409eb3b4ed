"""The project a command runs in: its root, folders, and its own code."""

from runway.project.project import MARKER_FILE, Project

__all__ = ["MARKER_FILE", "Project"]
