"""A sweep on the real local SLURM cluster: one job array, followed to the end, compared."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from runway.cli.main import cli
from runway.experiment.store import ExperimentStore
from runway.sweep.ledger import find_ledger

WAIT_LIMIT_S = 480


@pytest.mark.slurm
@pytest.mark.slow
@pytest.mark.timeout(WAIT_LIMIT_S)
def test_a_four_point_sweep_runs_on_slurm_as_one_array(sweep_project, slurm_launcher_opt, runway_plugins):
    assert "slurm" in runway_plugins.implementers("launch_array"), (
        "runway-slurm does not implement the launch_array hook, so a sweep would be submitted job by job"
    )
    project = sweep_project
    runner = CliRunner()

    result = runner.invoke(
        cli,
        ["sweep", "tiny", "--opts", "executor.optimizer.lr=0.01,0.001", "train.batch_size=16,32", slurm_launcher_opt,
         "--launcher", "slurm", "--command", "run", "--wait"],
        catch_exceptions=False,
    )

    assert result.exit_code == 0, result.output
    ledger = find_ledger(project / "experiments", "tiny-1").read()
    jobs = [point["job"] for point in ledger["points"]]
    array_ids = {job["job_id"].split("_")[0] for job in jobs}
    assert len(array_ids) == 1, f"expected one job array, got jobs {[j['job_id'] for j in jobs]}"
    assert sorted(job["job_id"].split("_")[1] for job in jobs) == ["0", "1", "2", "3"]
    assert f"as one job array ({array_ids.pop()})" in result.output
    assert [point["state"] for point in ledger["points"]] == ["completed"] * 4
    store = ExperimentStore(project / "experiments")
    for point in ledger["points"]:
        version = store.get("tiny", point["version"])
        assert version.status["state"] == "completed"
        assert version.provenance["sweep"]["id"] == "tiny-1"
        assert version.metrics("test")

    status = runner.invoke(cli, ["sweep", "status"], catch_exceptions=False)
    assert [line.split()[1] for line in status.output.splitlines()[2:]] == ["completed"] * 4
    compared = runner.invoke(cli, ["compare", "tiny"], catch_exceptions=False)
    assert compared.exit_code == 0, compared.output
    rows = compared.output.splitlines()[1:5]
    assert [row.split()[0] for row in rows] == ["tiny_V1", "tiny_V2", "tiny_V3", "tiny_V4"]
    assert all("completed" in row for row in rows)
