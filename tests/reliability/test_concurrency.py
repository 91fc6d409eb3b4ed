"""Several processes at once on one project: nothing lost, nothing done twice, no error."""

from __future__ import annotations

import json
import os

import pytest
from reliability_helpers import (
    assert_cache_consistent,
    cache_entries,
    light_pipeline,
    start_runway,
    wait_for,
    hold_launcher_env,
)

from runway.experiment.status import read_status

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.name != "posix", reason="flock semantics are POSIX"),
]



def _finish_all(procs):
    return [(p.wait(timeout=300), *p.communicate()) for p in procs]


def test_four_prepares_of_one_pipeline_compute_each_node_once(light):
    light.write_config("light", light_pipeline(n=5000, sleep=0.3))
    results = _finish_all([start_runway(light.root, "prepare", "light") for _ in range(4)])
    for code, out, err in results:
        assert code == 0, err
        assert out.startswith("output:wrapped")
    assert set(light.calls().values()) == {1} and len(light.calls()) == 6
    assert len({out.split()[1] for _, out, _ in results}) == 1
    assert assert_cache_consistent(light.cache_dir) == 6


def test_eight_starts_of_one_experiment_get_eight_versions(light, tmp_path):
    env = hold_launcher_env(tmp_path / "site")
    results = _finish_all([start_runway(light.root, "train", "light", "--launcher", "hold", env=env) for _ in range(8)])
    for code, out, err in results:
        assert code == 0, err
        assert "Traceback" not in err
    folders = sorted(light.experiments_dir.glob("light_V*"))
    assert sorted(int(f.name.rsplit("_V", 1)[1]) for f in folders) == list(range(1, 9))
    announced = sorted(out.split(":", 1)[0] for _, out, _ in results)
    assert announced == sorted(f.name for f in folders)  # each process names its own version
    for folder in folders:
        job = json.loads((folder / "held-job.json").read_text())
        assert job["version"] == int(folder.name.rsplit("_V", 1)[1])
        assert job["version_dir"] == str(folder) and job["argv"] == ["execute", str(folder)]
        assert json.loads((folder / "job.json").read_text())["version"] == job["version"]
        assert json.loads((folder / "config.json").read_text())["data_pipeline"]["name"] == "light"
        assert json.loads((folder / "provenance.json").read_text())["version"] == job["version"]
        assert read_status(folder)["state"] == "pending"


def test_two_cache_gcs_during_a_prepare_lose_and_duplicate_nothing(light):
    # an old entry that gc may delete, then the pipeline under new settings
    light.write_config("old", light_pipeline(n=10))
    old = start_runway(light.root, "prepare", "old")
    assert old.wait(timeout=300) == 0, old.communicate()[1]
    old_entries = set(cache_entries(light.cache_dir))
    light.log.unlink()

    light.write_config("light", light_pipeline(n=5000, sleep=0.8))
    prepare = start_runway(light.root, "prepare", "light")
    wait_for(lambda: light.calls()["input:a"] + light.calls()["input:b"] >= 1, "prepare to start computing")
    gcs = [start_runway(light.root, "cache", "gc") for _ in range(2)]
    gc_results = _finish_all(gcs)
    prepared = _finish_all([prepare])[0]

    assert prepared[0] == 0, prepared[2]
    for code, out, err in gc_results:
        assert code == 0, err
        assert "Traceback" not in err
    # every node computed exactly once and its entry is there, complete
    assert set(light.calls().values()) == {1} and len(light.calls()) == 6
    assert_cache_consistent(light.cache_dir)
    latest = {
        json.loads(p.read_text())["node"]: json.loads(p.read_text())["key"] for p in light.cache_dir.glob("*/latest.json")
    }
    new_entries = {e for e in cache_entries(light.cache_dir) if e not in old_entries}
    assert {e.name for e in new_entries} == {latest[n] for n in light_pipeline()["transforms"]}
    # a second prepare loads everything: gc removed nothing that the run produced
    again = start_runway(light.root, "-q", "prepare", "light")  # -q: the node lines without the next step
    code, out, err = _finish_all([again])[0]
    assert code == 0, err
    assert out.split()[-1] == "LOAD" and set(light.calls().values()) == {1}
