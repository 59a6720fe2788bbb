"""Generate the snapshot of the ROME 4.0 open-data CSV zip (France Travail, via data.gouv.fr).

Files written under ``data/snapshot`` (the real URL paths):

- ``www.data.gouv.fr/api/1/datasets/58da857388ee384902e505f5/index.json``: the data.gouv.fr API v1
  dataset document (real dataset id and stable resource id ``8cf674b6-...``), whose resource ``url``
  is the zip below; the replay server answers ``/api/1/datasets/r/<id>`` with a 302 to that url;
- ``static.data.gouv.fr/resources/repertoire-operationnel-des-metiers-et-des-emplois-rome/<stamp>/
  refromecsv.zip``: ``RefRomeCsv.zip`` holding

  * ``unix_referentiel_code_rome_v460_utf8.csv``: the REAL v4.60 file, byte for byte (1 584 fiches);
  * ``unix_referentiel_appellation_v460_utf8.csv``: SYNTHETIC appellations in the real schema, only
    for the 170 digital fiches (``transition_num = "O"``), with invented labels and ``code_ogr``
    numbers from 900000 up so they cannot be mistaken for real ones;
  * ``LISEZMOI_oref.txt``: says which member is real and which is synthetic.

Byte-reproducible: seeded RNG, fixed timestamps inside the zip, sorted output.

Usage: ``python scripts/snapshot_rome.py --real-dir ../shared/data/real``
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import random
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from snapshot_manifest import manifest_entry, merge_manifest  # scripts/ is on sys.path when run

SEED = 460
GENERATED_BY = "scripts/snapshot_rome.py"
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "data" / "snapshot"
ZIP_DATE_TIME = (2025, 1, 1, 0, 0, 0)
LICENCE = "Licence Ouverte / Open Licence (fr-lo)"

DATASET_ID = "58da857388ee384902e505f5"
RESOURCE_ID = "8cf674b6-ef21-446a-8190-178e2defd6fc"
SLUG = "repertoire-operationnel-des-metiers-et-des-emplois-rome"
STAMP = "20250402-093000"
ZIP_URL = f"https://static.data.gouv.fr/resources/{SLUG}/{STAMP}/refromecsv.zip"
DATASET_URL = f"https://www.data.gouv.fr/api/1/datasets/{DATASET_ID}/"
CODE_ROME_MEMBER = "unix_referentiel_code_rome_v460_utf8.csv"
APPELLATION_MEMBER = "unix_referentiel_appellation_v460_utf8.csv"
APPELLATION_HEADER = [
    "code_ogr", "libelle_appellation_long", "libelle_appellation_court", "code_rome", "transition_eco",
    "transition_num", "transition_demo", "emploi_reglemente", "emploi_cadre", "classification", "origine",
    "code_rome_parent", "peu_usite",
]
_VARIANTS = ("junior", "senior", "confirmé / confirmée", "en alternance", "référent / référente")


def deterministic_zip(members: Sequence[tuple[str, bytes]]) -> bytes:
    """A deflated zip whose entries carry a fixed date: zipfile would otherwise stamp 'now'."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, compresslevel=9)
    return buffer.getvalue()


def quoted_csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    # France Travail quotes every field and ends lines with LF, like the real code_rome file.
    out = io.StringIO()
    writer = csv.writer(out, delimiter=",", quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def synthetic_appellations(fiches: list[dict[str, str]]) -> bytes:
    rng = random.Random(SEED)
    rows: list[list[str]] = []
    ogr = 900000
    for fiche in sorted((f for f in fiches if f["transition_num"] == "O"), key=lambda f: f["code_rome"]):
        label = fiche["libelle_rome"]
        flags = [fiche[c] for c in ("transition_eco", "transition_num", "transition_demo", "emploi_reglemente",
                                    "emploi_cadre")]
        ogr += 1
        rows.append([str(ogr), label, label[:60].rstrip(), fiche["code_rome"], *flags, "PRINCIPALE", "",
                     fiche["code_rome_parent"], "N"])
        for variant in rng.sample(_VARIANTS, rng.randint(0, 2)):
            ogr += 1
            long_label = f"{label} {variant}"
            rows.append([str(ogr), long_label, long_label[:60].rstrip(), fiche["code_rome"], *flags, "SYNONYME", "",
                         fiche["code_rome_parent"], "O" if rng.random() < 0.15 else "N"])
    return quoted_csv(APPELLATION_HEADER, rows)


def build(real_dir: Path) -> list[dict[str, Any]]:
    real = (real_dir / "rome" / CODE_ROME_MEMBER).read_bytes()
    fiches = list(csv.DictReader(io.StringIO(real.decode("utf-8"))))
    readme = (
        "Snapshot oref (scripts/snapshot_rome.py).\n"
        f"{CODE_ROME_MEMBER} : fichier RÉEL ROME v4.60 de France Travail, copie octet pour octet.\n"
        f"{APPELLATION_MEMBER} : fichier SYNTHÉTIQUE (schéma réel, libellés et code_ogr inventés, "
        "code_ogr >= 900000), limité aux 170 fiches du numérique (transition_num = O).\n"
    ).encode()
    archive = deterministic_zip([(CODE_ROME_MEMBER, real), (APPELLATION_MEMBER, synthetic_appellations(fiches)),
                                 ("LISEZMOI_oref.txt", readme)])
    modified = "2025-04-02T09:30:00.000000+00:00"
    document = {
        "id": DATASET_ID,
        "title": "Répertoire Opérationnel des Métiers et des Emplois (ROME)",
        "slug": SLUG,
        "acronym": "ROME",
        "description": ("Le ROME 4.0 de France Travail décrit les métiers (fiches), leurs appellations, "
                        "compétences et contextes de travail. Export open data au format CSV."),
        "license": "fr-lo",
        "frequency": "semiannual",
        "created_at": "2017-03-28T17:20:51.000000+00:00",
        "last_modified": modified,
        "last_update": modified,
        "page": f"https://www.data.gouv.fr/fr/datasets/{SLUG}/",
        "uri": DATASET_URL,
        "organization": {"name": "France Travail", "slug": "france-travail",
                         "page": "https://www.data.gouv.fr/fr/organizations/france-travail/"},
        "owner": None,
        "private": False,
        "archived": None,
        "deleted": None,
        "tags": ["emploi", "metiers", "referentiel", "rome"],
        "resources": [{
            "id": RESOURCE_ID,
            "title": "RefRomeCsv.zip",
            "description": "Référentiel ROME 4.0 au format CSV (UTF-8, séparateur virgule).",
            "type": "main",
            "filetype": "file",
            "format": "zip",
            "url": ZIP_URL,
            "latest": f"https://www.data.gouv.fr/api/1/datasets/r/{RESOURCE_ID}",
            "filesize": len(archive),
            "mime": "application/zip",
            "checksum": {"type": "sha1", "value": hashlib.sha1(archive).hexdigest()},
            "created_at": modified,
            "last_modified": modified,
        }],
    }
    doc_bytes = (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    return [
        {"path": f"www.data.gouv.fr/api/1/datasets/{DATASET_ID}/index.json", "url": DATASET_URL,
         "kind": "derived-from-real", "data": doc_bytes,
         "description": "data.gouv.fr API v1 dataset document of the ROME dataset (real dataset and resource "
                        "ids); filesize and sha1 describe the bundled zip; the upload stamp is invented"},
        {"path": ZIP_URL.removeprefix("https://"), "url": ZIP_URL, "kind": "derived-from-real", "data": archive,
         "description": f"RefRomeCsv.zip: {CODE_ROME_MEMBER} is the REAL v4.60 file byte for byte (1 584 "
                        f"fiches, 170 with transition_num=O); {APPELLATION_MEMBER} is SYNTHETIC (real schema, "
                        "invented labels, code_ogr >= 900000, digital fiches only); LISEZMOI_oref.txt says so"},
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--real-dir", type=Path, required=True, help="folder of the real inputs")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="snapshot folder (default: data/snapshot)")
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    files = build(args.real_dir.resolve())
    for f in files:
        target = out / f["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(f["data"])
        print(f"{len(f['data']):>10,}  {f['kind']:<18} {f['path']}")
    entries = [manifest_entry(f["path"], f["data"], url=f["url"], source="rome", kind=f["kind"],
                              description=f["description"], licence=LICENCE, generated_by=GENERATED_BY, seed=SEED)
               for f in sorted(files, key=lambda f: f["path"])]
    merge_manifest(out, entries, GENERATED_BY)


if __name__ == "__main__":
    main()
