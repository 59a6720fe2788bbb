"""sirene: the recherche-entreprises.api.gouv.fr snapshot, ICT-services companies of 971 and 972.

Synthetic companies in the real response shape of ``GET /search``, one company
per line in ``recherche-entreprises.api.gouv.fr/search.jsonl``. Each line is a ``results[]`` item
plus ``_etablissements``: every establishment of the company, from which the emulator
(``oref.replay_apis.recherche_entreprises``) computes ``matching_etablissements`` for the
requested territory. Some companies have their head office (siège) in Paris and an establishment
in the Antilles, as real national groups do. SIREN and SIRET carry valid Luhn keys.

Companies are placed in the communes of the COG file the geo generator wrote (hence ``REQUIRES``);
their NAF codes are the ict_services perimeter of the seed naf_digital_perimeters.
Byte-reproducible: fixed seed, sorted output.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

from oref.reference import naf_codes
from snapshot.common import Context, SnapshotFile, cog_communes

KEY = "sirene"
SEED = 6201
REQUIRES = ("geo",)  # places its establishments in the communes of the COG file
PATH = "recherche-entreprises.api.gouv.fr/search.jsonl"
URL = "https://recherche-entreprises.api.gouv.fr/search"

# Relative frequency of each NAF code of the ict_services perimeter among the synthetic companies
# (a generator parameter; the perimeter itself is read from the seed, and a code without a weight
# here stops the generator).
NAF_WEIGHTS = {
    "58.21Z": 1, "58.29A": 1, "58.29B": 1, "58.29C": 2, "61.10Z": 3, "61.20Z": 2, "61.30Z": 1, "61.90Z": 4,
    "62.01Z": 30, "62.02A": 18, "62.02B": 3, "62.03Z": 3, "62.09Z": 12, "63.11Z": 6, "63.12Z": 5,
    "95.11Z": 8, "95.12Z": 4,
}
NAF = {code: NAF_WEIGHTS[code] for code in naf_codes("ict_services")}
SECTION = {"58": "J", "61": "J", "62": "J", "63": "J", "95": "S"}
TRANCHES = [("NN", 30), ("00", 20), ("01", 20), ("02", 10), ("03", 8), ("11", 6), ("12", 4), ("21", 2)]
REGION = {"971": "01", "972": "02", "75": "11"}
COMPANIES = {"971": 250, "972": 215}
PARIS_GROUPS = 24
PREFIX = ["Antilles", "Caraïbes", "Madinina", "Karukera", "Alizés", "Océan", "Tropic", "Créole", "Soleil",
          "Lagon", "Mangrove", "Colibri", "Flamboyant", "Îles", "Atlantique"]
SUFFIX = ["Informatique", "Digital", "Numérique", "Systèmes", "Réseaux", "Conseil IT", "Web Services",
          "Data", "Telecom", "Logiciels", "Solutions", "Cloud", "Tech", "Services Informatiques"]
FORMS = [("5710", "SAS"), ("5499", "SARL"), ("1000", ""), ("5720", "SASU")]


def luhn_complete(stem: str) -> str:
    """Append the digit that makes ``stem`` + digit pass the Luhn check (as SIREN and SIRET do)."""
    for digit in "0123456789":
        candidate = stem + digit
        total = 0
        for i, c in enumerate(reversed(candidate)):
            d = int(c) * (2 if i % 2 else 1)
            total += d - 9 if d > 9 else d
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


class Generator:
    def __init__(self, snapshot: Path) -> None:
        self.rng = random.Random(SEED)
        self.communes = cog_communes(snapshot, ("971", "972"))
        self.sirens: set[str] = set()

    def pick(self, weights: dict[str, int] | list[tuple[str, int]]) -> str:
        items = list(weights.items()) if isinstance(weights, dict) else weights
        return self.rng.choices([k for k, _ in items], [w for _, w in items])[0]

    def siren(self) -> str:
        while True:
            value = luhn_complete(f"{self.rng.randint(30_000_000, 99_999_999):08d}")
            if value not in self.sirens:
                self.sirens.add(value)
                return value

    def date(self, start: int = 1985) -> str:
        return f"{self.rng.randint(start, 2025)}-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}"

    def closing(self, created: str) -> str:
        """A closing date after ``created`` and not after 2025."""
        start = dt.date.fromisoformat(created)
        span = (dt.date(2025, 12, 31) - start).days
        return (start + dt.timedelta(days=self.rng.randint(min(30, span), span))).isoformat()

    def commune(self, dep: str) -> dict[str, str]:
        rows = self.communes[dep]
        # the chef-lieu and the big communes host most IT firms
        big = {"97209": 40, "97213": 20, "97229": 8, "97101": 20, "97103": 25, "97120": 15, "97113": 10}
        return self.rng.choices(rows, [big.get(r["COM"], 1) for r in rows])[0]

    def establishment(self, siren: str, nic: int, dep: str, naf: str, *, siege: bool,
                      commune: dict[str, str] | None = None) -> dict[str, Any]:
        if dep == "75":
            code, label, postal = "75108", "Paris 8e Arrondissement", "75008"
        else:
            row = commune or self.commune(dep)
            code, label, postal = row["COM"], row["LIBELLE"], f"{dep}{self.rng.randint(10, 99)}"
        closed = self.rng.random() < 0.1
        tranche = self.pick(TRANCHES)
        created = self.date()
        return {
            "siret": luhn_complete(f"{siren}{nic:04d}"),
            "activite_principale": naf,
            "adresse": f"{self.rng.randint(1, 120)} RUE {self.rng.choice(['VICTOR HUGO', 'DES CAFES', 'SCHOELCHER', 'DE LA REPUBLIQUE', 'ERNEST DEPROGE'])} {postal} {label.upper()}",  # noqa: E501
            "code_postal": postal,
            "commune": code,
            "libelle_commune": label.upper(),
            "departement": dep,
            "region": REGION[dep],
            "est_siege": siege,
            "etat_administratif": "F" if closed else "A",
            "date_creation": created,
            "date_fermeture": self.closing(created) if closed else None,
            "tranche_effectif_salarie": None if tranche == "NN" else tranche,
            "annee_tranche_effectif_salarie": None if tranche == "NN" else "2023",
            "caractere_employeur": "N" if tranche in ("NN", "00") else "O",
        }

    def company(self, dep: str, *, paris_group: bool = False) -> dict[str, Any]:
        siren = self.siren()
        naf = self.pick(NAF)
        form, abbreviation = self.rng.choice(FORMS)
        name = f"{self.rng.choice(PREFIX)} {self.rng.choice(SUFFIX)}".upper()
        if form == "1000":
            name = f"{self.rng.choice(['MARIE', 'JEAN', 'ALEX', 'CLAIRE', 'LUC'])} {self.rng.choice(['LOUISIN', 'CELESTINE', 'JOSEPH', 'RENE-CORAIL', 'MONTOUT'])}"  # noqa: E501
        if paris_group:
            siege = self.establishment(siren, 1, "75", naf, siege=True)
            others = [self.establishment(siren, 2 + i, d, naf, siege=False)
                      for i, d in enumerate(self.rng.choice([["972"], ["971"], ["971", "972"], ["972", "972"]]))]
        else:
            siege = self.establishment(siren, 1, dep, naf, siege=True)
            others = [self.establishment(siren, 2 + i, dep, naf, siege=False)
                      for i in range(self.rng.choices([0, 1, 2], [80, 15, 5])[0])]
        etablissements = [siege, *others]
        open_count = sum(e["etat_administratif"] == "A" for e in etablissements)
        return {
            "siren": siren,
            "nom_complet": f"{name} ({abbreviation})" if abbreviation else name,
            "nom_raison_sociale": None if form == "1000" else name,
            "sigle": None,
            "nombre_etablissements": len(etablissements),
            "nombre_etablissements_ouverts": open_count,
            "date_creation": siege["date_creation"],
            "date_fermeture": None,
            "etat_administratif": "A" if open_count else "C",
            "nature_juridique": form,
            "activite_principale": naf,
            "section_activite_principale": SECTION[naf[:2]],
            "categorie_entreprise": "ETI" if paris_group else "PME",
            "caractere_employeur": siege["caractere_employeur"],
            "tranche_effectif_salarie": siege["tranche_effectif_salarie"],
            "annee_tranche_effectif_salarie": siege["annee_tranche_effectif_salarie"],
            "siege": siege,
            "dirigeants": [],
            "finances": {},
            "complements": {"est_qualiopi": False, "est_organisme_formation": False},
            "_etablissements": etablissements,
        }

    def all(self) -> list[dict[str, Any]]:
        companies = [self.company(dep) for dep, n in COMPANIES.items() for _ in range(n)]
        companies += [self.company("75", paris_group=True) for _ in range(PARIS_GROUPS)]
        return sorted(companies, key=lambda c: c["siren"])


def build(ctx: Context) -> list[SnapshotFile]:
    companies = Generator(ctx.out).all()
    data = "".join(json.dumps(c, ensure_ascii=False, sort_keys=True) + "\n" for c in companies).encode("utf-8")
    return [SnapshotFile(
        PATH, URL, KEY, "synthetic",
        f"Companies of the ict_services NAF perimeter with establishments in 971 and 972 ({len(companies)} "
        f"companies, {PARIS_GROUPS} with their siège in Paris), one results[] item of the real /search response per "
        "line plus _etablissements (all establishments) from which the replay emulator builds "
        "matching_etablissements; names, SIRENs and values invented",
        "Licence Ouverte / Etalab 2.0", data)]
