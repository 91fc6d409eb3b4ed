"""Small primitives that every part of Runway shares, each defined once.

- :mod:`runway.support.files`: atomic writes, JSON reads that name a damaged file;
- :mod:`runway.support.clock`: the one timestamp format;
- :mod:`runway.support.processes`: whether a process is alive, who owns a record;
- :mod:`runway.support.imports`: importing an object by ``pkg.mod:Name`` or a file by path, project code from its source;
- :mod:`runway.support.tables`: plain-text tables for the console;
- :mod:`runway.support.verbosity`: how much a command prints (``-q``, ``-v``) and the libraries' output it silences;
- :mod:`runway.support.progress`: a bar on a terminal, a periodic line elsewhere;
- :mod:`runway.support.tracebacks`: a crash in project code as the project's own frames;
- :mod:`runway.support.tee`: a run's output also written to its log file;
- :mod:`runway.support.forkserver`: child processes forked from a server that imported the heavy modules once;
- :mod:`runway.support.lazy`: package attributes and regular expressions made on first use;
- :mod:`runway.support.user_cache`: the user's cache folder (plugin discovery), files in it that may be damaged.
"""
