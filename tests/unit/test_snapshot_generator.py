"""scripts/snapshot: one generator package, one module per source, explicit order, byte-reproducible."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest
from snapshot import __main__ as entry
from snapshot.common import Context

from oref.sources import SOURCE_NAMES

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "scripts" / "snapshot"
SNAPSHOT = REPO / "data" / "snapshot"
# the generators that read no real input and run in well under a second each
QUICK = ("arcep", "sirene", "offers")
# quick too, but they read real inputs: rncp the real RNCP facet files, mcf through rncp's fiches
QUICK_WITH_REAL_INPUTS = ("rncp", "mcf")


def _snapshot_imports(module: Path) -> set[str]:
    """The modules of the package that ``module`` imports (``snapshot.x`` -> ``x``)."""
    tree = ast.parse(module.read_text("utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("snapshot."):
            found.add(node.module.split(".", 1)[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".", 1)[1] for a in node.names if a.name.startswith("snapshot.")}
    return found


def test_one_generator_per_source_key() -> None:
    assert set(entry.GENERATORS) == set(SOURCE_NAMES)
    assert {p.stem for p in PACKAGE.glob("*.py")} == {*SOURCE_NAMES, "common", "__init__", "__main__"}
    for key in entry.GENERATORS:
        module = entry.generator(key)
        assert key == module.KEY and isinstance(module.SEED, int)
        assert set(module.REQUIRES) <= set(entry.GENERATORS) - {key}, key


def test_generators_import_only_common_and_what_they_require() -> None:
    """No import cycles and no hidden order: a generator reads another's output only if it says so."""
    for key in entry.GENERATORS:
        imported = _snapshot_imports(PACKAGE / f"{key}.py") - {"common"}
        assert imported <= set(entry.generator(key).REQUIRES), (key, imported)
    assert _snapshot_imports(PACKAGE / "common.py") == set()


def test_requirements_run_first_and_a_cycle_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    ran = entry.order(entry.GENERATORS)
    assert sorted(ran) == sorted(entry.GENERATORS)
    for key in ran:
        assert all(ran.index(required) < ran.index(key) for required in entry.generator(key).REQUIRES), key
    assert entry.order(["tensions"]) == ["bmo", "tensions"]

    class Fake:
        def __init__(self, requires: tuple[str, ...]) -> None:
            self.REQUIRES = requires

    fakes = {"a": Fake(("b",)), "b": Fake(("a",))}
    monkeypatch.setattr(entry, "generator", fakes.__getitem__)
    with pytest.raises(SystemExit, match="require each other: a -> b -> a"):
        entry.order(["a"])


@pytest.mark.parametrize("key", QUICK)
def test_regenerating_gives_the_committed_bytes(key: str) -> None:
    """The quick generators rebuild their files in memory: the same bytes as the committed snapshot."""
    files = entry.generator(key).build(Context(real_dir=Path("/no-real-inputs-needed"), out=SNAPSHOT))
    assert files
    for f in files:
        assert (SNAPSHOT / f.path).read_bytes() == f.data, f.path


@pytest.mark.skipif(not os.environ.get("OREF_REAL_DIR"), reason="set OREF_REAL_DIR to the folder of the real "
                    "inputs (rncp/export_fiches_CSV_*_2026_02_01.csv) to rebuild the RNCP and MCF files")
@pytest.mark.parametrize("key", QUICK_WITH_REAL_INPUTS)
def test_regenerating_from_the_real_inputs_gives_the_committed_bytes(key: str) -> None:
    files = entry.generator(key).build(Context(real_dir=Path(os.environ["OREF_REAL_DIR"]), out=SNAPSHOT))
    assert files
    for f in files:
        assert (SNAPSHOT / f.path).read_bytes() == f.data, f.path


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("OREF_REAL_DIR"), reason="set OREF_REAL_DIR to the folder of the real "
                    "inputs (see scripts/snapshot/__main__.py) to regenerate the whole snapshot")
def test_make_snapshot_twice_changes_no_byte(tmp_path: Path) -> None:
    real = Path(os.environ["OREF_REAL_DIR"])
    out = tmp_path / "snapshot"
    entry.run(Context(real_dir=real, out=out))
    first = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    entry.run(Context(real_dir=real, out=out))
    second = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert first == second
    committed = {p.relative_to(SNAPSHOT): p.read_bytes() for p in SNAPSHOT.rglob("*") if p.is_file()}
    assert first == committed
