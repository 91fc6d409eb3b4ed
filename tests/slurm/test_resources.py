"""The launcher.slurm section and the command a job runs: our own logic,
no cluster needed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runway.errors import ConfigError, RunwayError
from runway.plugins import make_plugin_manager
from runway_slurm.command import RunwayCommand
from runway_slurm.errors import SlurmJobFailed
from runway_slurm.resources import (
    SlurmResources,
    check_section,
    parse_mem,
    parse_time_minutes,
    resources_for_job,
)


@pytest.mark.parametrize(
    ("value", "minutes"),
    [(90, 90), ("90", 90), ("01:30:00", 90), ("1:00", 1), ("0:30", 1), ("2-00", 2880), ("1-02:03", 1563), ("0-00:00:59", 1)],
)
def test_time_in_slurm_formats_becomes_minutes(value, minutes):
    assert parse_time_minutes(value) == minutes


@pytest.mark.parametrize("value", ["1h", "", "00:00:00", 0, "1:2:3:4", True])
def test_bad_times_are_refused(value):
    with pytest.raises(ValueError):
        parse_time_minutes(value)


@pytest.mark.parametrize(("value", "mem"), [(4096, "4096M"), ("4G", "4G"), ("4gb", "4G"), ("512M", "512M"), ("100", "100M")])
def test_memory_in_sbatch_form(value, mem):
    assert parse_mem(value) == mem


def test_unknown_key_gets_a_suggestion_and_types_are_checked():
    problems = check_section({"partiton": "gpu", "nodes": "2", "gpus_per_node": -1, "setup": ["ok", 3], "time": "soon"})
    text = "\n".join(problems)
    assert "launcher.slurm.partiton: unknown key. Did you mean 'partition'?" in text
    assert "launcher.slurm.nodes: expected an integer >= 1, got '2'" in text
    assert "launcher.slurm.gpus_per_node: expected an integer >= 0, got -1" in text
    assert "launcher.slurm.setup: every line must be a string, got 3" in text
    assert "launcher.slurm.time: 'soon' is not a SLURM time" in text
    assert len(problems) == 5


def test_booleans_are_not_integers_and_signal_must_precede_the_limit():
    assert check_section({"nodes": True}) == ["launcher.slurm.nodes: expected an integer >= 1, got True"]
    (problem,) = check_section({"time": 2, "signal_delay_s": 120})
    assert problem.startswith("launcher.slurm.signal_delay_s: 120 s is not shorter than the time limit 2")


def test_validate_config_hook_reports_only_the_slurm_section():
    plugins = make_plugin_manager(builtins={}, allow=["slurm"])
    results = plugins.hook.validate_config(config={"launcher": {"slurm": {"qos": 3}, "local": {"whatever": 1}}})
    problems = [p for result in results if result for p in result]
    assert problems == ["launcher.slurm.qos: expected a QOS name, got 3"]
    assert not any(plugins.hook.validate_config(config={"model": {}}))


def test_section_maps_to_submitit_parameters():
    resources = SlurmResources.from_section(
        {
            "partition": "gpu",
            "time": "02:00:00",
            "nodes": 2,
            "gpus_per_node": 4,
            "cpus_per_task": 8,
            "mem": "64G",
            "account": "lab",
            "qos": "high",
            "constraint": "a100",
            "setup": ["module load cuda"],
            "additional_parameters": {"mail_type": "END"},
        }
    )
    assert resources.tasks_per_node == 4  # one task per GPU unless told otherwise
    assert resources.num_tasks == 8
    assert resources.executor_parameters("runway-exp-V1-train") == {
        "job_name": "runway-exp-V1-train",
        "time": 120,
        "nodes": 2,
        "ntasks_per_node": 4,
        "signal_delay_s": 120,
        "partition": "gpu",
        "cpus_per_task": 8,
        "gpus_per_node": 4,
        "account": "lab",
        "qos": "high",
        "constraint": "a100",
        "setup": ["module load cuda"],
        "additional_parameters": {"mail_type": "END", "mem": "64G"},
    }


def test_defaults_and_errors_from_section():
    resources = SlurmResources.from_section(None)
    assert (resources.time_minutes, resources.nodes, resources.tasks_per_node) == (60, 1, 1)
    with pytest.raises(ConfigError, match="launcher.slurm.nodes") as info:
        SlurmResources.from_section({"nodes": 0})
    assert isinstance(info.value, RunwayError) and info.value.exit_code == 2


def test_checkpoint_requeues_the_same_folder_marked_as_requeued(monkeypatch, tmp_path):
    monkeypatch.delenv("SLURM_RESTART_COUNT", raising=False)
    command = RunwayCommand(tmp_path / "exp_V3", env={"A": "1"}, workdir="/tmp")
    assert not command.restarted()
    resumed = command.checkpoint().function
    assert isinstance(resumed, RunwayCommand) and resumed.requeued and resumed.restarted()
    assert (resumed.version_dir, resumed.env, resumed.workdir, resumed.entry) == (
        str(tmp_path / "exp_V3"), {"A": "1"}, "/tmp", command.entry)
    shard = RunwayCommand(tmp_path / "exp_V3" / "pipeline" / "01-node", entry="runway.pipeline.submit:execute_shard", args=(3,))
    assert shard.checkpoint().function.args == (3,)  # a requeued shard task computes the same shard


def test_a_job_slurm_requeued_by_itself_runs_as_requeued(monkeypatch, tmp_path):
    monkeypatch.setenv("SLURM_RESTART_COUNT", "1")
    assert RunwayCommand(tmp_path).restarted()
    monkeypatch.setenv("SLURM_RESTART_COUNT", "0")
    assert not RunwayCommand(tmp_path).restarted()


def test_tasks_per_node_follow_the_trainers_devices_and_disagreements_are_errors():
    def config(**paras):
        return {"train": {"trainer_paras": paras}}

    derived = resources_for_job({"time": 5}, config(accelerator="cpu", devices=2, strategy="ddp"))
    assert (derived.tasks_per_node, derived.nodes, derived.gpus_per_node) == (2, 1, 0)
    on_gpus = resources_for_job(None, config(accelerator="gpu", devices=4, num_nodes=2))
    assert (on_gpus.tasks_per_node, on_gpus.nodes, on_gpus.gpus_per_node) == (4, 2, 4)
    assert resources_for_job({"tasks_per_node": 3}, config(devices="auto")).tasks_per_node == 3
    assert resources_for_job({"tasks_per_node": 2}, None).tasks_per_node == 2
    with pytest.raises(ConfigError, match=r"tasks_per_node is 4 but train.trainer_paras.devices asks for 2") as info:
        resources_for_job({"tasks_per_node": 4}, config(devices=2))
    assert info.value.exit_code == 2
    # num_nodes left out follows the job's nodes; one that disagrees is an error
    assert resources_for_job({"nodes": 2}, config(devices=1)).num_tasks == 2
    with pytest.raises(ConfigError, match=r"nodes is 2 but train.trainer_paras.num_nodes is 3"):
        resources_for_job({"nodes": 2}, config(devices=1, num_nodes=3))
    with pytest.raises(ConfigError, match=r"gpus_per_node is 1 but .* asks for 2 GPUs"):
        resources_for_job({"gpus_per_node": 1}, config(accelerator="cuda", devices=2))


def test_the_command_calls_its_entry_with_the_folder_and_fails_the_job_on_bad_input(monkeypatch, tmp_path, capsys, job_entries_on_path):
    monkeypatch.delenv("SLURM_RESTART_COUNT", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RUNWAY_SLURM_TEST_MARK", "unset")  # restored after the test
    workdir = tmp_path / "project"
    workdir.mkdir()
    folder = tmp_path / "exp_V1"
    folder.mkdir()
    entry = f"{job_entries_on_path}:record_call"
    assert RunwayCommand(folder, env={"RUNWAY_SLURM_TEST_MARK": "x"}, workdir=workdir, entry=entry)() == 0
    assert (folder / "called").read_text() == f"{folder} requeued=False"
    assert os.environ["RUNWAY_SLURM_TEST_MARK"] == "x" and Path.cwd() == workdir
    # the real executor on a folder that holds no job: a failed SLURM job saying why
    with pytest.raises(SlurmJobFailed, match="no job.json"):
        RunwayCommand(folder, workdir=tmp_path)()
    assert "no job.json" in capsys.readouterr().err


def test_pipeline_node_options_are_checked_and_laid_over_the_section():
    from runway_slurm.resources import check_section, pipeline_node_section

    section = {"time": 5, "nodes": 2, "prepare_first": True, "pipeline_nodes": {"process:tok": {"cpus_per_task": 4}}}
    assert check_section(section) == []
    # one task per node job: a training job's nodes do not carry over
    assert pipeline_node_section(section, "process:tok") == {"time": 5, "cpus_per_task": 4}
    assert pipeline_node_section(section, "other") == {"time": 5}
    problems = check_section({"prepare_first": "yes", "pipeline_nodes": {"a": {"cpus_per_task": 0}, "b": 3}})
    assert problems == [
        "launcher.slurm.prepare_first: expected true or false (true: a training job whose data is not cached submits "
        "the pipeline's node jobs first), got 'yes'",
        "launcher.slurm.pipeline_nodes.a.cpus_per_task: expected an integer >= 1, got 0",
        "launcher.slurm.pipeline_nodes.b: expected a mapping of SLURM options, got int",
    ]
