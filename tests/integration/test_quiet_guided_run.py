"""What a new user sees, from a shell: `runway run example` prints no library chatter, ends with its
next step, keeps its output in the version's logs/; a crash shows the project's own frames; a sweep's
child processes are as quiet; the progress display on a terminal (pexpect) and off it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

RUNWAY = Path(sys.executable).with_name("runway")
# the example cut down: fewer samples, one epoch
FAST = ("--opts", "train.epochs=1", "data_pipeline.transforms.input:digits.setup_kwargs.limit=300")
#: what Lightning, torch, W&B and HF datasets print unasked, and what a trimmed traceback leaves out
NOISE = (
    "GPU available",
    "TPU available",
    "LOCAL_RANK",
    "Loading `train_dataloader` to estimate",
    "Trainer.fit` stopped",
    "callbacks from entry point",
    "LeafSpec",
    "_pytree",
    "Initializing distributed",
    "Symlinked",
    "Saving the dataset",
    "Total params",
)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNWAY_")}
    env.pop("HF_DATASETS_DISABLE_PROGRESS_BARS", None)
    return env


def _runway(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """A real subprocess, stdout and stderr in one stream, as a terminal shows them."""
    return subprocess.run(
        [str(RUNWAY), *args], cwd=cwd, env={**_env(), **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600
    )


def _noise(output: str) -> list[str]:
    return [line for line in output.splitlines() if any(word in line for word in NOISE)]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("guided")
    created = _runway("init", "demo", cwd=folder)
    assert created.returncode == 0, created.stdout
    return folder / "demo"


@pytest.fixture(scope="module")
def ran(demo: Path) -> subprocess.CompletedProcess:
    # a progress line at every chance (not every 10 s): what a long run writes where no bar is drawn
    result = _runway("run", "example", *FAST, cwd=demo, RUNWAY_PROGRESS_INTERVAL_S="0")
    assert result.returncode == 0, result.stdout
    return result


def test_run_example_prints_no_library_noise_and_ends_with_its_next_step(ran):
    assert _noise(ran.stdout) == []
    lines = [line for line in ran.stdout.splitlines() if line.strip()]
    assert lines[-5:] == [
        "next:",
        "  runway show example:1    its config, metrics and checkpoints",
        "  runway compare example   compare it with the experiment's other versions",
        "  runway list              every version side by side",
        f"  records: {Path('experiments') / 'example_V1' / 'test-test'}",
    ]


def test_a_local_run_keeps_its_output_for_runway_logs(demo, ran):
    log = demo / "experiments" / "example_V1" / "logs" / "output.log"
    assert log.is_file()
    shown = _runway("logs", "example:1", cwd=demo)
    assert shown.returncode == 0, shown.stdout
    assert shown.stdout.startswith("===== runway run example_V1 (local), ")
    assert "example_V1: trained; best checkpoint" in shown.stdout
    assert "example_V1 test: accuracy=" in shown.stdout
    # no bar off a terminal: lines say how far training, inference and eval got
    assert re.search(r"^train example_V1: 1/1 epochs \(100%\), [\d.]+ s.*val/accuracy=", shown.stdout, re.M)
    assert re.search(r"^infer example_V1 test-test: \d+/\d+ batches \(100%\)", shown.stdout, re.M)
    assert re.search(r"^eval \(\d+ records\): 3/3 metrics \(100%\)", shown.stdout, re.M)
    assert "\x1b[" not in shown.stdout and "\r" not in shown.stdout


def test_quiet_prints_the_results_only(demo, ran):
    prepared = _runway("-q", "prepare", "example", *FAST, cwd=demo)
    assert prepared.returncode == 0
    assert "next:" not in prepared.stdout and "[1/4]" not in prepared.stdout


def test_a_crash_in_project_code_shows_the_projects_frames_and_one_line_of_context(demo, ran, tmp_path):
    model = demo / "modeling" / "mlp.py"
    original = model.read_text(encoding="utf-8")
    broken = re.sub(r"(def forward\(self, x[^\n]*\n)", r"\1        raise ValueError('the shapes are wrong here')\n", original)
    assert broken != original
    model.write_text(broken, encoding="utf-8")
    try:
        failed = _runway("train", "example", *FAST, cwd=demo)
        full = _runway("--traceback", "train", "example", *FAST, cwd=demo)
    finally:
        model.write_text(original, encoding="utf-8")
    assert failed.returncode == 1
    assert "modeling/mlp.py" in failed.stdout and "raise ValueError('the shapes are wrong here')" in failed.stdout
    frames = [line for line in failed.stdout.splitlines() if line.startswith('  File "')]
    assert frames and all(line.startswith(f'  File "{demo}') for line in frames), frames
    assert "frames of Runway and libraries hidden, `runway --traceback` shows them" in failed.stdout
    assert failed.stdout.rstrip().splitlines()[-1].startswith("Error: train of example_V2 failed: ValueError: the shapes are wrong here")
    assert "runway/job/execute.py" in full.stdout and "lightning/pytorch/" in full.stdout


def test_a_sweeps_child_processes_are_as_quiet_and_the_sweep_ends_with_its_next_step(demo, ran):
    swept = _runway("sweep", "example", *FAST, "train.batch_size=32", cwd=demo)
    assert swept.returncode == 0, swept.stdout
    assert _noise(swept.stdout) == []
    version = max((demo / "experiments").glob("example_V*"), key=lambda p: int(p.name.rsplit("V", 1)[1]))
    child_log = (version / "logs" / "output.log").read_text(encoding="utf-8")
    assert "trained; best checkpoint" in child_log and _noise(child_log) == []
    lines = [line for line in swept.stdout.splitlines() if line.strip()]
    assert lines[-4] == "next:" and lines[-3].split()[:3] == ["runway", "sweep", "status"]


def test_prepare_draws_a_bar_on_a_terminal_and_writes_plain_lines_elsewhere(demo, ran):
    pexpect = pytest.importorskip("pexpect")
    regenerate = ("--regenerate", "input:digits")
    child = pexpect.spawn(
        str(RUNWAY), ["prepare", "example", *FAST, *regenerate], cwd=str(demo), env={**_env(), "TERM": "xterm-256color"},
        encoding="utf-8", dimensions=(30, 160), timeout=120,
    )
    child.expect(r"prepare.*━.*nodes")  # the rich bar (colours between): its description, bar and unit
    child.expect(r"\[\d/4\] done +input:digits")  # the done lines stay above it
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    plain = _runway("prepare", "example", *FAST, *regenerate, cwd=demo)
    assert plain.returncode == 0
    assert "━" not in plain.stdout and "\x1b[" not in plain.stdout
    assert re.search(r"\[1/4\] RUN  input:digits", plain.stdout)
    assert re.search(r"\[1/4\] done   input:digits in [\d.]+s  \(cached as json, [\d.]+ kB\)", plain.stdout)
