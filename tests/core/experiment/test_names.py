"""Experiment names with ``/``: stored as ``__`` in folder names, so ``__`` is refused."""

from __future__ import annotations

import pytest

from runway.errors import ExperimentError
from runway.experiment.store import ExperimentStore
from runway.experiment.versions import check_name, folder_name, parse_folder_name
from runway.hookspecs import hookimpl

# the conftest's tiny experiment under two more names
SAME_AS_TINY = "import 'experiments/tiny.jsonnet'\n"


def test_a_double_underscore_is_refused_and_says_why():
    with pytest.raises(ExperimentError, match=r"'__', which stands for '/'"):
        check_name("a__b")
    assert folder_name(check_name("a/b"), 1) == "a__b_V1"
    assert parse_folder_name("a__b_V1") == ("a/b", 1)


def test_train_a_subfolder_name_then_its_folder_name_is_refused(project, invoke):
    root = project
    (root / "configs" / "experiments" / "a").mkdir()
    (root / "configs" / "experiments" / "a" / "b.jsonnet").write_text(SAME_AS_TINY, encoding="utf-8")
    (root / "configs" / "experiments" / "a__b.jsonnet").write_text(SAME_AS_TINY, encoding="utf-8")
    trained = invoke("train", "a/b", "--opts", "train.epochs=1")
    assert trained.exit_code == 0, trained.output
    before = sorted(p.name for p in (root / "experiments").iterdir())
    refused = invoke("train", "a__b", "--opts", "train.epochs=1")
    assert refused.exit_code == 2, refused.output
    assert "'__'" in refused.output
    assert sorted(p.name for p in (root / "experiments").iterdir()) == before
    assert ExperimentStore(root / "experiments").versions("a/b") == [1]


class _Recorder:
    """A logger plugin that keeps what ``runway sync`` sends it."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict]] = []

    @hookimpl
    def log_metrics(self, run, metrics, step):
        self.received.append((run.name, dict(metrics)))


def test_list_show_and_sync_find_the_versions_of_a_subfolder_name(project, invoke, register_plugin):
    store = ExperimentStore(project / "experiments")
    for _ in range(2):
        version = store.allocate("a/b")
        (version.path / "config.json").write_text("{}", encoding="utf-8")
        logs = version.train_dir / "logs"
        logs.mkdir(parents=True)
        (logs / "metrics.csv").write_text("step,metric,value,time\n1,loss,0.5,1.0\n", encoding="utf-8")
    assert [p.name for p in sorted((project / "experiments").iterdir()) if p.is_dir()] == ["a__b_V1", "a__b_V2"]

    listed = invoke("list")
    assert listed.exit_code == 0, listed.output
    assert "a/b" in listed.output
    shown = invoke("show", "a/b")
    assert shown.exit_code == 0, shown.output
    assert "a/b_V2" in shown.output

    recorder = register_plugin(_Recorder(), name="recorder")
    synced = invoke("sync", "a/b", "--version", "1", "--logger", "recorder")
    assert synced.exit_code == 0, synced.output
    assert recorder.received == [("a/b_V1", {"loss": 0.5})]
    assert invoke("sync", "a__b", "--logger", "recorder").exit_code == 2
