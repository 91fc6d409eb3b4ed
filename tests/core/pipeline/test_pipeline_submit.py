"""Planning a pipeline submission (`runway prepare NAME --launcher L`): which
nodes become jobs and what each waits for; the options' usage errors. The
jobs themselves run on the real cluster in tests/slurm/test_prepare_on_slurm.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

TRANSFORMS = '''
import runway


@runway.register_transform
class Count(runway.Transform):
    def setup(self, n=3):
        self.n = n

    def _call(self, data):
        return {"x": list(range(self.n))}


@runway.register_transform
class Double(runway.Transform):
    def _call(self, data):
        return {"x": [v * 2 for v in data["x"]]}
'''

CONFIG = {
    "data_pipeline": {
        "name": "p",
        "transforms": {
            "input:count": {"transform_name": "Count"},
            "scratch": {"input_node": "input:count", "transform_name": "Double", "cache": False},
            "output:twice": {"input_node": "scratch", "transform_name": "Double"},
            "output:once": {"input_node": "input:count", "transform_name": "Double"},
        },
    }
}


@pytest.fixture
def pipeline_project(runway_project: Callable[..., Path], runway_builtin_plugins) -> Path:
    return runway_project(configs={"p": json.dumps(CONFIG)}, files={"data_processing/count.py": TRANSFORMS})


def jobs_of(root: Path) -> dict[str, list[str]]:
    """Each job's node and the nodes it waits for (the jobs come in an order where those come first)."""
    from runway.pipeline import plan_pipeline
    from runway.pipeline.submit import plan_jobs

    jobs = plan_jobs(plan_pipeline(CONFIG, root))
    order = [job["node"] for job in jobs]
    assert all(order.index(parent) < order.index(job["node"]) for job in jobs for parent in job["after"])
    return {job["node"]: job["after"] for job in jobs}


def test_each_cached_node_to_compute_is_a_job_and_an_uncached_one_runs_inside_its_readers(pipeline_project):
    # scratch (cache: false) has no job: output:twice computes it, so it waits for input:count
    assert jobs_of(pipeline_project) == {"input:count": [], "output:twice": ["input:count"], "output:once": ["input:count"]}


def test_a_cached_node_is_no_job_and_nothing_waits_for_it(pipeline_project):
    from runway.pipeline import run_pipeline

    run_pipeline(CONFIG, pipeline_project, nodes=["input:count"])
    assert jobs_of(pipeline_project) == {"output:twice": [], "output:once": []}
    run_pipeline(CONFIG, pipeline_project)
    assert jobs_of(pipeline_project) == {}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--wait"], "--wait follows submitted jobs: give it with --launcher"),
        (["--dry-run"], "--dry-run shows the jobs a launcher would get: give it with --launcher"),
        (["--launcher", "nope"], "unknown launcher 'nope'"),
    ],
)
def test_submission_options_without_a_launcher_that_submits_are_usage_errors(pipeline_project, runway_cli, args, message):
    result = runway_cli("prepare", "p", *args)

    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not (pipeline_project / "experiments" / "p_V1").exists()


SHARDED_TRANSFORMS = '''
import runway


@runway.register_transform
class Rows(runway.Transform):
    def _call(self, data):
        return [{"i": i} for i in range(6)]


@runway.register_transform
class Tag(runway.Transform):
    shardable = True

    def _call(self, rows):
        return [{**row, "tag": True} for row in rows]
'''

SHARDED = {
    "data_pipeline": {
        "transforms": {
            "input:rows": {"transform_name": "Rows"},
            "output:tagged": {"input_node": "input:rows", "transform_name": "Tag", "setup_kwargs": {"_shards": 3}},
        }
    }
}


def test_a_sharded_job_names_its_missing_shards_which_a_dry_run_counts_and_a_submission_stages(
    runway_project: Callable[..., Path], runway_builtin_plugins
):
    from runway.pipeline import plan_pipeline, run_pipeline, submit
    from runway.pipeline.shards import run_shard

    root = runway_project(configs={"sharded": json.dumps(SHARDED)}, files={"data_processing/rows.py": SHARDED_TRANSFORMS})
    cache = root / "local_cache"
    plan = plan_pipeline(SHARDED, root)
    jobs = submit.plan_jobs(plan)
    assert [(job["node"], job.get("shards")) for job in jobs] == [("input:rows", None), ("output:tagged", 3)]
    submit.stage_shard_jobs(plan, jobs, cache, runway_builtin_plugins, write=False)
    assert jobs[1]["missing"] == [0, 1, 2] and not list(cache.glob("*/.shards-*"))  # a dry run writes nothing
    # the input is computed by an earlier job: staged all the same
    submit.stage_shard_jobs(plan, jobs, cache, runway_builtin_plugins)
    assert (Path(jobs[1]["staging"]) / "plan.json").is_file()

    run_pipeline(SHARDED, root, nodes=["input:rows"])
    assert run_shard(cache, "output:tagged", jobs[1]["key"], 1, 3, project=root) == "computed"
    plan = plan_pipeline(SHARDED, root)
    jobs = submit.plan_jobs(plan)
    submit.stage_shard_jobs(plan, jobs, cache, runway_builtin_plugins)
    assert [job["node"] for job in jobs] == ["output:tagged"] and jobs[0]["missing"] == [0, 2]
    assert submit.dependency_lines(jobs)[0].endswith("after nothing; 3 shards (shards 0,2 to compute), then their merge")
    assert submit.index_ranges([8, 0, 1, 2, 5, 7]) == "0-2,5,7-8"
