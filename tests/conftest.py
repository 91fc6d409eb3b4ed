"""Shared test settings: nothing reaches a hub, plugins are built fresh."""

import os

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("PYTHONHASHSEED", "0")

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """One real ``mlflow server`` per test session (starting one takes ~30 s)."""
    pytest.importorskip("mlflow", reason="the full mlflow package is a test dependency of the `all` environment")
    sys.path.insert(0, str(TESTS / "mlflow"))
    from server import MlflowServer

    server = MlflowServer(tmp_path_factory.mktemp("mlflow-server"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _slurm_cluster_turn(request):
    """Tests on the local SLURM cluster share it; one marked ``slurm_exclusive`` has it alone."""
    if request.node.get_closest_marker("slurm") is None:
        yield
        return
    if str(TESTS / "slurm") not in sys.path:
        sys.path.insert(0, str(TESTS / "slurm"))
    from cluster import cluster_turn

    with cluster_turn(exclusive=request.node.get_closest_marker("slurm_exclusive") is not None):
        yield
