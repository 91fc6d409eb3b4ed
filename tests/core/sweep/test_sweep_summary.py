"""A sweep ends with its summary table (the points, their versions and states), then its counts."""

from __future__ import annotations

from test_sweep_launchers import ArrayLauncher


def test_a_sweep_ends_with_its_summary_table(project, invoke, runway_builtin_plugins, register_plugin):
    register_plugin(ArrayLauncher(), name="keep-array")

    result = invoke("sweep", "tiny", "--opts", "train.batch_size=8,16", "--launcher", "keep-array")

    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.output.splitlines()]
    header = next(i for i, line in enumerate(lines) if line.split()[:3] == ["POINT", "STATE", "VERSION"])
    assert "train.batch_size" in lines[header]
    rows = [line.split() for line in lines[header + 1 : header + 3]]
    assert [(r[0], r[1], r[-2], r[-1]) for r in rows] == [("0", "pending", "tiny_V1", "8"), ("1", "pending", "tiny_V2", "16")]
    assert lines[header + 3] == "sweep tiny-1: 2 pending"
