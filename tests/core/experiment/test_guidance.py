"""Every command that creates something ends with its next step; missing packages are said before anything fails."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from runway.cli import hints
from runway.project import requirements
from runway.project.requirements import Missing, install_line, missing_requirements


def _last_lines(output: str, n: int) -> list[str]:
    return [line for line in output.splitlines() if line.strip()][-n:]


# ------------------------------------------------------------------ requirements


def test_an_extra_is_expanded_from_the_installed_metadata_and_really_installed_here():
    # the real check: this environment has the [examples] extra, as the tests' install gives it
    assert requirements.extra_requirements("runway-core", "examples") == ["scikit-learn>=1.3"]
    assert missing_requirements(["runway-core[examples]"]) == []


def test_a_missing_distribution_of_an_extra_is_named_with_the_pip_line():
    installed = {"runway-core": "0.1.0"}.get  # scikit-learn is not installed
    missing = missing_requirements(["runway-core[examples]"], installed)
    assert missing == [Missing("scikit-learn>=1.3", None, "runway-core[examples]")]
    line = install_line(missing)
    assert line.startswith(sys.executable) and line.endswith("-m pip install 'scikit-learn>=1.3'")
    assert "scikit-learn>=1.3 (not installed), from runway-core[examples]" in requirements.requirements_message(missing)


def test_a_version_too_old_is_missing_and_a_bad_requirement_is_refused():
    assert missing_requirements(["scikit-learn>=1.3"], {"scikit-learn": "1.2.0"}.get) == [Missing("scikit-learn>=1.3", "1.2.0")]
    assert missing_requirements(["scikit-learn>=1.3"], {"scikit-learn": "1.5.2"}.get) == []
    from runway.errors import RunwayError

    with pytest.raises(RunwayError, match="no requirement"):
        missing_requirements(["!!"], {}.get)


def _without_sklearn(monkeypatch):
    real = requirements._installed
    monkeypatch.setattr(requirements, "_installed", lambda name: None if name == "scikit-learn" else real(name))


def test_init_says_the_pip_line_before_the_example_runs(tmp_path, monkeypatch, runway_cli):
    monkeypatch.chdir(tmp_path)
    _without_sklearn(monkeypatch)
    result = runway_cli("init", "demo")
    assert result.exit_code == 0
    assert "the example needs scikit-learn>=1.3 (not installed), from runway-core[examples]" in result.output
    assert f"{sys.executable} -m pip install 'scikit-learn>=1.3'" in result.output
    assert _last_lines(result.output, 1)[0].strip().startswith("runway run example")


def test_init_with_everything_installed_points_at_the_example(tmp_path, monkeypatch, runway_cli):
    monkeypatch.chdir(tmp_path)
    result = runway_cli("init", "demo")
    assert result.exit_code == 0 and "pip install" not in result.output
    assert [line.split()[0:2] for line in _last_lines(result.output, 3)] == [["next:"], ["cd", "demo"], ["runway", "run"]]


def test_run_without_the_example_dependency_gives_the_pip_line_and_leaves_no_version(project, invoke, monkeypatch):
    _without_sklearn(monkeypatch)
    result = invoke("run", "tiny")
    assert result.exit_code == 2
    assert "pip install 'scikit-learn>=1.3'" in result.output
    assert "Traceback" not in result.output and "ModuleNotFoundError" not in result.output
    assert not list((project / "experiments").glob("tiny_V*"))
    prepared = invoke("prepare", "tiny")
    assert prepared.exit_code == 2 and "pip install 'scikit-learn>=1.3'" in prepared.output


# ------------------------------------------------------------------ next steps


def test_experiment_and_prepare_end_with_their_next_step(project, invoke):
    made = invoke("experiment", "wide")
    assert made.exit_code == 0
    assert [line.split()[:3] for line in _last_lines(made.output, 2)] == [["runway", "config", "show"], ["runway", "run", "wide"]]
    prepared = invoke("prepare", "tiny")
    assert prepared.exit_code == 0, prepared.output
    assert _last_lines(prepared.output, 3)[0] == "next:"
    assert _last_lines(prepared.output, 2)[0].split()[:3] == ["runway", "train", "tiny"]


def test_infer_and_eval_end_with_show_and_the_records(trained, invoke):
    inferred = invoke("infer", "tiny", "test")
    assert inferred.exit_code == 0, inferred.output
    last = _last_lines(inferred.output, 5)
    assert last[0] == "next:" and last[1].split()[:3] == ["runway", "show", "tiny:1"]
    assert last[-1].strip() == f"records: {Path('experiments') / 'tiny_V1' / 'test-test'}"
    evaluated = invoke("eval", "tiny:1:test")
    assert evaluated.exit_code == 0
    assert _last_lines(evaluated.output, 5)[0] == "next:"
    # infer and eval run here, on a version that exists: their output joins its log too
    log = (trained / "experiments" / "tiny_V1" / "logs" / "output.log").read_text(encoding="utf-8")
    assert "===== runway infer tiny_V1 test, " in log and "===== runway eval tiny_V1 test, " in log
    assert "tiny_V1: predictions in" in log and log.rstrip().endswith("test-test")


def test_quiet_leaves_the_next_steps_out(trained, invoke):
    result = invoke("-q", "infer", "tiny", "test")
    assert result.exit_code == 0 and "next:" not in result.output
    assert "tiny_V1 test: accuracy=" in result.output


def test_after_training_names_show_infer_and_list(trained, runway_cli, capsys):
    from runway.experiment.store import ExperimentStore

    version = ExperimentStore(trained / "experiments").get("tiny", 1)
    hints.after_training(version, "train")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "next:"
    assert [line.split()[:3] for line in lines[1:4]] == [["runway", "show", "tiny:1"], ["runway", "infer", "tiny:1"], ["runway", "list", "every"]]
    assert lines[-1].strip() == f"records: {Path('experiments') / 'tiny_V1'}"


def test_a_module_missing_at_run_time_is_named_with_its_pip_line():
    from runway.project.requirements import missing_module_hint

    try:
        import sklearn_that_is_not_there  # type: ignore[import-not-found]  # noqa: F401
    except ModuleNotFoundError as exc:
        hint = missing_module_hint(exc)
    assert hint is not None and hint.endswith("runway.toml's requires, so that the next run checks it before starting)")
    assert f"{sys.executable} -m pip install sklearn_that_is_not_there" in hint
    assert missing_module_hint(ModuleNotFoundError("No module named 'sklearn'", name="sklearn")).count("pip install scikit-learn") == 1
    assert missing_module_hint(ModuleNotFoundError("x", name="runway.nothing")) is None
    assert missing_module_hint(ValueError("x")) is None
