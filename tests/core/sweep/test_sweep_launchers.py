"""Sweeps handed to a launcher (``launch_array``, else ``launch_job``), followed and resumed.

The launcher is a small inline plugin that keeps the jobs instead of running
them and answers ``job_status`` with states the test sets, so every state
change is under the test's control; nothing trains here.
"""

from __future__ import annotations

import json


import runway
from runway.experiment.status import write_status
from runway.experiment.store import ExperimentStore
from runway.launch.job import JobHandle
from runway.sweep.ledger import find_ledger


class KeepingLauncher:
    """Launcher ``keep``: records what it is given; job states come from ``states``."""

    name = "keep"

    def __init__(self) -> None:
        self.arrays: list[list] = []
        self.singles: list = []
        self.states: dict[str, str] = {}
        self.next_array = 100

    def _handle(self, job_id: str) -> JobHandle:
        return JobHandle(self.name, "submitted", job_id=job_id, info={"record": {"launcher": self.name, "job_id": job_id}})

    @runway.hookimpl
    def launch_job(self, job, launcher):
        if launcher != self.name:
            return None
        self.singles.append(job)
        return self._handle(f"single-{job.version}")

    @runway.hookimpl
    def job_status(self, record):
        if record.get("launcher") != self.name:
            return None
        return {"state": self.states.get(record["job_id"], "PENDING")}


class ArrayLauncher(KeepingLauncher):
    name = "keep-array"

    @runway.hookimpl
    def launch_array(self, jobs, launcher, folder):
        if launcher != self.name:
            return None
        self.arrays.append(list(jobs))
        array_id = self.next_array
        self.next_array += 1
        return [self._handle(f"{array_id}_{i}") for i in range(len(jobs))]


def _ledger(project):
    return find_ledger(project / "experiments", None).read()


def test_a_sweep_goes_to_the_launcher_as_one_array(project, invoke, runway_builtin_plugins, register_plugin):
    launcher = register_plugin(ArrayLauncher(), name="keep-array")

    result = invoke("sweep", "tiny", "--opts", "executor.optimizer.lr=1e-3,1e-4", "train.batch_size=[16,32]", "train.epochs=1", "--launcher", "keep-array")

    assert result.exit_code == 0, result.output
    assert "submitted 4 point(s) to keep-array as one job array (100)" in result.output
    (jobs,) = launcher.arrays
    assert launcher.singles == []
    store = ExperimentStore(project / "experiments")
    assert store.versions("tiny") == [1, 2, 3, 4]
    expected = [(1e-3, 16), (1e-3, 32), (1e-4, 16), (1e-4, 32)]
    ledger = _ledger(project)
    assert ledger["id"] == "tiny-1" and ledger["swept_keys"] == ["executor.optimizer.lr", "train.batch_size"]
    for job, point, (lr, batch) in zip(jobs, ledger["points"], expected):
        version = store.get("tiny", job.version)
        assert job.argv == ["execute", str(version.path)] and job.command == "train" and not job.wait
        spec = json.loads((version.path / "job.json").read_text())
        assert spec["tags"] == ["sweep=tiny-1"] and spec["launcher"] == "keep-array"
        assert version.config["executor"]["optimizer"]["lr"] == lr and version.config["train"]["batch_size"] == batch
        assert version.provenance["sweep"] == {"id": "tiny-1", "point": point["index"], "overrides": point["overrides"]}
        assert version.status["state"] == "pending"
        assert point["version"] == job.version and point["state"] == "pending"
        assert point["job"] == {"launcher": "keep-array", "job_id": f"100_{point['index']}"}


def test_status_follows_versions_and_launcher_states_and_resume_reruns_only_the_unfinished(
    project, invoke, runway_builtin_plugins, register_plugin
):
    launcher = register_plugin(ArrayLauncher(), name="keep-array")
    assert invoke("sweep", "tiny", "--opts", "train.batch_size=8,16,32,64", "--launcher", "keep-array").exit_code == 0
    store = ExperimentStore(project / "experiments")
    # point 0 finished (its version says so), 1 failed in the queue, 2 was cancelled, 3 waits
    write_status(store.get("tiny", 1).path, "completed", job_type="train")
    launcher.states.update({"100_0": "COMPLETED", "100_1": "FAILED", "100_2": "CANCELLED", "100_3": "PENDING"})

    shown = invoke("sweep", "status")
    assert shown.exit_code == 0, shown.output
    rows = {line.split()[0]: line for line in shown.output.splitlines()[2:]}
    assert "completed" in rows["0"] and "tiny_V1" in rows["0"]
    assert "failed" in rows["1"] and "keep-array job 100_1 ended FAILED" in rows["1"]
    assert "interrupted" in rows["2"] and "cancelled" in rows["2"]
    assert "pending (queued)" in rows["3"]
    assert [p["state"] for p in _ledger(project)["points"]] == ["completed", "failed", "interrupted", "pending"]

    refused = invoke("sweep", "resume")
    assert refused.exit_code == 2 and "still has 1 point(s) running or queued: tiny_V4" in refused.output

    launcher.states["100_3"] = "COMPLETED"  # ended, but its version never recorded completing
    resumed = invoke("sweep", "resume", "tiny-1")
    assert resumed.exit_code == 0, resumed.output
    assert "resuming 3 of 4 point(s)" in resumed.output
    assert [[j.version for j in jobs] for jobs in launcher.arrays] == [[1, 2, 3, 4], [5, 6, 7]]
    points = _ledger(project)["points"]
    assert [p["version"] for p in points] == [1, 5, 6, 7]
    assert points[0]["attempts"] == []
    assert [p["attempts"][0]["version"] for p in points[1:]] == [2, 3, 4]
    assert [p["attempts"][0]["state"] for p in points[1:]] == ["failed", "interrupted", "failed"]
    assert [p["state"] for p in points] == ["completed", "pending", "pending", "pending"]
    assert store.versions("tiny") == [1, 2, 3, 4, 5, 6, 7]


def test_a_launcher_without_arrays_gets_the_jobs_one_by_one(project, invoke, runway_builtin_plugins, register_plugin):
    launcher = register_plugin(KeepingLauncher(), name="keep")

    result = invoke("sweep", "tiny", "--opts", "train.batch_size=8,16", "--launcher", "keep")

    assert result.exit_code == 0, result.output
    assert "submits no job arrays; submitting 2 jobs one by one" in result.output
    assert [job.version for job in launcher.singles] == [1, 2]
    assert [p["job"]["job_id"] for p in _ledger(project)["points"]] == ["single-1", "single-2"]


def test_bad_points_are_refused_before_anything_is_allocated(project, invoke, runway_builtin_plugins):
    result = invoke("sweep", "tiny", "--opts", "train.batch_size=8,16", "train.epoch=1,2")
    assert result.exit_code == 2
    assert "sweep point 0" in result.output and "'train.epochs'" in result.output
    assert not (project / "experiments" / "tiny_V1").exists()
    unknown = invoke("sweep", "tiny", "--opts", "train.batch_size=8,16", "--launcher", "nowhere")
    assert unknown.exit_code == 2 and "unknown launcher 'nowhere'" in unknown.output


def test_random_sweeps_record_their_seed_and_repeat(project, invoke, runway_builtin_plugins, register_plugin):
    register_plugin(ArrayLauncher(), name="keep-array")
    args = ("--opts", "executor.optimizer.lr=loguniform(1e-5,1e-2)", "train.batch_size=int(16,64)", "--random", "3", "--launcher", "keep-array")
    assert invoke("sweep", "tiny", *args, "--seed", "7").exit_code == 0
    assert invoke("sweep", "tiny", *args, "--seed", "7").exit_code == 0
    first, second = (find_ledger(project / "experiments", f"tiny-{n}").read() for n in (1, 2))
    assert first["seed"] == 7 and first["mode"] == "random" and len(first["points"]) == 3
    assert [p["overrides"] for p in first["points"]] == [p["overrides"] for p in second["points"]]
    for point in first["points"]:
        assert 1e-5 <= point["overrides"]["executor.optimizer.lr"] <= 1e-2
        assert 16 <= point["overrides"]["train.batch_size"] <= 64

    unseeded = invoke("sweep", "tiny", *args)
    assert unseeded.exit_code == 0
    assert isinstance(find_ledger(project / "experiments", "tiny-3").read()["seed"], int)
    listed = invoke("sweep", "list")
    assert [line.split()[0] for line in listed.output.splitlines()[1:]] == ["tiny-1", "tiny-2", "tiny-3"]
    as_json = json.loads(invoke("sweep", "status", "tiny-2", "--json").output)
    assert as_json["id"] == "tiny-2" and len(as_json["points"]) == 3


def test_sweep_commands_need_a_sweep(project, invoke, runway_builtin_plugins):
    result = invoke("sweep", "status")
    assert result.exit_code == 2 and "no sweeps in" in result.output
    assert invoke("sweep", "tiny").exit_code == 2  # nothing to sweep


def test_secrets_in_a_sweep_stay_out_of_provenance_and_the_ledger_command_line(
    project, invoke, runway_builtin_plugins, register_plugin
):
    launcher = register_plugin(ArrayLauncher(), name="keep-array")
    result = invoke(
        "sweep", "tiny", "--opts", "train.batch_size=8,16", "+plugins.tracker.api_key=s3cr3t-value", "--launcher", "keep-array"
    )
    assert result.exit_code == 0, result.output
    (jobs,) = launcher.arrays
    # the job itself still gets the value (kept apart, owner-only): only the records are redacted
    from runway.job.spec import read_config

    assert all(read_config(job.version_dir)["plugins"]["tracker"]["api_key"] == "s3cr3t-value" for job in jobs)
    store = ExperimentStore(project / "experiments")
    for job in jobs:
        version = store.get("tiny", job.version)
        for name in ("config.json", "provenance.json"):
            assert "s3cr3t-value" not in (version.path / name).read_text(), name
        recorded = version.provenance["sweep"]["overrides"]
        assert [value for key, value in recorded.items() if key.endswith("api_key")] == ["***"], recorded
    ledger = _ledger(project)
    assert "s3cr3t-value" not in json.dumps(ledger["argv"])
