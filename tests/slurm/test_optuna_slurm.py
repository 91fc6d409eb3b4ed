"""A 4-trial optuna search as one job array on the real local SLURM cluster, its tasks sharing one study."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from runway.cli.main import cli
from runway.sweep.ledger import find_ledger

WAIT_LIMIT_S = 600


@pytest.mark.slurm
@pytest.mark.slow
@pytest.mark.timeout(WAIT_LIMIT_S)
def test_a_four_trial_search_runs_as_one_array_sharing_a_journal_study(sweep_project, slurm_launcher_opt, runway_plugins):
    optuna = pytest.importorskip("optuna")
    pytest.importorskip("runway_optuna")
    project = sweep_project

    result = CliRunner().invoke(
        cli,
        ["sweep", "tiny", "--sweeper", "optuna", "--trials", "4", "--metric", "val/accuracy", "--direction", "max", "--seed", "1",
         "--sweeper-opt", "pruner=none", "--opts", "executor.optimizer.lr=loguniform(1e-3,1e-1)", "train.epochs=2",
         slurm_launcher_opt, "--launcher", "slurm", "--wait"],
        catch_exceptions=False,
    )

    assert result.exit_code == 0, result.output
    ledger = find_ledger(project / "experiments", "tiny-1")
    points = ledger.read()["points"]
    assert len({p["job"]["job_id"].split("_")[0] for p in points}) == 1, [p["job"]["job_id"] for p in points]
    assert [p["state"] for p in points] == ["completed"] * 4
    settings = json.loads((ledger.folder / "optuna.json").read_text())
    study = optuna.load_study(study_name=settings["study_name"], storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(settings["storage"])))
    assert sorted(t.number for t in study.trials if t.state.name == "COMPLETE") == [0, 1, 2, 3]
    # each task reported its epochs to the shared study itself
    assert all(len(t.intermediate_values) == 2 for t in study.trials)
