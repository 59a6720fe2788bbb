"""The snapshot generator: every file of ``data/snapshot`` that the replay server serves.

One module per source key (``geo``, ``urssaf``, ``bmo``, ``rome``, ``rncp``, ``mcf``, ``tensions``,
``arcep``, ``sirene``, ``offers``), each with ``KEY``, ``SEED``, ``REQUIRES`` (the generators whose
output it reads) and ``build(ctx) -> list[SnapshotFile]``; ``common`` holds what they share. One
entry point, ``make snapshot REAL_DIR=...`` (``python -m snapshot``, run from ``scripts/``), runs
them in dependency order and rewrites ``MANIFEST.json``. Deterministic: a second run changes no byte.
"""
