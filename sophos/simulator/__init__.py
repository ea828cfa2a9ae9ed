"""An embedded, stateful Sophos Central for tests, the demo and benchmarks.

``core.handle`` serves one ``http.SimRequest`` from the state in the
simulator's own tables (``models``). ``transport.SimulatorTransport`` serves
the real Sophos host names in-process to httpx, and ``server.SimulatorServer``
serves the same handler on loopback ports (``manage.py sophos_simulator``).
``seed.seed_fleet`` writes a deterministic fleet, ``faults.set_faults`` turns
on latency, errors and rate limits, and ``clock.set_clock`` replaces the
simulator's time. Route handlers live in ``api``. Operations of
``sophos.catalog`` without a handler of their own get a generic one.
Handlers check request bodies with ``validation``, whose 400 messages name
the field that failed.
"""
