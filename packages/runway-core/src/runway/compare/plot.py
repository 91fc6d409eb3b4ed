"""Learning curves of several versions in one image (matplotlib, the ``plot`` extra).

matplotlib is imported only here, with the Agg backend, so that nothing
needs a display and ``runway --help`` never pays for it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from runway.compare.report import read_curves
from runway.compare.versions import Selected
from runway.errors import RunwayError

PLOT_EXTRA = "runway-core[plot]"


class PlotError(RunwayError):
    """A plot cannot be drawn: matplotlib is missing, or no version has the metric."""


def _normal(name: str) -> str:
    return re.sub(r"[/._\-\s]+", "_", name.strip().lower())


def match_metric(wanted: str, available: Sequence[str]) -> str | None:
    """The logged metric that ``wanted`` names: exactly, else with ``/``, ``.``, ``-`` and ``_`` alike (``val_loss`` is ``val/loss``)."""
    if wanted in available:
        return wanted
    found = [name for name in available if _normal(name) == _normal(wanted)]
    return found[0] if len(found) == 1 else None


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise PlotError(f"runway plot needs matplotlib, which is not installed: pip install '{PLOT_EXTRA}'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_curves(selected: Sequence[Selected], metrics: Sequence[str], output: Path, *, labels: Sequence[str] | None = None) -> Path:
    """Draw each of ``metrics`` (one panel each) for every version into ``output`` (png, pdf, svg...)."""
    curves = [read_curves(item.version) for item in selected]
    available = sorted({name for c in curves for name in c})
    chosen = []
    for wanted in metrics:
        name = match_metric(wanted, available)
        if name is None:
            listing = ", ".join(available) or "none (no train/logs/metrics.csv)"
            raise PlotError(f"--metric {wanted!r}: no version logged it. Metrics logged: {listing}")
        chosen.append(name)
    plt = _pyplot()
    figure, axes = plt.subplots(len(chosen), 1, figsize=(8, 3.6 * len(chosen)), squeeze=False)
    for panel, name in zip(axes[:, 0], chosen):
        for index, (item, version_curves) in enumerate(zip(selected, curves)):
            points = version_curves.get(name)
            if not points:
                continue
            steps, values = zip(*points)
            label = labels[index] if labels else item.version.label
            panel.plot(steps, values, marker="o" if len(points) < 30 else None, markersize=3, label=label)
        panel.set_title(name)
        panel.set_xlabel("step")
        panel.set_ylabel(name)
        panel.grid(True, alpha=0.3)
        panel.legend(fontsize="small")
    figure.tight_layout()
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        figure.savefig(output, dpi=120)
    except ValueError as exc:  # an extension matplotlib cannot write
        raise PlotError(f"-o {output}: {exc}") from None
    finally:
        plt.close(figure)
    return output


def plot_sweep(data: dict, rows: Sequence[dict], output: Path) -> Path:
    """A sweep's search in one image: the metric of each trial in order with the best so far, then one
    panel per swept key with its values against the metric (log-scaled for ``loguniform`` ranges).

    ``data`` is the ledger, ``rows`` the :func:`runway.sweep.results.trial_rows` of its points.
    """
    metric = data.get("metric")
    finished = sorted((r for r in rows if r["value"] is not None), key=lambda r: r["point"]["index"])
    if not metric or not finished:
        raise PlotError(f"sweep {data.get('id')}: no point has finished with a value of {metric or 'a --metric'} yet")
    keys = list(data.get("swept_keys") or [])
    logged = {a.split("=", 1)[0].lstrip("+") for a in data.get("axes") or [] if "=loguniform(" in a}
    plt = _pyplot()
    figure, axes = plt.subplots(1 + len(keys), 1, figsize=(8, 3.6 * (1 + len(keys))), squeeze=False)
    history = axes[0, 0]
    order = [r["point"]["index"] for r in finished]
    values = [r["value"] for r in finished]
    pick = max if (data.get("direction") or "max") == "max" else min
    best = [pick(values[: i + 1]) for i in range(len(values))]
    colours = ["tab:orange" if r["seen"]["state"] == "pruned" else "tab:blue" for r in finished]
    history.scatter(order, values, c=colours, s=18, label=f"{metric} (orange: pruned)")
    history.step(order, best, where="post", color="tab:green", label="best so far")
    history.set_title(f"optimisation history of sweep {data.get('id')}")
    history.set_xlabel("point")
    history.set_ylabel(metric)
    history.grid(True, alpha=0.3)
    history.legend(fontsize="small")
    for panel, key in zip(axes[1:, 0], keys):
        shown = [(r["point"]["overrides"].get(key, r["point"]["overrides"].get(f"+{key}")), r["value"]) for r in finished]
        numeric = [(x, y) for x, y in shown if isinstance(x, (int, float)) and not isinstance(x, bool)]
        if len(numeric) == len(shown):
            panel.scatter([x for x, _ in numeric], [y for _, y in numeric], s=18)
            if key in logged:
                panel.set_xscale("log")
        else:
            labels = sorted({str(x) for x, _ in shown})
            panel.scatter([labels.index(str(x)) for x, _ in shown], [y for _, y in shown], s=18)
            panel.set_xticks(range(len(labels)), labels)
        panel.set_title(f"{key} against {metric}")
        panel.set_xlabel(key)
        panel.set_ylabel(metric)
        panel.grid(True, alpha=0.3)
    figure.tight_layout()
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        figure.savefig(output, dpi=120)
    except ValueError as exc:
        raise PlotError(f"-o {output}: {exc}") from None
    finally:
        plt.close(figure)
    return output
