"""Jobs and launchers: where and how a command runs."""

from runway.launch.job import Job, JobHandle

__all__ = ["Job", "JobHandle"]
