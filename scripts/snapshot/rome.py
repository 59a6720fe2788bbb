"""rome: the ROME 4.0 open-data CSV zip (France Travail, via data.gouv.fr) and its dataset document.

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

Needs the real v4.60 file (``<real-dir>/rome``). Byte-reproducible: seeded RNG, fixed timestamps
inside the zip, sorted output.
"""

from __future__ import annotations

import csv
import hashlib
import io
import random

from snapshot.common import Context, SnapshotFile, csv_bytes, deterministic_zip, json_bytes

KEY = "rome"
SEED = 460
REQUIRES: tuple[str, ...] = ()
LICENCE = "Licence Ouverte / Open Licence (fr-lo)"
# the first line of LISEZMOI_oref.txt in the zip, as first generated: part of the zip's bytes
README_STAMP = "Snapshot oref (scripts/snapshot_rome.py).\n"

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
    # France Travail quotes every field and ends lines with LF, like the real code_rome file
    return csv_bytes(APPELLATION_HEADER, rows, delimiter=",", quoting=csv.QUOTE_ALL)


def build(ctx: Context) -> list[SnapshotFile]:
    real = (ctx.real_dir / "rome" / CODE_ROME_MEMBER).read_bytes()
    fiches = list(csv.DictReader(io.StringIO(real.decode("utf-8"))))
    readme = (
        README_STAMP
        + f"{CODE_ROME_MEMBER} : fichier RÉEL ROME v4.60 de France Travail, copie octet pour octet.\n"
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
    return [
        SnapshotFile(f"www.data.gouv.fr/api/1/datasets/{DATASET_ID}/index.json", DATASET_URL, KEY,
                     "derived-from-real",
                     "data.gouv.fr API v1 dataset document of the ROME dataset (real dataset and resource ids); "
                     "filesize and sha1 describe the bundled zip; the upload stamp is invented", LICENCE,
                     json_bytes(document)),
        SnapshotFile(ZIP_URL.removeprefix("https://"), ZIP_URL, KEY, "derived-from-real",
                     f"RefRomeCsv.zip: {CODE_ROME_MEMBER} is the REAL v4.60 file byte for byte (1 584 fiches, 170 "
                     f"with transition_num=O); {APPELLATION_MEMBER} is SYNTHETIC (real schema, invented labels, "
                     "code_ogr >= 900000, digital fiches only); LISEZMOI_oref.txt says so", LICENCE, archive),
    ]
