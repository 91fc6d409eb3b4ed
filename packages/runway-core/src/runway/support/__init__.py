"""Small primitives that every part of Runway shares, each defined once.

- :mod:`runway.support.files`: atomic writes, JSON reads that name a damaged file;
- :mod:`runway.support.clock`: the one timestamp format;
- :mod:`runway.support.processes`: whether a process is alive, who owns a record;
- :mod:`runway.support.imports`: importing an object by ``pkg.mod:Name`` or a file by path;
- :mod:`runway.support.tables`: plain-text tables for the console.
"""
