"""The local launcher's array children: forked from a warm server, each one what ``python -m runway`` would be.

Each test runs real children (a forkserver's, or ``python -m runway``
subprocesses with ``RUNWAY_FORKSERVER=0``) in a tiny project whose training
has a probe callback: it records what the child sees (folder, environment,
stdin, command line, the command Lightning would start DDP ranks with),
then passes, fails or waits to be interrupted, as its config says.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import runway.__main__ as runway_main
from runway.experiment.store import ExperimentStore
from runway.launch import local
from runway.launch.job import Job
from runway.sweep.ledger import find_ledger
from runway.sweep.runner import observe

WAIT_S = 120

# the template's example cut down to seconds
TINY = """
local example = import 'experiments/example.jsonnet';

example + {
  data_pipeline+: { transforms+: { 'input:digits'+: { setup_kwargs+: { limit: 200 } } } },
  executor+: { model+: { init_args+: { hidden: [16] } }, scheduler: { name: 'constant' } },
  train+: { epochs: 1, batch_size: 32 },
}
"""

PROBE = """
import atexit
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path

import torch
from lightning.pytorch.callbacks import Callback


class Probe(Callback):
    def __init__(self, out: str, mode: str = "pass"):
        self.out = Path(out)
        self.mode = mode

    def on_train_start(self, trainer, pl_module):
        import __main__
        from lightning.fabric.strategies.launchers.subprocess_script import _basic_subprocess_cmd

        stdin, null = os.fstat(0), os.stat(os.devnull)
        report = {
            "cwd": os.getcwd(),
            "probe_value": os.environ.get("PROBE_VALUE"),
            "stdin_is_devnull": (stdin.st_dev, stdin.st_ino) == (null.st_dev, null.st_ino),
            "sys_stdin_fd": sys.stdin.fileno(),
            "argv": sys.argv,
            "main_spec": getattr(__main__.__spec__, "name", None),
            "ddp_command": _basic_subprocess_cmd(),
            "sys_path0": sys.path[0],
            "process_name": multiprocessing.current_process().name,
            "parent_process": multiprocessing.parent_process() is not None,
            "nvml_check": os.environ.get("PYTORCH_NVML_BASED_CUDA_CHECK"),
            "pgid": os.getpgid(0),
            "ppid": os.getppid(),
            "cuda_bad_fork": torch.cuda._is_in_bad_fork(),
        }
        print("probe: a line on stdout")
        print("probe: a line on stderr", file=sys.stderr)
        atexit.register(self.at_exit)
        self.out.write_text(json.dumps(report), encoding="utf-8")
        if self.mode == "fail":
            raise RuntimeError("the probe fails this run")
        if self.mode == "hold":
            self.out.with_suffix(".holding").touch()
            while True:
                time.sleep(0.05)

    def at_exit(self):
        print("probe: atexit ran")
        self.out.with_suffix(".atexit").touch()
"""


def _experiment(out: Path, mode: str) -> str:
    callback = f"{{ class_path: 'modeling.probe:Probe', init_args: {{ out: '{out}', mode: '{mode}' }} }}"
    return f"local tiny = import 'tiny.jsonnet';\ntiny + {{ train+: {{ trainer_paras+: {{ callbacks: [{callback}] }} }} }}\n"


@pytest.fixture
def project(runway_project, tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    configs = {"tiny": TINY, **{f"probe_{mode}": _experiment(reports / f"{mode}.json", mode) for mode in ("pass", "fail", "hold")}}
    return runway_project(configs, files={"modeling/probe.py": PROBE})


def _reports(project: Path) -> Path:
    return project.parent / "reports"


def _start(project: Path, argv: list[str], context, log: Path, **env: str) -> local._Subprocess | local._Forked:
    return local.start_child(argv, cwd=project, log_path=log, environment={**os.environ, **env}, context=context)


def _run(project: Path, argv: list[str], context, **env: str) -> tuple[int, str]:
    """``runway ARGV`` as a child; its exit code and its log."""
    log = project.parent / f"child-{len(list(project.parent.glob('child-*.log')))}.log"
    log.write_text("===== a header line\n", encoding="utf-8")
    child = _start(project, argv, context, log, PROBE_VALUE="from the array")
    try:
        code = child.wait(timeout=WAIT_S)
    finally:
        child.kill()
        child.close()
    return code, log.read_text(encoding="utf-8")


def _report(project: Path, mode: str) -> dict:
    return json.loads((_reports(project) / f"{mode}.json").read_text(encoding="utf-8"))


def _version_dir(project: Path, experiment: str) -> Path:
    store = ExperimentStore(project / "experiments")
    return store.get(experiment, store.versions(experiment)[-1]).path


def _wait_for(predicate, what: str, limit_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + limit_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def _forkserver():
    context = local._forkserver()
    if context is None:
        pytest.skip("no forkserver here (not POSIX)")
    return context


# ---------------------------------------------------------------------------- exit codes, output, state


@pytest.mark.slow
def test_a_forked_child_exits_and_reports_as_python_m_runway_would(project, monkeypatch):
    monkeypatch.delenv(local.FORKSERVER_ENV, raising=False)
    context = _forkserver()

    passed, log = _run(project, ["train", "probe_pass"], context)
    failed, failed_log = _run(project, ["train", "probe_fail"], context)
    bad_input, bad_log = _run(project, ["train", "no_such_experiment"], context)

    assert (passed, failed, bad_input) == (0, 1, 2), log + failed_log + bad_log
    report = _report(project, "pass")
    version = _version_dir(project, "probe_pass")
    assert report["cwd"] == str(project)
    assert report["probe_value"] == "from the array"  # the environment given, not the server's
    assert report["nvml_check"] == "1"  # what importing Lightning sets, as in a fresh process
    assert report["stdin_is_devnull"] and report["sys_stdin_fd"] == 0
    # during the job, argv is `runway execute DIR`; argv[0] is what `python -m runway` has
    assert report["argv"] == [runway_main.__file__, "execute", str(version)]
    assert report["main_spec"] == "runway.__main__"
    assert report["ddp_command"] == [sys.executable, "-m", "runway.__main__", "execute", str(version)]
    assert report["sys_path0"] == str(project)
    assert report["process_name"] == "MainProcess" and report["parent_process"] is False
    assert report["pgid"] == os.getpgid(0)  # the server and its children stay in our process group
    assert report["cuda_bad_fork"] is False  # the server did not initialize CUDA before forking
    # the output lands in the log, after what was there; atexit handlers ran and their output is there too
    assert log.startswith("===== a header line\n")
    assert "probe: a line on stdout" in log and "probe: a line on stderr" in log
    assert log.rstrip().endswith("probe: atexit ran") and (_reports(project) / "pass.atexit").exists()
    assert "the probe fails this run" in failed_log
    assert "no_such_experiment" in bad_log
    assert ExperimentStore(project / "experiments").get("probe_fail", 1).status["state"] == "failed"


@pytest.mark.slow
def test_runway_forkserver_0_starts_subprocesses_that_see_the_same(project, monkeypatch):
    monkeypatch.setenv(local.FORKSERVER_ENV, "0")
    code, log = _run(project, ["train", "probe_pass"], local._forkserver())
    assert code == 0, log
    in_subprocess = _report(project, "pass")
    assert in_subprocess["ppid"] == os.getpid()  # started by this process, not forked by a server
    monkeypatch.delenv(local.FORKSERVER_ENV)
    code, log = _run(project, ["train", "probe_pass"], _forkserver())
    assert code == 0, log
    forked = _report(project, "pass")

    assert forked["ppid"] != os.getpid()
    monkeypatch.setenv(local.FORKSERVER_ENV, "0")
    assert _run(project, ["train", "no_such_experiment"], local._forkserver())[0] == 2
    store = ExperimentStore(project / "experiments")
    assert store.versions("probe_pass") == [1, 2]
    alike = set(forked) - {"argv", "ddp_command", "ppid"}  # the first two name the version folder
    assert {k: forked[k] for k in alike} == {k: in_subprocess[k] for k in alike}
    for report, number in ((in_subprocess, 1), (forked, 2)):
        version = str(store.get("probe_pass", number).path)
        assert report["argv"] == [runway_main.__file__, "execute", version]
        assert report["ddp_command"] == [sys.executable, "-m", "runway.__main__", "execute", version]


@pytest.mark.slow
@pytest.mark.parametrize("forked", [True, False], ids=["forked", "subprocess"])
def test_an_interrupted_child_records_itself_interrupted(project, monkeypatch, forked):
    context = _forkserver() if forked else None
    log = project.parent / "hold.log"
    child = _start(project, ["train", "probe_hold"], context, log)
    try:
        _wait_for(lambda: (_reports(project) / "hold.holding").exists() or child.poll() is not None, "the run to hold")
        assert child.poll() is None, log.read_text()
        child.send_signal(signal.SIGINT)
        code = child.wait(timeout=WAIT_S)
    finally:
        child.kill()
        child.close()
    version = _version_dir(project, "probe_hold")
    job = Job(version_dir=version, experiment="probe_hold", version=1, command="train", project_root=project)
    # click turns the KeyboardInterrupt into "Aborted!" and exit code 1; the status says interrupted
    assert code == 1, log.read_text()
    assert local._state(job, code)[0] == "interrupted"
    assert (_reports(project) / "hold.atexit").exists()


# ---------------------------------------------------------------------------- sweeps


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_bytes().rsplit(b")", 1)[-1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
                members.append(int(entry.name))
    return members


def _sweep(project: Path, experiment: str, *opts: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "runway", "sweep", experiment, "--opts", *opts],
        cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process groups from /proc")
def test_a_sweep_stops_its_forked_children_on_sigterm_and_kill_9_of_its_group_kills_them(project):
    holding = _reports(project) / "hold.holding"
    sweep = _sweep(project, "probe_hold", "train.batch_size=16,32")
    try:
        _wait_for(lambda: holding.exists() or sweep.poll() is not None, "the first point to hold", limit_s=2 * WAIT_S)
        assert sweep.poll() is None
        child = _report(project, "hold")
        members = _group_members(sweep.pid)
        assert len(members) >= 3  # the sweep, the forkserver, the point (and multiprocessing's resource tracker)
        sweep.send_signal(signal.SIGTERM)  # the sweep alone: it stops its children (SIGINT) itself
        assert sweep.wait(timeout=WAIT_S) != 0
    finally:
        if sweep.poll() is None:
            os.killpg(sweep.pid, signal.SIGKILL)
        sweep.wait()
    assert child["pgid"] == sweep.pid
    _, observed = observe(find_ledger(project / "experiments", None), persist=False)
    assert [seen["state"] for seen in observed][:1] == ["interrupted"]
    assert ExperimentStore(project / "experiments").get("probe_hold", 1).status["state"] == "interrupted"
    _wait_for(lambda: not _group_members(sweep.pid), "the forkserver to end with the sweep", limit_s=30)

    holding.unlink()
    sweep = _sweep(project, "probe_hold", "train.batch_size=16")
    try:
        _wait_for(lambda: holding.exists() or sweep.poll() is not None, "the point to hold", limit_s=2 * WAIT_S)
        assert sweep.poll() is None
        assert len(_group_members(sweep.pid)) >= 3
    finally:
        os.killpg(sweep.pid, signal.SIGKILL)  # like a lost machine: the sweep, its server, the point
        sweep.wait()
    _wait_for(lambda: not _group_members(sweep.pid), "every process of the sweep's group to die", limit_s=30)


@pytest.mark.slow
def test_a_ddp_point_of_a_sweep_starts_its_second_rank_as_python_m_runway(project, runway_cli, runway_builtin_plugins):
    result = runway_cli(
        "sweep", "probe_pass", "--opts", "train.trainer_paras.devices=2", "+train.trainer_paras.strategy=ddp",
    )
    assert result.exit_code == 0, result.output
    version = ExperimentStore(project / "experiments").get("probe_pass", 1)
    assert version.status["state"] == "completed", (version.path / local.JOB_LOG).read_text()
    provenance = json.loads((version.path / "provenance.json").read_text())
    assert provenance["world_size"] == 2
    # the probe ran in both ranks; the last one to write it tells the command line rank 1 was started with
    report = _report(project, "pass")
    assert report["ddp_command"] == [sys.executable, "-m", "runway.__main__", "execute", str(version.path)]
