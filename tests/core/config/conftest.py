"""A tiny Runway project on disk, and the current folder inside it."""

from __future__ import annotations

from pathlib import Path

import pytest
from config_files import write


EXPERIMENT_X = """
local base = import 'base.libsonnet';
local shared = import '../shared/optim.libsonnet';
{
  meta: {
    name: std.extVar('runway.experiment_name'),
    root: std.extVar('runway.project_root'),
    dummy: std.extVar('runway.use_dummy_data') == 'true',
  },
  train: base.train + { optimizer: shared },
  loggers: ['csv'],
}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Root of a project with configs/base.libsonnet, configs/shared/ and experiment ``x``."""
    root = tmp_path / "proj"
    write(root / "runway.toml", "")
    write(root / "configs" / "base.libsonnet", "{ train: { epochs: 3, layers: [8, 16, 32] } }\n")
    write(root / "configs" / "shared" / "optim.libsonnet", "{ name: 'adamw', lr: 0.001 }\n")
    write(root / "configs" / "experiments" / "x.jsonnet", EXPERIMENT_X)
    monkeypatch.chdir(root)
    return root
