"""The ``optuna`` sweeper: trials asked from a study, their results told back.

The search space is core's ``--opts`` grammar (parsed, never evaluated):
``uniform(a,b)`` and ``loguniform(a,b)`` are float distributions (log-scaled
for the second), ``int(a,b)`` an integer one (both ends included),
``choice(...)`` and value lists (``32,64,128``) categorical ones; a single
value is fixed and not searched. The study lives in the sweep's folder
(:mod:`runway_optuna.study`); each trial's number and parameters go into
the point's ``info``, hence into its version's provenance, which is how
its job's pruning callback (:mod:`runway_optuna.pruning`) finds the trial.

Results are told once: a trial's job tells the study its value (or that it
was pruned) as its fit ends; the sweeper tells only what the job could not,
a failed or interrupted trial (``FAIL``), or a completed one whose job did
not get to it.
"""

from __future__ import annotations

from typing import Any

from runway.errors import ConfigError
from runway.sweep.sweepers import Proposal, Search, TrialResult

from runway_optuna.study import open_study, settings_for, write_settings

_PRIMITIVE = (type(None), bool, int, float, str)


def distribution(axis: Any) -> Any | None:
    """The optuna distribution of an axis, or ``None`` for a fixed (or deleted) key."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if axis.delete:
        return None
    found = axis.range
    if found is None:
        if len(axis.values) < 2:
            return None
        choices = axis.values
    elif found.kind == "choice":
        choices = found.args
    elif found.kind == "int":
        return IntDistribution(int(found.args[0]), int(found.args[1]))
    else:
        return FloatDistribution(float(found.args[0]), float(found.args[1]), log=found.kind == "loguniform")
    if not all(isinstance(c, _PRIMITIVE) for c in choices):
        raise ConfigError(f"--opts {axis.token!r}: optuna chooses among numbers, strings, booleans and null only")
    return CategoricalDistribution(list(choices))


class OptunaSweeper:
    """Ask trials of a study (TPE by default), tell it the results the jobs did not."""

    adaptive = True

    def __init__(self, search: Search) -> None:
        self.search = search
        self.settings = settings_for(search)
        self.names = {axis.key: axis.key.lstrip("+") for axis in search.axes}
        self.distributions = {self.names[a.key]: d for a in search.axes if (d := distribution(a)) is not None}
        if not self.distributions:
            raise ConfigError("--sweeper optuna: no --opts key has a range or several values to search")
        self.fixed = {a.key: (None if a.delete else a.values[0]) for a in search.axes if self.names[a.key] not in self.distributions}
        search.folder.mkdir(parents=True, exist_ok=True)
        write_settings(search.folder, self.settings)
        self.study = open_study(self.settings, create=True)

    def ask(self, count: int | None) -> list[Proposal]:
        proposals = []
        for _ in range(count or 1):
            trial = self.study.ask(self.distributions)
            overrides = {}
            for axis in self.search.axes:
                name = self.names[axis.key]
                overrides[axis.key] = trial.params[name] if name in self.distributions else self.fixed[axis.key]
            info = {
                "sweeper": "optuna", "trial": trial.number, "params": dict(trial.params),
                "study": self.settings["study_name"], "folder": str(self.search.folder.resolve()),
            }
            proposals.append(Proposal(overrides, info))
        return proposals

    def resume(self, proposals: list[Proposal]) -> None:
        """Fail the trials still running in the study that no point of the sweep records: asked by a
        process killed before it wrote them down, they will never report."""
        from optuna.trial import TrialState

        known = {p.info.get("trial") for p in proposals}
        for trial in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            if trial.number not in known:
                self.study.tell(trial.number, state=TrialState.FAIL)

    def tell(self, proposal: Proposal, result: TrialResult) -> None:
        from optuna.trial import TrialState

        number = proposal.info.get("trial")
        if number is None:
            return
        trial = next((t for t in self.study.get_trials(deepcopy=False) if t.number == number), None)
        if trial is None or trial.state != TrialState.RUNNING:
            return  # its job told the study already
        if result.state == "completed" and result.value is not None:
            self.study.tell(number, result.value)
        elif result.state == "pruned":
            self.study.tell(number, state=TrialState.PRUNED)
        else:
            self.study.tell(number, state=TrialState.FAIL)
