"""The optuna sweeper: the space it reads, a TPE search with pruning, kill -9 and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runway.errors import ConfigError, PluginError
from runway.experiment.store import ExperimentStore
from runway.sweep.ledger import find_ledger
from runway.sweep.space import parse_axes
from runway.sweep.sweepers import Search, TrialResult, make_sweeper, sweeper_registry

SPACE = ["executor.optimizer.lr=loguniform(1e-4,3e-1)", "train.batch_size=choice(16,32,64)", "train.epochs=3"]
SEARCH = ["--sweeper", "optuna", "--metric", "val/accuracy", "--direction", "max", "--seed", "5", "--opts", *SPACE]
WAIT_LIMIT_S = 900


def test_the_plugin_registers_the_optuna_sweeper_through_the_hook(runway_plugins):
    registry = sweeper_registry(runway_plugins)
    assert registry["optuna"][1] == "optuna"
    assert {registry["grid"][1], registry["random"][1]} == {"core-sweepers"}


def test_the_space_becomes_optuna_distributions(tmp_path, runway_plugins):
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    axes = parse_axes(["lr=loguniform(1e-5,1e-1)", "drop=uniform(0,0.5)", "layers=int(1,4)", "batch=choice(32,64)", "act=relu,gelu", "epochs=3"])
    sweeper = make_sweeper("optuna", Search(axes=tuple(axes), trials=3, metric="val/accuracy", seed=0, folder=tmp_path, sweep_id="s-1"), runway_plugins)
    assert sweeper.distributions == {
        "lr": FloatDistribution(1e-5, 1e-1, log=True), "drop": FloatDistribution(0, 0.5),
        "layers": IntDistribution(1, 4), "batch": CategoricalDistribution([32, 64]), "act": CategoricalDistribution(["relu", "gelu"]),
    }
    first, second = sweeper.ask(2)
    assert first.overrides["epochs"] == 3 and 1e-5 <= first.overrides["lr"] <= 1e-1
    assert (first.info["trial"], second.info["trial"]) == (0, 1)
    assert json.loads((tmp_path / "optuna.json").read_text())["sampler"] == "tpe"
    assert (tmp_path / "optuna-journal.log").is_file()


@pytest.mark.parametrize(
    ("search", "message"),
    [
        ({"metric": None}, "needs --metric"),
        ({"options": {"sampler": "annealing"}}, "sampler=annealing: use one of tpe"),
        ({"options": {"colour": "red"}}, "--sweeper-opt colour"),
    ],
)
def test_bad_searches_are_refused_before_anything_runs(tmp_path, runway_plugins, search, message):
    fields = {"axes": tuple(parse_axes(["lr=loguniform(1e-5,1e-1)"])), "trials": 2, "metric": "val/accuracy", "folder": tmp_path, **search}
    with pytest.raises(ConfigError, match=message):
        make_sweeper("optuna", Search(**fields), runway_plugins)


def test_an_unknown_sweeper_names_where_one_would_come_from(runway_builtin_plugins):
    with pytest.raises(PluginError, match=r"unknown sweeper 'optuna' \('optuna' is provided by `pip install runway-optuna`\)"):
        make_sweeper("optuna", Search(axes=()), runway_builtin_plugins)


def _trials(project: Path) -> list[dict]:
    return find_ledger(project / "experiments", None).read()["points"]


@pytest.mark.slow
@pytest.mark.timeout(WAIT_LIMIT_S)
def test_a_twelve_trial_tpe_search_improves_on_its_first_trial_and_prunes(project, invoke, runway_plugins, tmp_path):
    result = invoke("sweep", "tiny", "--trials", "12", *SEARCH)

    assert result.exit_code == 0, result.output
    points = _trials(project)
    finished = [p for p in points if p["state"] in ("completed", "pruned")]
    assert len(finished) == 12
    assert sorted(p["trial"]["trial"] for p in points) == list(range(len(points)))
    store = ExperimentStore(project / "experiments")
    for point in points:
        version = store.get("tiny", point["version"])
        trial = version.provenance["sweep"]["trial"]
        assert (trial["trial"], trial["params"]) == (point["trial"]["trial"], point["trial"]["params"])
        assert version.config["executor"]["optimizer"]["lr"] == point["overrides"]["executor.optimizer.lr"]
    first = points[0]["value"]
    assert max(p["value"] for p in finished) > first, [(p["trial"]["trial"], p["value"]) for p in finished]
    pruned = [p for p in points if p["state"] == "pruned"]
    assert pruned, "no trial was pruned"
    for point in pruned:
        version = store.get("tiny", point["version"])
        assert version.status["state"] == "pruned"
        epochs = {line.split(",")[1] for line in (version.path / "train" / "logs" / "metrics.csv").read_text().splitlines()[1:] if "val/accuracy" in line}
        assert len(epochs) < 3  # stopped before its last epoch
    listed = invoke("list")
    assert "pruned" in listed.output

    status = invoke("sweep", "status")
    lines = status.output.splitlines()
    values = [float(line.split()[4]) for line in lines[2:14]]
    assert values == sorted(values, reverse=True)
    best = max(finished, key=lambda p: p["value"])
    assert f"best: point {best['index']}, {best['label']}" in status.output

    made = invoke("experiment", "best", "--from", "tiny-1:best")
    assert made.exit_code == 0, made.output
    config = json.loads((project / "configs" / "experiments" / "best.jsonnet").read_text())
    assert config["executor"]["optimizer"]["lr"] == best["overrides"]["executor.optimizer.lr"]
    assert config["parent"] == f"tiny:{best['version']}"  # the exact version it came from

    drawn = invoke("plot", "--sweep", "tiny-1", "-o", str(tmp_path / "search.png"))
    assert drawn.exit_code == 0, drawn.output
    assert (tmp_path / "search.png").stat().st_size > 1000


@pytest.mark.slow
@pytest.mark.timeout(WAIT_LIMIT_S)
def test_kill_nine_in_the_middle_then_resume_finishes_twelve_trials_without_duplicates(project, invoke):
    command = [sys.executable, "-m", "runway", "sweep", "tiny", "--trials", "12", *SEARCH]
    process = subprocess.Popen(command, cwd=project, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + WAIT_LIMIT_S / 2
    try:
        while time.monotonic() < deadline:
            ledgers = list((project / "experiments" / "_sweeps").glob("*.json"))
            points = _trials(project) if ledgers else []
            if sum(p["state"] in ("completed", "pruned") for p in points) >= 3 and any(p["state"] == "pending" and p["version"] for p in points):
                break
            time.sleep(0.5)
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    before = {p["index"]: (p["version"], p["state"]) for p in _trials(project) if p["state"] in ("completed", "pruned")}
    assert 3 <= len(before) < 12

    result = invoke("sweep", "resume")

    assert result.exit_code == 0, result.output
    points = _trials(project)
    finished = [p for p in points if p["state"] in ("completed", "pruned")]
    assert len(finished) == 12
    for index, (version, state) in before.items():
        assert (points[index]["version"], points[index]["state"]) == (version, state)  # not run again
    versions = [p["version"] for p in points if p["version"] is not None]
    assert len(versions) == len(set(versions))
    assert len({p["trial"]["trial"] for p in points}) == len(points)
    import optuna

    settings = json.loads((find_ledger(project / "experiments", None).folder / "optuna.json").read_text())
    study = optuna.load_study(study_name=settings["study_name"], storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(settings["storage"])))
    done = [t for t in study.trials if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(done) == 12
    assert not [t for t in study.trials if t.state.name == "RUNNING"]


def test_a_trial_asked_but_never_recorded_is_failed_on_resume(tmp_path, runway_plugins):
    from optuna.trial import TrialState

    search = Search(axes=tuple(parse_axes(["lr=loguniform(1e-5,1e-1)"])), trials=3, metric="val/accuracy", seed=0, folder=tmp_path, sweep_id="s-1")
    first = make_sweeper("optuna", search, runway_plugins)
    recorded, _lost = first.ask(2)  # the process died before the second reached the ledger
    again = make_sweeper("optuna", search, runway_plugins)
    again.resume([recorded])
    states = {t.number: t.state for t in again.study.get_trials(deepcopy=False)}
    assert states == {0: TrialState.RUNNING, 1: TrialState.FAIL}
    again.tell(recorded, TrialResult("completed", 0.5))
    assert again.study.best_trial.number == 0 and again.study.best_value == 0.5


def test_the_pruning_callback_joins_the_trainers_of_runway_jobs_only(monkeypatch, tmp_path):
    """Installing runway-optuna leaves a user's own Lightning Trainers alone (Lightning's real entry-point discovery)."""
    import lightning.pytorch as pl
    from runway_optuna.pruning import TrialPruning

    from runway.job.execute import JOB_ENV

    def pruning(trainer):
        return [c for c in trainer.callbacks if isinstance(c, TrialPruning)]

    options = {"accelerator": "cpu", "devices": 1, "logger": False, "enable_checkpointing": False, "default_root_dir": tmp_path}
    monkeypatch.delenv(JOB_ENV, raising=False)
    assert pruning(pl.Trainer(**options)) == []
    monkeypatch.setenv(JOB_ENV, str(tmp_path))
    assert len(pruning(pl.Trainer(**options))) == 1
