"""Jobs and launchers: where and how a command runs.

``Job``/``JobHandle`` travel through the ``launch_job`` hook; ``records``
keeps ``jobs.jsonl``; ``preemption`` turns a launcher's warning into a
checkpoint and a clean stop.
"""

from runway.launch.job import Job, JobHandle
from runway.launch.preemption import Preempted

__all__ = ["Job", "JobHandle", "Preempted"]
