"""Jobs: a version folder is the unit of execution.

Submitting (``train``, ``run``, a sweep point, a rerun, a resume) resolves
and validates the config once, allocates the version and writes its job
spec into the folder (:mod:`runway.job.spec`); every launcher then runs
:func:`runway.job.execute.execute` on that folder, in this process, as DDP
ranks or inside a SLURM job, without reading the user's config files
again. One process owns a running version at a time (:mod:`runway.job.lease`).

.. code-block:: text

    experiments/<name>_V<n>/
      job.json           the spec: command, loggers, tags, dummy, launcher, resources,
                         fingerprint of the config, one segment per submission
      config.json        the resolved config, secrets redacted
      secrets.json       the redacted values (mode 0600), only when there are any
      provenance.json    command line, git, packages, host, time, data keys, segments
      status.json        pending / running / completed / failed / interrupted
"""
