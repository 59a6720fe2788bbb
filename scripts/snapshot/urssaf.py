"""urssaf: establishments and salaried headcount by commune x APE (synthetic values, real schema).

The wide ``;`` CSV export of the Opendatasoft dataset for 971 and 972 (2006-2025) and its dataset
document. Geography (communes, EPCI, départements, régions) is real; zones d'emploi are invented;
the values are drawn from one seeded RNG per commune x APE pair, so adding a pair leaves the others
unchanged.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from snapshot.common import Context, RealGeo, SnapshotFile, csv_bytes, json_bytes, load_geo, poisson

KEY = "urssaf"
SEED = 972
REQUIRES: tuple[str, ...] = ()


def build(ctx: Context) -> list[SnapshotFile]:
    return build_urssaf(load_geo(ctx.real_dir))


URSSAF_DATASET_ID = "etablissements-et-effectifs-salaries-au-niveau-commune-x-ape-last"
URSSAF_BASE_URL = f"https://open.urssaf.fr/api/explore/v2.1/catalog/datasets/{URSSAF_DATASET_ID}"
URSSAF_DIR = f"open.urssaf.fr/api/explore/v2.1/catalog/datasets/{URSSAF_DATASET_ID}"
URSSAF_YEARS = list(range(2006, 2026))
URSSAF_DEPARTEMENTS = ("971", "972")

URSSAF_ID_COLUMNS = [
    "region", "ancienne_region", "departement", "zone_d_emploi", "epci", "commune", "intitule_commune",
    "grand_secteur_d_activite", "secteur_na17", "secteur_na38", "secteur_na88", "ape", "code_region",
    "code_ancienne_region", "code_departement", "code_zone_d_emploi", "code_epci", "code_commune", "code_ape",
]
URSSAF_HEADER = [
    *URSSAF_ID_COLUMNS,
    *(f"nombre_d_etablissements_{y}" for y in URSSAF_YEARS),
    *(f"effectifs_salaries_{y}" for y in URSSAF_YEARS),
]

# NA88 division -> (label, NA38, NA17, grand secteur), NAF rév. 2 wording.
_GS_INDUSTRIE, _GS_CONSTRUCTION, _GS_COMMERCE, _GS_SERVICES = (
    "GS1 Industrie", "GS3 Construction", "GS4 Commerce", "GS5 Services")
_NA17_JZ = "JZ Information et communication"
_NA17_OQ = "OQ Administration publique, enseignement, santé humaine et action sociale"
_NA38_GZ = "GZ Commerce ; réparation d'automobiles et de motocycles"
_NA38_MA = ("MA Activités juridiques, comptables, de gestion, d'architecture, d'ingénierie, de contrôle et "
            "d'analyses techniques")
_NA17_MN = "MN Activités scientifiques et techniques ; services administratifs et de soutien"
_DIVISIONS: dict[str, tuple[str, str, str, str]] = {
    "10": ("Industries alimentaires",
           "CA Fabrication de denrées alimentaires, de boissons et de produits à base de tabac",
           "C1 Fabrication de denrées alimentaires, de boissons et de produits à base de tabac", _GS_INDUSTRIE),
    "26": ("Fabrication de produits informatiques, électroniques et optiques",
           "CI Fabrication de produits informatiques, électroniques et optiques",
           "C3 Fabrication d'équipements électriques, électroniques, informatiques ; fabrication de machines",
           _GS_INDUSTRIE),
    "41": ("Construction de bâtiments", "FZ Construction", "FZ Construction", _GS_CONSTRUCTION),
    "43": ("Travaux de construction spécialisés", "FZ Construction", "FZ Construction", _GS_CONSTRUCTION),
    "45": ("Commerce et réparation d'automobiles et de motocycles", _NA38_GZ, _NA38_GZ, _GS_COMMERCE),
    "46": ("Commerce de gros, à l'exception des automobiles et des motocycles", _NA38_GZ, _NA38_GZ, _GS_COMMERCE),
    "47": ("Commerce de détail, à l'exception des automobiles et des motocycles", _NA38_GZ, _NA38_GZ,
           _GS_COMMERCE),
    "49": ("Transports terrestres et transport par conduites", "HZ Transports et entreposage",
           "HZ Transports et entreposage", _GS_SERVICES),
    "55": ("Hébergement", "IZ Hébergement et restauration", "IZ Hébergement et restauration", _GS_SERVICES),
    "56": ("Restauration", "IZ Hébergement et restauration", "IZ Hébergement et restauration", _GS_SERVICES),
    "58": ("Édition", "JA Édition, audiovisuel et diffusion", _NA17_JZ, _GS_SERVICES),
    "61": ("Télécommunications", "JB Télécommunications", _NA17_JZ, _GS_SERVICES),
    "62": ("Programmation, conseil et autres activités informatiques",
           "JC Activités informatiques et services d'information", _NA17_JZ, _GS_SERVICES),
    "63": ("Services d'information", "JC Activités informatiques et services d'information", _NA17_JZ,
           _GS_SERVICES),
    "69": ("Activités juridiques et comptables", _NA38_MA, _NA17_MN, _GS_SERVICES),
    "71": ("Activités d'architecture et d'ingénierie ; activités de contrôle et analyses techniques", _NA38_MA,
           _NA17_MN, _GS_SERVICES),
    "85": ("Enseignement", "PZ Enseignement", _NA17_OQ, _GS_SERVICES),
    "86": ("Activités pour la santé humaine", "QA Activités pour la santé humaine", _NA17_OQ, _GS_SERVICES),
    "88": ("Action sociale sans hébergement",
           "QB Hébergement médico-social et social et action sociale sans hébergement", _NA17_OQ, _GS_SERVICES),
    "95": ("Réparation d'ordinateurs et de biens personnels et domestiques", "SZ Autres activités de services",
           "RU Autres activités de services", _GS_SERVICES),
    "96": ("Autres services personnels", "SZ Autres activités de services", "RU Autres activités de services",
           _GS_SERVICES),
}


@dataclass(frozen=True)
class Ape:
    code: str
    label: str
    establishments_972: float  # expected number of establishments in Martinique in 2025
    size: float  # average salaried headcount per establishment
    growth: float  # yearly growth rate of the number of establishments
    kind: str  # office | tourism | general: how establishments spread over communes
    everywhere: bool = False  # every commune has at least one (so every commune has a row)

    @property
    def division(self) -> str:
        return self.code[:2]


# The digital block first (OECD ICT sector), then common activities for context. The expected
# counts are calibrated so that Martinique's ict_services perimeter (5821Z..9512Z) has about 400
# establishments and 2,000 salaried jobs in 2025; telecom operators are few but large.
APES: tuple[Ape, ...] = (
    Ape("6201Z", "Programmation informatique", 95, 4.5, 0.05, "office"),
    Ape("6202A", "Conseil en systèmes et logiciels informatiques", 85, 3.5, 0.05, "office"),
    Ape("6202B", "Tierce maintenance de systèmes et d'applications informatiques", 12, 6.0, 0.03, "office"),
    Ape("6203Z", "Gestion d'installations informatiques", 8, 7.0, 0.03, "office"),
    Ape("6209Z", "Autres activités informatiques", 60, 2.5, 0.06, "office"),
    Ape("5821Z", "Édition de jeux électroniques", 3, 2.0, 0.06, "office"),
    Ape("5829A", "Édition de logiciels système et de réseau", 3, 4.0, 0.04, "office"),
    Ape("5829B", "Édition de logiciels outils de développement et de langages", 2, 3.0, 0.04, "office"),
    Ape("5829C", "Édition de logiciels applicatifs", 10, 5.0, 0.05, "office"),
    Ape("6110Z", "Télécommunications filaires", 10, 30.0, -0.01, "office"),
    Ape("6120Z", "Télécommunications sans fil", 12, 18.0, 0.01, "office"),
    Ape("6130Z", "Télécommunications par satellite", 2, 4.0, 0.02, "office"),
    Ape("6190Z", "Autres activités de télécommunication", 25, 5.0, 0.04, "office"),
    Ape("6311Z", "Traitement de données, hébergement et activités connexes", 18, 6.0, 0.05, "office"),
    Ape("6312Z", "Portails Internet", 8, 2.5, 0.07, "office"),
    Ape("9511Z", "Réparation d'ordinateurs et d'équipements périphériques", 30, 2.5, 0.00, "office"),
    Ape("9512Z", "Réparation d'équipements de communication", 15, 3.0, 0.02, "office"),
    Ape("2620Z", "Fabrication d'ordinateurs et d'équipements périphériques", 2, 5.0, 0.00, "office"),
    Ape("4651Z", "Commerce de gros d'ordinateurs, d'équipements informatiques périphériques et de logiciels",
        20, 6.0, 0.01, "office"),
    Ape("4652Z", "Commerce de gros de composants et d'équipements électroniques et de télécommunication",
        12, 5.0, 0.01, "office"),
    Ape("4711D", "Supermarchés", 25, 40.0, 0.01, "general"),
    Ape("5610A", "Restauration traditionnelle", 600, 4.0, 0.02, "tourism", everywhere=True),
    Ape("4120A", "Construction de maisons individuelles", 40, 4.0, 0.00, "general"),
    Ape("8621Z", "Activité des médecins généralistes", 120, 1.5, 0.00, "general"),
    Ape("4520A", "Entretien et réparation de véhicules automobiles légers", 200, 3.0, 0.01, "general"),
    Ape("5510Z", "Hôtels et hébergement similaire", 50, 15.0, 0.00, "tourism"),
    Ape("4941A", "Transports routiers de fret interurbains", 110, 5.0, 0.01, "general"),
    Ape("6920Z", "Activités comptables", 70, 6.0, 0.02, "office"),
    Ape("7112B", "Ingénierie, études techniques", 90, 4.0, 0.02, "office"),
    Ape("8559A", "Formation continue d'adultes", 110, 5.0, 0.03, "office"),
    Ape("4773Z", "Commerce de détail de produits pharmaceutiques en magasin spécialisé", 90, 5.0, 0.00,
        "general"),
    Ape("1071C", "Boulangerie et boulangerie-pâtisserie", 120, 6.0, 0.01, "general"),
    Ape("4321A", "Travaux d'installation électrique dans tous locaux", 150, 3.0, 0.02, "general"),
    Ape("8810A", "Aide à domicile", 60, 20.0, 0.03, "general"),
    Ape("9602A", "Coiffure", 160, 2.0, 0.01, "general"),
)

# Guadeloupe is a little larger than Martinique (about 384,000 inhabitants against 350,000).
_DEPARTEMENT_SCALE = {"971": 1.08, "972": 1.0}

# Where activity concentrates beyond what population explains: the business districts (Fort-de-France
# and Le Lamentin in Martinique; Jarry in Baie-Mahault, Les Abymes and Pointe-à-Pitre in
# Guadeloupe) for office activities, the seaside resorts for tourism.
_HUBS = {
    "97209": 4.0, "97213": 4.5, "97229": 1.5,
    "97101": 3.5, "97103": 5.0, "97120": 3.5, "97113": 1.3,
}
_RESORTS = {
    "97231": 4.0, "97226": 3.5, "97206": 3.0, "97227": 3.0, "97217": 2.0, "97225": 1.5,
    "97113": 4.0, "97128": 3.5, "97125": 3.5, "97114": 2.5, "97107": 1.5, "97120": 1.5,
}

# Zones d'emploi: stable invented codes and names (the real ZE2020 list is not in the inputs).
# Each zone groups whole EPCI, or communes of an EPCI (Martinique's CAP Nord spans two coasts).
_ZONE_NAMES = {
    "0101": "Pointe-à-Pitre", "0102": "Basse-Terre", "0103": "Marie-Galante",
    "0201": "Fort-de-France", "0202": "La Trinité", "0203": "Le Marin", "0204": "Saint-Pierre",
}
_ZONE_BY_EPCI = {
    "200018653": "0101", "200044691": "0101", "200041507": "0101",  # CAP Excellence, Nord Grande-Terre, Riviéra
    "249710062": "0102", "249710070": "0102",  # Nord Basse-Terre, Grand Sud Caraïbe
    "249710047": "0103",  # Marie-Galante
    "249720061": "0201",  # CACEM
    "200041788": "0202",  # CAP Nord (Atlantic side; the Caribbean side is listed below)
    "249720053": "0203",  # Espace Sud
}
_ZONE_BY_COMMUNE = {c: "0204" for c in ("97204", "97205", "97208", "97218", "97219", "97225", "97233", "97234")}

_REGION_CODE = {"971": "01", "972": "02"}


@dataclass(frozen=True)
class Series:
    establishments: list[int | None]
    headcount: list[int | None]


def _simulate_pair(rng: random.Random, ape: Ape, lam: float) -> Series | None:
    """Yearly series of one commune x APE pair, or None when the pair never had an establishment.

    The number of establishments follows a smooth exponential trend (APE growth, plus a per-pair
    deviation) with a little autocorrelated noise; years before the pair appears are blank. The
    headcount is the number of establishments times a pair-specific average size.
    """
    level = poisson(rng, lam)
    if level == 0 and ape.everywhere:
        level = 1
    years = len(URSSAF_YEARS)
    if level == 0:
        # A pair can have existed and closed since: one establishment for a few years, then 0.
        if rng.random() >= 1 - math.exp(-0.5 * lam):
            return None
        opened = rng.randint(0, years - 8)
        closed = rng.randint(opened + 2, years - 1)
        counts: list[float | None] = [None] * opened + [1.0] * (closed - opened) + [0.0] * (years - closed)
    else:
        growth = ape.growth + rng.gauss(0, 0.02)
        # The pair appears when its trend first reaches about one establishment. Small pairs may
        # also appear late (a newcomer where the activity was absent); a large one is never made
        # to appear out of nothing, which would put a jump from blank to dozens in the series.
        if growth > 0.005:
            start = 2025 - math.log(level / 0.6) / growth + rng.uniform(-3, 3)
        else:
            start = rng.uniform(1990, 2030) if level <= 2 else 1990.0
        if level <= 2 and rng.random() < 0.2:
            start = max(start, rng.uniform(2008, 2025))
        opened = min(max(0, round(start) - URSSAF_YEARS[0]), years - 1)
        counts = [None] * opened
        noise = 0.0
        for index in range(opened, years):
            noise = 0.6 * noise + rng.gauss(0, 0.05)
            trend = level * math.exp(growth * (URSSAF_YEARS[index] - 2025))
            counts.append(max(0.0, trend * (1 + noise)))
        counts[opened] = max(1.0, counts[opened] or 0.0)

    establishments = [None if c is None else round(c) for c in counts]
    if establishments[opened] == 0:
        establishments[opened] = 1
    size = ape.size * math.exp(rng.gauss(0, 0.45))
    headcount: list[int | None] = []
    drift = 0.0
    for count in establishments:
        drift = 0.7 * drift + rng.gauss(0, 0.08)
        headcount.append(None if count is None else max(0, round(count * size * math.exp(drift))))
    # Statistical secrecy: a few small pairs have their headcount withheld where 1 or 2 establishments
    # could be identified. Blank, never 0.
    if max(c or 0 for c in establishments) <= 2 and rng.random() < 0.05:
        headcount = [None if c in (1, 2) else h for c, h in zip(establishments, headcount, strict=True)]
    return Series(establishments, headcount)


def _commune_weights(ape: Ape, communes: Sequence[dict[str, Any]]) -> list[float]:
    weights = []
    for commune in communes:
        weight = float(commune.get("population") or 1) ** 1.15
        if ape.kind == "office":
            weight *= _HUBS.get(commune["code"], 1.0)
        elif ape.kind == "tourism":
            weight *= _RESORTS.get(commune["code"], 1.0)
        else:
            weight *= math.sqrt(_HUBS.get(commune["code"], 1.0))
        weights.append(weight)
    total = sum(weights)
    return [w / total for w in weights]


def build_urssaf_rows(geo: RealGeo) -> list[list[str]]:
    departement_name = {d["code"]: d["nom"] for d in geo.departements}
    region_name = {r["code"]: r["nom"] for r in geo.regions}
    epci_of = {m["code"]: e for e in geo.epci for m in e["membres"]}
    rows: list[list[str]] = []
    for dep in URSSAF_DEPARTEMENTS:
        communes = sorted((c for c in geo.communes if c["type"] == "commune-actuelle" and c["departement"] == dep),
                          key=lambda c: c["code"])
        reg = _REGION_CODE[dep]
        for ape in APES:
            label, na38, na17, sector = _DIVISIONS[ape.division]
            weights = _commune_weights(ape, communes)
            for commune, weight in zip(communes, weights, strict=True):
                # One RNG per pair, seeded by its key: a pair's values do not depend on the others,
                # so adding an APE or a commune leaves every existing row unchanged.
                rng = random.Random(f"{SEED}:{commune['code']}:{ape.code}")
                series = _simulate_pair(rng, ape, ape.establishments_972 * _DEPARTEMENT_SCALE[dep] * weight)
                if series is None or not any(series.establishments):
                    continue
                epci = epci_of[commune["code"]]
                zone = _ZONE_BY_COMMUNE.get(commune["code"], _ZONE_BY_EPCI[epci["code"]])
                ids = [
                    region_name[reg], region_name[reg], departement_name[dep], _ZONE_NAMES[zone], epci["nom"],
                    commune["nom"], f"{commune['code']} {commune['nom']}", sector, na17, na38,
                    f"{ape.division} {label}", f"{ape.code} {ape.label}", reg, reg, dep, zone, epci["code"],
                    commune["code"], ape.code,
                ]
                values = ["" if v is None else str(v) for v in (*series.establishments, *series.headcount)]
                rows.append(ids + values)
    rows.sort(key=lambda r: (r[URSSAF_ID_COLUMNS.index("code_commune")], r[URSSAF_ID_COLUMNS.index("code_ape")]))
    return rows


def _urssaf_fields() -> list[dict[str, Any]]:
    labels = {
        "region": "Région", "ancienne_region": "Ancienne région", "departement": "Département",
        "zone_d_emploi": "Zone d'emploi", "epci": "EPCI", "commune": "Commune",
        "intitule_commune": "Intitulé commune", "grand_secteur_d_activite": "Grand secteur d'activité",
        "secteur_na17": "Secteur NA17", "secteur_na38": "Secteur NA38", "secteur_na88": "Secteur NA88",
        "ape": "APE", "code_region": "Code région", "code_ancienne_region": "Code ancienne région",
        "code_departement": "Code département", "code_zone_d_emploi": "Code zone d'emploi",
        "code_epci": "Code EPCI", "code_commune": "Code commune", "code_ape": "Code APE",
    }
    fields: list[dict[str, Any]] = [
        {"name": name, "label": labels[name], "type": "text", "description": None, "annotations": {}}
        for name in URSSAF_ID_COLUMNS
    ]
    for prefix, label in (("nombre_d_etablissements", "Nombre d'établissements"),
                          ("effectifs_salaries", "Effectifs salariés")):
        fields.extend({"name": f"{prefix}_{y}", "label": f"{label} {y}", "type": "int", "description": None,
                       "annotations": {}} for y in URSSAF_YEARS)
    return fields


def build_urssaf(geo: RealGeo) -> list[SnapshotFile]:
    rows = build_urssaf_rows(geo)
    document = {
        "dataset_id": URSSAF_DATASET_ID,
        "has_records": True,
        "data_visible": True,
        "visibility": "domain",
        "features": ["analyze"],
        "attachments": [],
        "alternative_exports": [],
        "metas": {
            "default": {
                "title": "Nombre d'établissements employeurs et effectifs salariés du secteur privé, par commune x APE",
                "description": ("Nombre d'établissements employeurs et effectifs salariés en fin d'année du "
                                "secteur privé, par commune et code APE, depuis 2006 (champ : régime général)."),
                "publisher": "Urssaf",
                "license": "ODbL",
                "license_url": "https://opendatacommons.org/licenses/odbl/",
                "language": "fr",
                "territory": ["France"],
                "modified": "2025-06-02T08:00:00+00:00",
                "data_processed": "2025-06-02T08:00:00+00:00",
                "metadata_processed": "2025-06-02T08:00:00+00:00",
                # the number of rows of the bundled export (Guadeloupe and Martinique only)
                "records_count": len(rows),
            }
        },
        "fields": _urssaf_fields(),
    }
    synthetic_note = (f"values are SYNTHETIC (seeded RNG, seed {SEED}) in the real schema; geography (communes, "
                      "EPCI, départements, régions) is real, zones d'emploi are invented")
    return [
        SnapshotFile(f"{URSSAF_DIR}/exports/csv", f"{URSSAF_BASE_URL}/exports/csv", "urssaf", "synthetic",
                     "Urssaf establishments and salaried headcount by commune x APE, 2006-2025, wide ';' CSV "
                     f"export for 971 and 972 and 35 APE codes; {synthetic_note}",
                     "synthetic values (no third-party data); schema of the Urssaf open dataset (ODbL)",
                     csv_bytes(URSSAF_HEADER, rows, delimiter=";")),
        SnapshotFile(f"{URSSAF_DIR}.json", URSSAF_BASE_URL, "urssaf", "derived-from-real",
                     "Opendatasoft explore v2.1 dataset document (real dataset id, schema, licence and publisher); "
                     "records_count is the row count of the bundled export", "ODbL", json_bytes(document)),
    ]
