"""`runway prepare NAME --launcher slurm` of a sharded ``datasets`` map on the real
local cluster: a job array of one task per shard, then a merge job, on local Arrow files."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from runway.launch.records import read_job_records
from test_prepare_on_slurm import only_version

pytest.importorskip("datasets")

LIMIT_S = 300
NODE = "output:Square"

# Each batch appends "<first id>-<last id>" to $SHARD_TEST_LOG. A batch holding the id in
# $SHARD_TEST_GATE_ID waits until the file $SHARD_TEST_GATE exists: the test kills its task
# meanwhile. Environment variables, not fn_kwargs: they must not change the cache key.
FUNCTIONS = '''
import os
import time

import runway_hf


@runway_hf.register_hf_function
def square(batch):
    ids = batch["id"]
    log = os.environ.get("SHARD_TEST_LOG")
    if log and ids:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(f"{ids[0]}-{ids[-1]}\\n")
    gate = os.environ.get("SHARD_TEST_GATE_ID")
    if gate and int(gate) in ids:
        deadline = time.monotonic() + 200
        while not os.path.exists(os.environ["SHARD_TEST_GATE"]) and time.monotonic() < deadline:
            time.sleep(0.2)
    return {"square": [i * i for i in ids], "shout": [t.upper() for t in batch["text"]]}
'''

TRAIN, TEST = 400, 37  # the test split's ids start at 1000


def config(partition: str, shards: int | None) -> dict:
    return {
        "data_pipeline": {
            "transforms": {
                "input:Load": {"transform_name": "LoadHFDataset", "setup_kwargs": {"load_from_disk": "data/rows"}},
                NODE: {
                    "transform_name": "HFDatasetMap",
                    "input_node": "input:Load",
                    "setup_kwargs": {"function_name": "square", "batched": True, **({"_shards": shards} if shards else {})},
                },
            }
        },
        "launcher": {"slurm": {"partition": partition, "time": 5, "pipeline_nodes": {NODE: {"time": 4}}}},
    }


@pytest.fixture
def project(runway_project: Callable[..., Path], runway_plugins, slurm_cluster, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from datasets import Dataset, DatasetDict
    from runway_hf.functions import forget_hf_function

    configs = {f"shards{n}": json.dumps(config(slurm_cluster.partition, n)) for n in (4, 8)}
    root = runway_project(configs=configs, files={"data_processing/functions.py": FUNCTIONS})
    with (root / "runway.toml").open("a", encoding="utf-8") as toml:
        toml.write('data_code_dirs = ["data_processing"]\n')  # it registers no transform: name its folder
    DatasetDict(
        {
            "train": Dataset.from_dict({"id": list(range(TRAIN)), "text": [f"row {i}" for i in range(TRAIN)]}),
            "test": Dataset.from_dict({"id": list(range(1000, 1000 + TEST)), "text": [f"t {i}" for i in range(TEST)]}),
        }
    ).save_to_disk(str(root / "data" / "rows"))
    monkeypatch.setenv("SHARD_TEST_LOG", str(root / "batches.log"))  # sbatch hands the environment to the jobs
    yield root
    forget_hf_function("square")


def batches(root: Path) -> list[str]:
    log = root / "batches.log"
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return sorted(lines, key=lambda s: int(s.split("-")[0]))


def shard_spans(n: int, first: int, length: int, only: range | None = None) -> list[str]:
    return [f"{first + length * i // n}-{first + length * (i + 1) // n - 1}" for i in (only or range(n))]


def latest(root: Path, cache: str, plugins) -> tuple[str, dict, dict]:
    """(key, {split: rows}, {split: features}) of the map node's latest entry."""
    from runway.pipeline.cache import CacheStore, node_folder_name
    from runway.pipeline.formats import format_registry

    folder = root / cache
    key = json.loads((folder / node_folder_name(NODE) / "latest.json").read_text())["key"]
    store = CacheStore(folder, format_registry(plugins))
    with store.lock(NODE, key):
        data, meta = store.load(NODE, key)
    assert meta["format"] == "arrow"
    return key, {s: data[s].to_dict() for s in data}, {s: data[s].features for s in data}


@pytest.mark.slow
@pytest.mark.slurm
@pytest.mark.timeout(LIMIT_S)
def test_eight_shards_as_a_job_array_give_the_unsharded_local_entry_row_for_row(
    project: Path, runway_plugins, runway_cli: Callable[..., Result], slurm_cluster
):
    from runway.pipeline import run_pipeline

    run_pipeline(config(slurm_cluster.partition, None), project, cache_dir=project / "plain_cache")  # here, unsharded
    assert batches(project) == ["0-399", "1000-1036"]
    plain = latest(project, "plain_cache", runway_plugins)

    dry = runway_cli("prepare", "shards8", "--launcher", "slurm", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"job 2: {NODE}" in dry.output and "8 shards (shards 0-7 to compute), then their merge" in dry.output
    assert "--job-name=runway-shards8-V1-prepare-output_Square-shards --array=0-7" in dry.output
    assert "--job-name=runway-shards8-V1-prepare-output_Square-merge" in dry.output
    assert f"--dependency=afterok:<{NODE} shards> --kill-on-invalid-dep=yes" in dry.output

    # the input is not cached: its job comes first, and the shards are staged before it has run
    result = runway_cli("prepare", "shards8", "--launcher", "slurm", "--wait")

    assert result.exit_code == 0, result.output
    version = only_version(project, "shards8")
    load, *shards, merge = read_job_records(version.path)
    assert load["node"] == "input:Load" and [r["shard"] for r in shards] == list(range(8))
    array_id = shards[0]["array_job_id"]
    assert [r["job_id"] for r in shards] == [f"{array_id}_{i}" for i in range(8)]
    assert all(r["after"] == [load["job_id"]] for r in shards)
    assert merge["merge"] and merge["after"] == [array_id]
    script = (version.path / "slurm" / f"{array_id}_submission.sh").read_text()
    assert "#SBATCH --array=0-7" in script and f"#SBATCH --dependency=afterok:{load['job_id']}" in script
    # the array and the merge job take the node's own options
    merge_script = (version.path / "slurm" / f"{merge['job_id']}_submission.sh").read_text()
    assert "#SBATCH --time=4" in script and "#SBATCH --time=4" in merge_script
    assert f"#SBATCH --dependency=afterok:{array_id}" in merge_script and "#SBATCH --kill-on-invalid-dep=yes" in merge_script
    assert version.status["state"] == "completed"
    # each task mapped its own contiguous rows of each split, once
    assert batches(project) == shard_spans(8, 0, TRAIN) + shard_spans(8, 1000, TEST)
    assert latest(project, "local_cache", runway_plugins) == plain  # same key, rows and features
    assert not list((project / "local_cache").glob("*/.shards-*"))  # the merge removed the staging area


@pytest.mark.slow
@pytest.mark.slurm
@pytest.mark.timeout(LIMIT_S)
def test_a_killed_shard_task_is_named_and_the_next_prepare_submits_and_computes_only_it(
    project: Path, runway_plugins, runway_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
):
    assert runway_cli("prepare", "shards4", "--node", "input:Load").exit_code == 0  # here, not on the cluster
    gate = project / "gate"
    monkeypatch.setenv("SHARD_TEST_GATE_ID", "212")  # a row of shard 2 (train rows 200-299)
    monkeypatch.setenv("SHARD_TEST_GATE", str(gate))
    killed: list[str] = []

    def kill_shard_2_once_the_others_are_done() -> None:
        deadline = time.monotonic() + LIMIT_S - 60
        while time.monotonic() < deadline:
            records = read_job_records(project / "experiments" / "shards4_V1") if (project / "experiments" / "shards4_V1").is_dir() else []
            done = list((project / "local_cache").glob("*/.shards-*/shard-*/*/COMPLETE"))
            task = [r["job_id"] for r in records if r.get("shard") == 2]
            log = project / "batches.log"
            waiting = log.is_file() and "200-299" in log.read_text(encoding="utf-8").split()  # shard 2 is at its gate
            if task and len(done) == 3 and waiting:
                subprocess.run(["scancel", task[0]], check=True)
                killed.append(task[0])
                return
            time.sleep(0.5)

    killer = threading.Thread(target=kill_shard_2_once_the_others_are_done, daemon=True)
    killer.start()
    failed = runway_cli("prepare", "shards4", "--launcher", "slurm", "--wait")
    killer.join()

    assert killed and failed.exit_code == 1, failed.output
    log = project / "experiments" / "shards4_V1" / "slurm" / f"{killed[0]}_0_log.err"
    assert f"node {NODE} shard 2 of 4 failed (SLURM job {killed[0]}: CANCELLED); last lines of {log}" in failed.output
    assert f"not merged, because a shard failed: {NODE}" in failed.output
    first = only_version(project, "shards4")
    assert first.status["state"] == "failed" and "shard 2 of 4" in first.status["error"]
    *_, merge = read_job_records(first.path)
    status = runway_cli("status", "shards4")
    assert f"slurm job {merge['job_id']}: CANCELLED  [prepare {NODE} merge" in status.output, status.output
    assert len(batches(project)) == 4 + 3  # 3 shards mapped both splits, shard 2 waited in train

    gate.touch()
    dry = runway_cli("prepare", "shards4", "--launcher", "slurm", "--dry-run")
    assert "4 shards (shards 2 to compute), then their merge" in dry.output and "--array=2 " in dry.output, dry.output
    again = runway_cli("prepare", "shards4", "--launcher", "slurm", "--wait")

    assert again.exit_code == 0, again.output
    (task, merge) = read_job_records(project / "experiments" / "shards4_V2")
    assert (task["shard"], task["job_id"]) == (2, f"{task['array_job_id']}_2") and merge["after"] == [task["array_job_id"]]
    assert batches(project) == shard_spans(4, 0, TRAIN, range(2, 3)) + shard_spans(4, 1000, TEST, range(2, 3))
    key, rows, _ = latest(project, "local_cache", runway_plugins)
    assert rows["train"]["square"] == [i * i for i in range(TRAIN)]
    assert rows["test"]["shout"] == [f"T {i}" for i in range(TEST)]
    from runway.pipeline import plan_pipeline

    assert plan_pipeline(config("x", None), project, plugins=runway_plugins).keys[NODE] == key
