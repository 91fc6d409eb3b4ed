"""`runway rerun`: a version again from its folder alone, refused when code or packages moved."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from runway.config import load_config
from runway.experiment.rerun import (
    git_differences,
    package_differences,
    parse_target,
    plan_rerun,
)
from runway.project import Project


def _version_dir(root: Path, label: str) -> Path:
    return root / "experiments" / label


def _start(root: Path, opts: tuple[str, ...] = ()):
    """A version of `tiny` with its records written (as `runway train` writes them), nothing run."""
    from runway.job.submit import Submission, base_provenance, create_version
    from runway.plugins import get_plugins

    project = Project.find(root)
    config = load_config("tiny", project=project, opts=opts)
    sub = Submission(command="train", name="tiny", config=config, project=project, argv=["runway", "train", "tiny"])
    version, _ = create_version(sub, ["csv"], provenance=base_provenance(sub, get_plugins()))
    return version


def test_rerun_repeats_the_metrics_exactly_and_refuses_other_packages(trained: Path, invoke) -> None:
    project = trained
    original = _version_dir(project, "tiny_V1")
    # the experiment's config file changes afterwards: the rerun must not read it
    config_file = project / "configs" / "experiments" / "tiny.jsonnet"
    config_file.write_text(config_file.read_text().replace('"epochs": 2', '"epochs": 1'))

    provenance = json.loads((original / "provenance.json").read_text())
    real_torch = provenance["packages"]["torch"]
    provenance["packages"]["torch"] = "0.0.1"
    (original / "provenance.json").write_text(json.dumps(provenance))
    refused = invoke("rerun", "tiny:1")
    assert refused.exit_code == 2
    assert f"package torch: recorded 0.0.1, now {real_torch}" in refused.output
    assert "--force" in refused.output
    assert not _version_dir(project, "tiny_V2").exists()

    forced = invoke("rerun", "tiny:1", "--force")
    assert forced.exit_code == 0, forced.output
    rerun = _version_dir(project, "tiny_V2")
    for name in ("metrics.json", "records.parquet"):
        assert (rerun / "test-test" / name).read_bytes() == (original / "test-test" / name).read_bytes(), name
    new_provenance = json.loads((rerun / "provenance.json").read_text())
    assert new_provenance["rerun_of"]["version"] == 1 and new_provenance["rerun_of"]["forced"] is True
    assert new_provenance["rerun_of"]["differences"] == [f"package torch: recorded 0.0.1, now {real_torch}"]
    assert new_provenance["config_fingerprint"] == provenance["config_fingerprint"]
    assert new_provenance["tag"] == ["rerun_of=tiny_V1"]
    assert json.loads((rerun / "config.json").read_text())["train"]["epochs"] == 2


def test_nothing_differs_right_after_a_version_starts(project: Path) -> None:
    version = _start(project)
    plan = plan_rerun(Project.find(project), "tiny")
    assert plan.version.number == version.number
    assert plan.differences == [] and plan.command == "train"


@pytest.mark.skipif(shutil.which("git") is None, reason="needs the git command")
def test_rerun_refuses_another_commit_or_uncommitted_changes(project: Path, invoke) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=project, check=True,
                       capture_output=True)

    git("init", "-q")
    git("add", "-A")
    git("commit", "-q", "-m", "first")
    _start(project)
    model = project / "modeling" / "mlp.py"
    model.write_text(model.read_text() + "\n# changed\n")
    refused = invoke("rerun", "tiny")
    assert refused.exit_code == 2
    assert "git uncommitted changes differ from the recorded patch" in refused.output

    git("commit", "-q", "-am", "second")
    plan = plan_rerun(Project.find(project), "tiny:V1")
    assert any(d.startswith("git commit: recorded ") for d in plan.differences), plan.differences
    assert not any("uncommitted" in d for d in plan.differences), plan.differences


def test_rerun_takes_secrets_from_the_version_or_refuses_until_given(project: Path, invoke) -> None:
    _start(project, opts=("+_private.api_key=s3cret",))
    folder = _version_dir(project, "tiny_V1")
    saved = json.loads((folder / "config.json").read_text())
    assert saved["_private"]["api_key"] == "***"
    assert plan_rerun(Project.find(project), "tiny").config["_private"]["api_key"] == "s3cret"

    (folder / "secrets.json").unlink()
    refused = invoke("rerun", "tiny", "--force")
    assert refused.exit_code == 2
    assert "redacted values" in refused.output and "_private.api_key" in refused.output
    wrong = invoke("rerun", "tiny", "--force", "--opts", "_private.api_key=guess")
    assert wrong.exit_code == 2 and "_private.api_key" in wrong.output and "changed" in wrong.output
    plan = plan_rerun(Project.find(project), "tiny", ["_private.api_key=s3cret"])
    assert plan.config["_private"]["api_key"] == "s3cret"


def test_difference_rules() -> None:
    recorded = {"commit": "a" * 40, "patch": "", "untracked": ["x.py"]}
    assert git_differences(recorded, dict(recorded)) == []
    assert git_differences(None, None) == []
    moved = git_differences(recorded, {"commit": "b" * 40, "patch": "+1\n", "untracked": ["y.py"]})
    assert [d.split(":")[0].split(" (")[0] for d in moved] == [
        "git commit", "git uncommitted changes differ from the recorded patch", "git untracked files differ"
    ]
    assert "new: y.py; gone: x.py" in moved[2]
    assert package_differences({"packages": {"surely-not-installed-pkg": "1.0"}}) == [
        "package surely-not-installed-pkg: recorded 1.0, now not installed"
    ]
    assert parse_target("exp") == ("exp", None) and parse_target("exp:V3") == ("exp", 3)
    assert parse_target("exp:latest") == ("exp", None) and parse_target("exp:2") == ("exp", 2)
