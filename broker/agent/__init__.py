"""The node agent (the original COSACS): a small OCCI server on each node.

``accords agent --dir DIR`` (:mod:`broker.agent.main`) serves ``metadata`` (the node's
variables), ``script`` (configure, system, fork and kill instructions, run in order, each
with its result) and ``probe`` (metric commands run every period) for the provisioning
component, which reaches it once the node is up. See "The node agent" in
docs/architecture.md.

    model.py      the categories, declared once
    agent.py      Agent: store, hooks, the WSGI app and its locks, start and stop
    metadata.py   variables: names, DIR/metadata.env
    scripts.py    what creating a script does; following forks
    probes.py     scheduled samples; the measurement sink (extension point)
    processes.py  commands in their own process group, clean environment, output tails
    main.py       the command: token file, threaded WSGI server, ready file, signals
"""

__all__: list[str] = []
