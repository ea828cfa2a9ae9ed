"""Operations that act on many tenants at once, each run as one job.

``base`` contains the shared machinery: an operation supplies a function that
plans the job's items and one that runs a single item, and registers itself
with ``base.register``. Each operation lives in a module of this package
named by the first part of its kind, so ``isolation.isolate`` lives in
``sophos.services.fleet_ops.isolation``.
"""
