"""The job spec on its own: secrets kept apart, fingerprints checked, edits named."""

from __future__ import annotations

import json
import os
import stat

import pytest

from runway.config import fingerprint
from runway.errors import ExperimentError
from runway.job.spec import JobSpec, changed_keys, key_digests, load_job, read_config, write_config, write_spec
from runway.support.files import DamagedFile

CONFIG = {
    "train": {"epochs": 3},
    "svc": {"api_key": "s3cr3t-value", "nested": [{"password": "hunter2"}], "url": "http://example"},
}


def _job(folder, config):
    spec = JobSpec(
        command="train", experiment="exp", version=1, project_root=str(folder), fingerprint=fingerprint(config),
        key_digests=key_digests(config),
    )
    write_config(folder, config)
    write_spec(folder, spec)
    return spec


def test_secrets_live_apart_and_owner_only(tmp_path):
    _job(tmp_path, CONFIG)

    shown = (tmp_path / "config.json").read_text()
    assert "s3cr3t-value" not in shown and "hunter2" not in shown
    assert stat.S_IMODE(os.stat(tmp_path / "secrets.json").st_mode) == 0o600
    assert read_config(tmp_path) == CONFIG
    spec, config = load_job(tmp_path)
    assert config == CONFIG and spec.command == "train"


def test_no_secrets_no_secrets_file(tmp_path):
    _job(tmp_path, {"train": {"epochs": 1}})
    assert not (tmp_path / "secrets.json").exists()


def test_an_edited_config_is_refused_naming_the_keys(tmp_path):
    _job(tmp_path, CONFIG)
    edited = json.loads((tmp_path / "config.json").read_text())
    edited["train"]["epochs"] = 30
    edited["train"]["extra"] = 1
    (tmp_path / "config.json").write_text(json.dumps(edited))

    with pytest.raises(ExperimentError, match=r"changed: train\.epochs, train\.extra"):
        load_job(tmp_path)


def test_changed_keys_compares_digests_not_values(tmp_path):
    spec = _job(tmp_path, CONFIG)
    assert "s3cr3t-value" not in json.dumps(spec.to_dict())
    assert changed_keys(spec, {**CONFIG, "train": {"epochs": 4}}) == ["train.epochs"]


@pytest.mark.parametrize("text", ["{trunc", "[]", b"\xff\xfe not utf-8"])
def test_a_damaged_spec_names_its_file(tmp_path, text):
    _job(tmp_path, CONFIG)
    path = tmp_path / "job.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(DamagedFile, match="job.json"):
        load_job(tmp_path)


def test_a_folder_without_a_spec_is_not_a_job(tmp_path):
    with pytest.raises(ExperimentError, match="no job.json"):
        load_job(tmp_path)
