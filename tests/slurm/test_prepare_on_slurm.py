"""`runway prepare NAME --launcher slurm` on the real local cluster: one SLURM
job per pipeline node to compute, chained with --dependency=afterok, the
entries written to the project's cache, which the nodes share."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from runway.experiment.store import ExperimentStore
from runway.launch.records import read_job_records
from test_train_on_slurm import wait_until

LIMIT_S = 240

TRANSFORMS = '''
import runway


@runway.register_transform
class Numbers(runway.Transform):
    def setup(self, n=10):
        self.n = n

    def _call(self, data):
        return {"x": list(range(self.n))}


@runway.register_transform
class Squares(runway.Transform):
    def setup(self, fail=False):
        self.fail = fail

    def _call(self, data):
        if self.fail:
            raise ValueError("squares was told to fail")
        return {"x": [v * v for v in data["x"]]}


@runway.register_transform
class Total(runway.Transform):
    def _call(self, data):
        return {"total": sum(data["x"])}
'''


def numbers_config(partition: str, fail: bool = False) -> str:
    return json.dumps(
        {
            "data_pipeline": {
                "name": "numbers",
                "transforms": {
                    "input:numbers": {"transform_name": "Numbers", "setup_kwargs": {"n": 20}},
                    "squares": {"input_node": "input:numbers", "transform_name": "Squares", "setup_kwargs": {"fail": fail}},
                    "output:total": {"input_node": "squares", "transform_name": "Total"},
                },
            },
            # a default for every node's job, and one node's own
            "launcher": {"slurm": {"partition": partition, "time": 5, "pipeline_nodes": {"output:total": {"time": 4}}}},
        }
    )


def branches_config(partition: str, nodes: tuple[str, ...]) -> str:
    """Two outputs that read one input: two jobs that wait for nothing, each placed on its own cluster node."""
    placed = {f"output:{name}": {"additional_parameters": {"nodelist": node}} for name, node in zip(("squares", "total"), nodes)}
    return json.dumps(
        {
            "data_pipeline": {
                "name": "branches",
                "transforms": {
                    "input:numbers": {"transform_name": "Numbers", "setup_kwargs": {"n": 5}},
                    "output:squares": {"input_node": "input:numbers", "transform_name": "Squares"},
                    "output:total": {"input_node": "input:numbers", "transform_name": "Total"},
                },
            },
            "launcher": {"slurm": {"partition": partition, "time": 5, "pipeline_nodes": placed}},
        }
    )


@pytest.fixture
def project(runway_project: Callable[..., Path], runway_plugins, slurm_cluster) -> Path:
    return runway_project(
        configs={
            "numbers": numbers_config(slurm_cluster.partition),
            "failing": numbers_config(slurm_cluster.partition, fail=True),
            "branches": branches_config(slurm_cluster.partition, slurm_cluster.nodes),
        },
        files={"data_processing/numbers.py": TRANSFORMS},
    )


def only_version(project: Path, name: str):
    store = ExperimentStore(project / "experiments")
    assert store.versions(name) == [1]
    return store.get(name, 1)


@pytest.mark.slow
@pytest.mark.slurm
@pytest.mark.timeout(LIMIT_S)
def test_a_pipeline_with_one_cached_node_submits_two_chained_jobs_that_fill_the_cache(project, runway_cli: Callable[..., Result]):
    cached = runway_cli("prepare", "numbers", "--node", "input:numbers")  # here, not on the cluster
    assert cached.exit_code == 0, cached.output

    dry = runway_cli("prepare", "numbers", "--launcher", "slurm", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "job 1: squares" in dry.output and "after nothing" in dry.output
    assert "job 2: output:total" in dry.output and "after squares" in dry.output and "--time=4" in dry.output
    assert "--job-name=runway-numbers-V1-prepare-output_total" in dry.output
    assert "input:numbers" not in dry.output.split("job 1:", 1)[1]  # the cached node is not a job
    assert not (project / "experiments" / "numbers_V1").exists()

    result = runway_cli("prepare", "numbers", "--launcher", "slurm", "--wait")

    assert result.exit_code == 0, result.output
    version = only_version(project, "numbers")
    first, second = read_job_records(version.path)  # exactly two jobs
    assert (first["node"], first["after"]) == ("squares", [])
    assert (second["node"], second["after"]) == ("output:total", [first["job_id"]])
    script = (version.path / "slurm" / f"{second['job_id']}_submission.sh").read_text()
    assert f"#SBATCH --dependency=afterok:{first['job_id']}" in script and "#SBATCH --kill-on-invalid-dep=yes" in script
    assert "#SBATCH --time=4" in script
    assert "all 2 node job(s) completed" in result.output
    assert version.status["state"] == "completed" and version.status["job_type"] == "prepare"
    # the entries are in the cache: nothing left to run, the output loads
    explained = runway_cli("pipeline", "explain", "numbers")
    assert "0 to run, 1 to load" in explained.output, explained.output
    again = runway_cli("prepare", "numbers", "--launcher", "slurm")
    assert again.exit_code == 0 and "nothing to submit" in again.output
    from runway.pipeline import run_pipeline

    assert run_pipeline(json.loads(numbers_config("debug")), project).outputs["output:total"] == {"total": sum(v * v for v in range(20))}
    status = runway_cli("status", "numbers")
    assert status.output.startswith("numbers_V1: completed (prepare)"), status.output
    assert f"slurm job {first['job_id']}: COMPLETED  [prepare squares" in status.output
    assert f"slurm job {second['job_id']}: COMPLETED  [prepare output:total" in status.output
    logs = runway_cli("logs", "numbers")  # the last node's job
    assert "output:total: RUN" in logs.output


@pytest.mark.slow
@pytest.mark.slurm
@pytest.mark.timeout(LIMIT_S)
def test_a_failed_node_is_named_and_stops_the_node_that_reads_it(project, runway_cli: Callable[..., Result]):
    result = runway_cli("prepare", "failing", "--launcher", "slurm", "--wait")

    assert result.exit_code == 1, result.output
    version = only_version(project, "failing")
    numbers, squares, total = read_job_records(version.path)
    assert "node squares failed" in result.output and "squares was told to fail" in result.output
    assert "not run, because a node they read failed: output:total" in result.output
    assert version.status["state"] == "failed" and "node squares failed" in version.status["error"]
    status = runway_cli("status", "failing")
    assert f"slurm job {numbers['job_id']}: COMPLETED" in status.output
    assert f"slurm job {squares['job_id']}: FAILED" in status.output
    assert f"slurm job {total['job_id']}: CANCELLED" in status.output


@pytest.mark.slow
@pytest.mark.slurm
@pytest.mark.timeout(LIMIT_S)
def test_a_node_that_cannot_see_the_cache_folder_fails_saying_so(project, runway_cli: Callable[..., Result]):
    opts = ['+launcher.slurm.additional_parameters={"hold": true}']
    submitted = runway_cli("prepare", "numbers", "--launcher", "slurm", "--node", "input:numbers", "--opts", *opts)
    assert submitted.exit_code == 0, submitted.output
    version = only_version(project, "numbers")
    (record,) = read_job_records(version.path)
    # the cache folder as a node that does not share it sees it: without the marker the submission wrote
    (project / "local_cache" / ".runway-shared").unlink()
    subprocess.run(["scontrol", "release", record["job_id"]], check=True)
    wait_until(lambda: version.status["state"] == "failed", "the node job to fail")

    error = version.status["error"]
    assert "cannot see the cache folder" in error and str(project / "local_cache") in error and "runway.toml" in error
    cancelled = runway_cli("cancel", "numbers")
    assert cancelled.exit_code == 0


@pytest.mark.slow
@pytest.mark.slurm
@pytest.mark.timeout(LIMIT_S)
def test_independent_nodes_wait_for_nothing_and_take_their_own_options_onto_both_cluster_nodes(
    project, runway_cli: Callable[..., Result], slurm_cluster
):
    from runway_slurm.nodes import job_hosts

    if len(slurm_cluster.nodes) < 2:
        pytest.skip("needs the two-node cluster")
    assert runway_cli("prepare", "branches", "--node", "input:numbers").exit_code == 0

    result = runway_cli("prepare", "branches", "--launcher", "slurm", "--wait")

    assert result.exit_code == 0, result.output
    records = read_job_records(only_version(project, "branches").path)
    assert [(r["node"], r["after"]) for r in records] == [("output:squares", []), ("output:total", [])]
    # each job went where its pipeline_nodes options sent it: the submission used both cluster nodes
    assert [job_hosts(r) for r in records] == [[slurm_cluster.nodes[0]], [slurm_cluster.nodes[1]]]


@pytest.mark.slow
@pytest.mark.slurm
@pytest.mark.timeout(LIMIT_S)
def test_training_whose_data_is_not_cached_submits_the_pipeline_first_and_waits_for_it(
    runway_project: Callable[..., Path], runway_plugins, slurm_cluster, runway_cli: Callable[..., Result]
):
    from runway_project import small_opts

    project = runway_project()
    opts = [*small_opts(slurm_cluster.partition), "+launcher.slurm.prepare_first=true"]

    result = runway_cli("train", "example", "--launcher", "slurm", "--wait", "--opts", *opts)

    assert result.exit_code == 0, result.output
    version = only_version(project, "example")
    *data, train = read_job_records(version.path)
    assert [r["node"] for r in data] == ["input:digits", "split", "normalise", "output:tensors"]
    assert [r["after"] for r in data] == [[], [data[0]["job_id"]], [data[1]["job_id"]], [data[2]["job_id"]]]
    assert train["command"] == "train" and "node" not in train
    script = (version.path / "slurm" / f"{train['job_id']}_submission.sh").read_text()
    assert "#SBATCH --dependency=afterok:" + ":".join(r["job_id"] for r in data) in script
    assert version.status["state"] == "completed" and version.status["job_type"] == "train"
    assert "0 to run, 1 to load" in runway_cli("pipeline", "explain", "example", "--opts", small_opts("x")[0]).output
