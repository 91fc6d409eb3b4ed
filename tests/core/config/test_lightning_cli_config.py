"""LightningCLI's YAML as a Runway config: the mapping, --opts by LightningCLI keys, YAML files and imports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from runway.cli.main import cli
from runway.config.lightning_cli import LIGHTNING_DEFAULT_EPOCHS, alias_override, map_lightning_cli
from runway.config.overrides import parse_override
from runway.errors import ConfigError
from runway.experiment.settings import parse_settings

BORING = "lightning.pytorch.demos.boring_classes.BoringModel"
BORING_DATA = "lightning.pytorch.demos.boring_classes.BoringDataModule"

FIT_YAML = f"""\
# lightning.pytorch==2.6.6
seed_everything: 7
trainer:
  accelerator: cpu
  devices: auto
  num_nodes: 1
  logger: null
  callbacks:
  - class_path: lightning.pytorch.callbacks.EarlyStopping
    init_args:
      monitor: val_loss
      patience: 2
  max_epochs: 3
  max_steps: -1
  limit_train_batches: 4
  log_every_n_steps: 2
  default_root_dir: null
  enable_checkpointing: null
model:
  class_path: {BORING}
data:
  class_path: {BORING_DATA}
optimizer:
  class_path: torch.optim.Adam
  init_args:
    lr: 0.01
lr_scheduler: null
ckpt_path: null
weights_only: null
"""


def lightning_cli_yaml(*args: str) -> str:
    """What ``main.py fit --print_config`` writes, from LightningCLI itself."""
    import contextlib
    import io
    from unittest import mock

    from lightning.pytorch.cli import LightningCLI

    out = io.StringIO()
    with mock.patch("sys.argv", ["main.py"]), contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        LightningCLI(args=["fit", *args, "--print_config"])
    return out.getvalue()


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def folder(project: Path, runway_builtin_plugins) -> Path:
    return project


def test_the_sections_map_onto_runways_with_lightning_cli_meaning():
    import yaml

    mapped = map_lightning_cli(yaml.safe_load(FIT_YAML))
    assert mapped == {
        "executor": {
            "class_path": BORING,
            "init_args": {},
            "optimizer": {"class_path": "torch.optim.Adam", "init_args": {"lr": 0.01}},
        },
        "datamodule": {"class_path": BORING_DATA, "init_args": {}},
        "train": {
            "epochs": 3,
            "log_every_n_steps": 2,
            # values equal to lightning.Trainer's defaults, nulls and the folder settings are left out
            "trainer_paras": {
                "accelerator": "cpu",
                "callbacks": [
                    {"class_path": "lightning.pytorch.callbacks.EarlyStopping", "init_args": {"monitor": "val_loss", "patience": 2}}
                ],
                "limit_train_batches": 4,
            },
        },
        "meta": {"seed": 7},
    }
    settings = parse_settings(mapped)
    assert settings.executor.optimizer.class_path == "torch.optim.Adam"
    assert settings.meta.seed == 7 and settings.train.epochs == 3


def test_what_print_config_writes_maps_and_parses():
    import yaml

    text = lightning_cli_yaml(f"--model={BORING}", f"--data={BORING_DATA}", "--trainer.max_epochs=2", "--seed_everything=3")
    mapped = map_lightning_cli(yaml.safe_load(text))
    assert mapped["executor"] == {"class_path": BORING, "init_args": {}}
    assert mapped["train"]["epochs"] == 2 and mapped["meta"] == {"seed": 3}
    parse_settings(mapped)  # every trainer argument left is one lightning.Trainer takes


def test_an_unset_max_epochs_follows_lightnings_rule():
    assert map_lightning_cli({"trainer": {"max_epochs": None, "max_steps": -1}})["train"] == {"epochs": LIGHTNING_DEFAULT_EPOCHS}
    bounded = map_lightning_cli({"trainer": {"max_epochs": None, "max_steps": 20}})["train"]
    assert bounded == {"trainer_paras": {"max_epochs": -1, "max_steps": 20}}


def test_seed_everything_true_draws_a_recorded_seed_and_false_seeds_nothing():
    drawn = map_lightning_cli({"seed_everything": True})["meta"]["seed"]
    assert isinstance(drawn, int) and not isinstance(drawn, bool)
    off = map_lightning_cli({"seed_everything": False})
    assert off["meta"] == {"seed": False}
    assert parse_settings(off).meta.seed is None


def test_mistakes_get_the_usual_suggestion():
    with pytest.raises(ConfigError, match=r"trainer.max_epoch: not an argument of lightning.Trainer. Did you mean 'max_epochs'"):
        map_lightning_cli({"trainer": {"max_epoch": 3}})
    with pytest.raises(ConfigError, match=r"trainr: unknown LightningCLI key. Did you mean 'trainer'"):
        map_lightning_cli({"model": {"class_path": BORING}, "trainr": {}})
    with pytest.raises(ConfigError, match=r"trainer.max_epochs \(3\) and the Runway setting it maps to \(5\)"):
        map_lightning_cli({"trainer": {"max_epochs": 3}, "train": {"epochs": 5}})


def test_a_model_without_class_path_keeps_its_values_as_init_args():
    mapped = map_lightning_cli({"model": {"hidden": 8}})
    assert mapped["executor"] == {"init_args": {"hidden": 8}}


def test_opts_by_lightning_cli_keys_address_runways():
    def aliased(token: str) -> tuple[str, str, object]:
        o = alias_override(parse_override(token))
        return o.op, o.dotted, o.value

    assert aliased("trainer.max_epochs=3") == ("add", "train.epochs", 3)
    assert aliased("trainer.limit_train_batches=4") == ("add", "train.trainer_paras.limit_train_batches", 4)
    assert aliased("trainer.callbacks.0.init_args.patience=1") == ("set", "train.trainer_paras.callbacks.0.init_args.patience", 1)
    assert aliased("model.init_args.lr=0.1") == ("set", "executor.init_args.lr", 0.1)
    assert aliased("model.lr=0.1") == ("set", "executor.init_args.lr", 0.1)
    assert aliased("data.init_args.batch_size=8") == ("set", "datamodule.init_args.batch_size", 8)
    assert aliased("optimizer.lr=0.5") == ("set", "executor.optimizer.init_args.lr", 0.5)
    assert aliased("seed_everything=4") == ("add", "meta.seed", 4)
    assert aliased("~trainer.callbacks")[:2] == ("delete", "train.trainer_paras.callbacks")
    assert aliased("train.epochs=2") == ("set", "train.epochs", 2)  # Runway's own keys pass through


def test_a_yaml_file_runs_config_show_with_either_keys(folder: Path):
    (folder / "fit.yaml").write_text(FIT_YAML, encoding="utf-8")
    result = invoke("config", "show", "--config", "fit.yaml", "--opts", "trainer.max_epochs=5", "model.init_args={}", "+train.batch_size=4")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output.rsplit("fingerprint:", 1)[0])
    assert shown["train"]["epochs"] == 5 and shown["train"]["batch_size"] == 4
    assert shown["executor"]["class_path"] == BORING
    typo = invoke("config", "show", "--config", "fit.yaml", "--opts", "model.init_args.hiden=3")
    assert typo.exit_code == 2
    assert "model.init_args.hiden -> executor.init_args.hiden" in typo.output


def test_an_experiment_may_be_yaml_and_jsonnet_may_import_yaml(folder: Path):
    experiments = folder / "configs" / "experiments"
    (experiments / "boring.yaml").write_text(FIT_YAML, encoding="utf-8")
    (folder / "configs" / "fit.yaml").write_text(FIT_YAML, encoding="utf-8")
    (experiments / "mixed.jsonnet").write_text(
        "std.native('parseYaml')(importstr '../fit.yaml') + { eval: { metrics: ['mse'] }, test: { suffix: 'mixed' } }", encoding="utf-8"
    )
    from runway.config import load_config
    from runway.config.loading import experiment_names

    assert {"boring", "mixed"} <= set(experiment_names(__import__("runway.project", fromlist=["Project"]).Project.find()))
    boring = load_config("boring")
    mixed = load_config("mixed")
    assert boring["executor"] == mixed["executor"] and boring["train"] == mixed["train"]
    assert mixed["eval"] == {"metrics": ["mse"]}


def test_a_yaml_syntax_error_names_the_file_and_line(folder: Path):
    (folder / "broken.yaml").write_text("trainer:\n  max_epochs: [3\nmodel: {}\n", encoding="utf-8")
    result = invoke("config", "show", "--config", "broken.yaml")
    assert result.exit_code == 2
    assert "broken.yaml:3:" in result.output


def test_a_pytorch_lightning_module_is_refused_saying_what_to_change(folder: Path):
    pytest.importorskip("pytorch_lightning")
    (folder / "legacy_model.py").write_text(
        "import pytorch_lightning as pl\n\n\nclass Legacy(pl.LightningModule):\n    pass\n", encoding="utf-8"
    )
    (folder / "configs" / "experiments" / "legacy.yaml").write_text("model:\n  class_path: legacy_model.Legacy\n", encoding="utf-8")
    result = invoke("train", "legacy")
    assert result.exit_code == 2
    assert "'legacy_model.Legacy' is built on pytorch_lightning" in result.output
    assert "change `import pytorch_lightning as pl` to `import lightning.pytorch as pl`" in result.output
    assert not (folder / "experiments").exists()
