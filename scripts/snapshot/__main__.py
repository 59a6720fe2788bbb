"""``python -m snapshot --real-dir DIR [--out data/snapshot] [--only KEY ...]``: regenerate the snapshot.

Generators run in dependency order (each module's ``REQUIRES``): geo first, since arcep, sirene
and offers place their rows in its COG communes; bmo before tensions, which reads the BMO
workbook's métiers; rncp before mcf, whose offers cite its certifications. ``--only`` reruns some
generators (and those they require) and keeps the other entries of ``MANIFEST.json``.

``DIR`` holds the real inputs: ``geo/decoupage-administratif/*.json`` (communes, epci,
departements, regions), ``bmo/Base_open_data_BMO_2025_antilles.xlsx``, ``bmo/Base_open_data_BMO_2024.xlsx`` and
``rome/unix_referentiel_code_rome_v460_utf8.csv`` and ``rncp/export_fiches_CSV_{Rome,Formacode,Nsf}_2026_02_01.csv``
(France Compétences' real facet files: rncp copies their rows for the certifications it picks, and
mcf reads them through rncp). Only this generator reads them; the committed snapshot is self-contained.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from snapshot.common import DEFAULT_OUT, Context, manifest_entry, write_manifest

GENERATORS = ("geo", "urssaf", "bmo", "rome", "rncp", "mcf", "tensions", "arcep", "sirene", "offers")


def generator(key: str) -> ModuleType:
    return importlib.import_module(f"snapshot.{key}")


def generated_by(key: str) -> str:
    return f"scripts/snapshot/{key}.py"


def order(keys: Sequence[str]) -> list[str]:
    """``keys`` and what they require, each after its requirements (a cycle is an error)."""
    done: list[str] = []

    def visit(key: str, path: tuple[str, ...]) -> None:
        if key in done:
            return
        if key in path:
            raise SystemExit(f"snapshot generators require each other: {' -> '.join((*path, key))}")
        for required in generator(key).REQUIRES:
            visit(required, (*path, key))
        done.append(key)

    for key in keys:
        visit(key, ())
    return done


def run(ctx: Context, keys: Sequence[str] = GENERATORS) -> list[str]:
    """Write the files of ``keys`` (in dependency order) and their manifest entries; returns the order."""
    ran = order(keys)
    entries = []
    for key in ran:
        module = generator(key)
        files = module.build(ctx)
        for f in files:
            if f.source != key:
                raise SystemExit(f"{generated_by(key)} wrote {f.path} for source {f.source!r}")
            target = ctx.out / f.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(f.data)
            print(f"{len(f.data):>10,}  {f.kind:<18} {f.path}")
        entries += [manifest_entry(f, generated_by=generated_by(key), seed=module.SEED)
                    for f in sorted(files, key=lambda f: f.path)]
    # a full run owns the whole manifest; a partial one replaces its generators' entries only
    replace = {e.get("generated_by") for e in _current(ctx)} if set(ran) == set(GENERATORS) else {
        generated_by(k) for k in ran}
    write_manifest(ctx.out, entries, replace=replace)
    print(f"wrote {len(entries)} files of {', '.join(ran)} and MANIFEST.json under {ctx.out}")
    return ran


def _current(ctx: Context) -> list[dict[str, object]]:
    path = ctx.out / "MANIFEST.json"
    return json.loads(path.read_text("utf-8")).get("files", []) if path.exists() else []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m snapshot", description=__doc__.splitlines()[0])
    parser.add_argument("--real-dir", type=Path, required=True,
                        help="folder of the real input files (see above)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="snapshot folder (default: data/snapshot)")
    parser.add_argument("--only", nargs="+", choices=GENERATORS, metavar="KEY", help="generators to rerun")
    args = parser.parse_args(argv)
    run(Context(real_dir=args.real_dir.resolve(), out=args.out.resolve()), args.only or GENERATORS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
