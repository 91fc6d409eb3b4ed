"""Three guards on the public hook API: callable, documented, tested."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from runway import hookspecs
from runway.plugins import make_plugin_manager

REPO = Path(__file__).resolve().parents[2]
SPECS = sorted(
    name
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
    if getattr(fn, "runway_spec", None) is not None
)


def test_the_four_public_hooks_keep_their_signatures():
    sig = {name: str(inspect.signature(getattr(hookspecs, name))).replace("'", "") for name in SPECS}
    assert sig["register_transforms"] == "(register: Callable[..., None]) -> None"
    assert sig["build_executor"] == "(name: str, config: dict, context: Any) -> LightningModule | None"
    assert sig["log_metrics"] == "(run: Run, metrics: dict[str, float], step: int | None) -> None"
    assert sig["launch_job"] == "(job: Job, launcher: str) -> JobHandle | None"
    assert hookspecs.build_executor.runway_spec["firstresult"]
    assert hookspecs.launch_job.runway_spec["firstresult"]
    assert not hookspecs.log_metrics.runway_spec["firstresult"]


@pytest.mark.parametrize("name", SPECS)
def test_every_hook_is_callable_with_no_implementation(name):
    plugins = make_plugin_manager(builtins={}, builtins_only=True)
    params = list(inspect.signature(getattr(hookspecs, name)).parameters)
    result = getattr(plugins.hook, name)(**{p: None for p in params})
    firstresult = getattr(hookspecs, name).runway_spec["firstresult"]
    assert result == (None if firstresult else [])


@pytest.mark.parametrize("name", SPECS)
def test_every_hook_is_documented_with_four_parts(name):
    doc = inspect.getdoc(getattr(hookspecs, name)) or ""
    assert "When:" in doc and ":returns:" in doc and "How:" in doc, name
    for param in inspect.signature(getattr(hookspecs, name)).parameters:
        assert f":param {param}:" in doc, (name, param)


def test_hook_reference_page_is_up_to_date():
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen_hook_docs.py"), "--check"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    page = (REPO / "docs" / "hooks.md").read_text(encoding="utf-8")
    for name in SPECS:
        assert f"def {name}(" in page


@pytest.mark.parametrize("name", SPECS)
def test_every_hook_has_a_test_that_exercises_it(name):
    this = Path(__file__).resolve()
    users = [
        p
        for p in (REPO / "tests").rglob("test_*.py")
        if p.resolve() != this and name in p.read_text(encoding="utf-8", errors="replace")
    ]
    assert users, f"no test mentions the hook {name!r}"
