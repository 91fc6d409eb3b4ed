"""Comparing experiment versions: config differences, metrics, differing predictions, and plots.

:mod:`runway.compare.versions` selects versions (``EXP``, ``EXP:N``,
``EXP:N:SUFFIX``); :mod:`runway.compare.report` builds the comparison;
:mod:`runway.compare.plot` draws learning curves (matplotlib, optional).
"""
