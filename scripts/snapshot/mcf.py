"""mcf: the Mon Compte Formation catalogue export (Caisse des Dépôts, Opendatasoft).

One file at its real URL path under ``data/snapshot``: the ``/exports/csv`` export of the dataset
``moncompteformation_catalogueformation`` for Guadeloupe (971) and Martinique (972) together; the
replay server applies the ``where`` territory filter itself, like Opendatasoft does.

The offers are SYNTHETIC (seeded RNG) in the real schema: about 250 per département, mostly
non-digital, with a realistic digital share (NSF 326, development / networks / cybersecurity / data /
AI / web formacodes), a few Bac+5 (NIV7) digital offers, some without certification
(``type_referentiel`` empty: bilans de compétences, VAE support), a few remote-only ones, providers
in Fort-de-France / Le Lamentin (972) and Pointe-à-Pitre / Les Abymes / Baie-Mahault (971) dominating.
Text fields carry HTML (``<p>``, ``<br>``, ``&amp;``) like the real catalogue; ``code_rncp`` and
``code_inventaire`` are numbers without their ``RNCP``/``RS`` prefix and point to fiches of the RNCP
snapshot (the rncp generator's fiches, real certification numbers), except two offers citing a fiche
absent from it. An offer leading to a certification carries that certification's REAL formacodes
(up to five, the one naming its title first, with its real label) and NSF groups, as the real
export of 2026-02-01 lists them; the offers without certification carry real formacodes too.

Byte-reproducible: fixed seed, sorted output.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from snapshot.common import Context, SnapshotFile, csv_bytes
from snapshot.rncp import ABSENT_NUMBER, RNCP_TEMPLATES, Fiche, build_fiches, load_register, nsf_group_labels

KEY = "mcf"
SEED = 972
REQUIRES = ("rncp",)  # its offers cite the rncp generator's certification numbers

DATASET_ID = "moncompteformation_catalogueformation"
EXPORT_URL = f"https://opendata.caissedesdepots.fr/api/explore/v2.1/catalog/datasets/{DATASET_ID}/exports/csv"
EXPORT_PATH = EXPORT_URL.removeprefix("https://")
DATE_EXTRACT = "2026-08-30"

HEADER = [
    "date_extract", "nom_of", "siret", "numero_formation", "intitule_formation", "objectif_formation",
    "contenu_formation", "points_forts", "type_referentiel", "code_rncp", "code_inventaire",
    "intitule_certification", "code_certifinfo", "libelle_niveau_sortie_formation",
    "code_formacode_1", "code_formacode_2", "code_formacode_3", "code_formacode_4", "code_formacode_5",
    "libelle_code_formacode_principal", "code_nsf_1", "code_nsf_2", "code_nsf_3",
    "libelle_nsf_1", "libelle_nsf_2", "libelle_nsf_3", "nb_action", "nb_session_active",
    "nb_session_a_distance", "nombre_heures_total_min", "nombre_heures_total_max", "nombre_heures_total_mean",
    "frais_ttc_tot_min", "frais_ttc_tot_max", "frais_ttc_tot_mean", "nom_region", "code_region",
    "nom_departement", "code_departement",
]

LEVEL_LABELS = {
    "NIV3": "Niveau 3 (CAP, BEP)", "NIV4": "Niveau 4 (BAC)", "NIV5": "Niveau 5 (BAC+2)",
    "NIV6": "Niveau 6 (BAC+3 et 4)", "NIV7": "Niveau 7 (BAC+5)", "NIV8": "Niveau 8 (Doctorat)",
}
NO_LEVEL = "Sans niveau spécifique"

# (code, nom, région code, région nom, providers: (town, weight), number of offers, digital NIV7 offers)
TERRITORIES = [
    ("971", "Guadeloupe", "01", "Guadeloupe",
     [("Pointe-à-Pitre", 5), ("Les Abymes", 5), ("Baie-Mahault", 5), ("Basse-Terre", 2), ("Le Gosier", 2),
      ("Sainte-Anne", 1), ("Le Moule", 1)], 264, 2),
    ("972", "Martinique", "02", "Martinique",
     [("Fort-de-France", 9), ("Le Lamentin", 7), ("Schœlcher", 2), ("Le Robert", 1), ("Le François", 1),
      ("Rivière-Salée", 1), ("Trinité", 1)], 238, 3),
]
PROVIDER_KINDS = [
    "Centre de formation {}", "Institut caribéen des métiers {}", "Académie du numérique {}",
    "Formation Pro {}", "École des compétences {}", "GRETA {}", "Cabinet Conseil Formation {}",
    "Digital Campus {}", "Compétences Caraïbes {}", "Atelier des Métiers {}", "Antilles Formation Conseil {}",
]
# (title, NSF group, formacode and its real label, hours, fees range)
NO_CERTIFICATION = [
    ("Bilan de compétences", "413", "15081", "Bilan professionnel", 24, (1200, 2400)),
    ("Accompagnement VAE", "415", "44591", "Architecte accompagnateur parcours VAE", 24, (900, 3000)),
    ("Création et reprise d'entreprise : accompagnement", "310", "32047", "Création entreprise", 35, (800, 2500)),
]
NIV7_DIGITAL_TITLES = ("Expert en cybersécurité", "Manager de projets informatiques",
                       "Expert en ingénierie des données et intelligence artificielle",
                       "Architecte des systèmes d'information")


def siret(rng: random.Random) -> str:
    """A 14-digit SIRET passing the Luhn check, like real ones."""
    body = [rng.randint(0, 9) for _ in range(13)]
    body[0] = rng.randint(1, 9)
    for check in range(10):
        digits = [*body, check]
        total = 0
        for i, d in enumerate(reversed(digits)):
            d = d * 2 if i % 2 else d
            total += d - 9 if d > 9 else d
        if total % 10 == 0:
            return "".join(map(str, digits))
    raise AssertionError("unreachable")


def providers(rng: random.Random, towns: Sequence[tuple[str, int]]) -> list[tuple[str, str, float]]:
    out = []
    for town, weight in towns:
        # the bigger towns host more providers, each weighted by the town's share of the offer
        for kind in rng.sample(PROVIDER_KINDS, weight):
            out.append((kind.format(town.upper() if rng.random() < 0.3 else town), siret(rng), float(weight)))
    return out


def _clean(text: str) -> str:
    # the RNCP export doubles apostrophes; Mon Compte Formation does not
    return text.replace("''", "'").replace("\n", " ")


def _html(rng: random.Random, title: str, digital: bool) -> tuple[str, str, str]:
    objective = (f"<p>Acquérir les compétences du métier et obtenir la certification « {title} ».</p>"
                 if rng.random() < 0.8 else f"Préparer la certification {title} &amp; s'insérer dans l'emploi.")
    modules = (["Algorithmique &amp; programmation", "Bases de données", "Sécurité des applications",
                "Projet en entreprise"] if digital else
               ["Connaissance du métier", "Techniques professionnelles", "Santé &amp; sécurité au travail",
                "Stage en entreprise"])
    rng.shuffle(modules)
    items = "".join(f"<li>{m}</li>" for m in modules[: rng.randint(2, 4)])
    content = f"<ul>{items}</ul><br>Évaluation finale &amp; passage de la certification."
    if rng.random() < 0.15:
        content = content.replace("<br>", "<br>\n")  # line breaks inside a quoted field
    strengths = "" if rng.random() < 0.3 else rng.choice([
        "<p>Formateurs professionnels &amp; plateau technique équipé</p>",
        "<p>Petits groupes<br>Accompagnement individualisé</p>", "Taux de réussite supérieur à 85 %"])
    return objective, content, strengths


def offer_row(rng: random.Random, territory: tuple, provider: tuple[str, str, float], index: int,
              fiche: Fiche | None, nsf_labels: dict[str, str], missing_code: str | None = None) -> list[str]:
    dep, dep_name, reg, reg_name = territory[:4]
    name, provider_siret, _ = provider
    if fiche is None:
        title, nsf, formacode, formacode_label, hours, price_range = rng.choice(NO_CERTIFICATION)
        certification = dict(type="", rncp="", rs="", label="", certifinfo="", level=NO_LEVEL)
        formacodes, nsfs, digital = [formacode], [nsf], False
        intitule = title
        hours_min = hours_max = float(hours)
    else:
        t = fiche.template
        label = _clean(t.title)
        certification = dict(type="RNCP" if fiche.is_rncp else "RS",
                             rncp=(missing_code or fiche.code) if fiche.is_rncp else "",
                             rs="" if fiche.is_rncp else (missing_code or fiche.code), label=label,
                             certifinfo=str(rng.randint(80000, 120000)),
                             level=LEVEL_LABELS.get(t.level, NO_LEVEL))
        # the certification's real formacodes (the catalogue has five columns), the one naming the
        # title first (the template's preferred formacodes) as a provider would, and NSF groups
        labels = dict(fiche.formacodes)
        preferred = [code for code in t.formacodes if code in labels]
        formacodes = list(dict.fromkeys([*preferred, *labels]))[:5]
        formacode_label = labels[formacodes[0]]
        nsfs = list(dict.fromkeys(code[:3] for code, _ in fiche.nsf))  # MCF writes the 3-digit NSF group
        digital = t.digital
        intitule = rng.choice([label, f"{t.abbrev[1].replace(chr(39) * 2, chr(39))} {label}".strip(),
                               f"Préparation à la certification {label}"])
        if fiche.is_rncp:
            base = {"NIV3": 500, "NIV4": 700, "NIV5": 900, "NIV6": 1000, "NIV7": 1200}.get(t.level, 600)
            hours_min = float(base + rng.randint(-150, 300))
            price_range = (2500, 12000)
        else:
            hours_min = float(rng.choice([7, 14, 21, 28, 35, 70]))
            price_range = (250, 2500)
        hours_max = hours_min + rng.choice([0, 0, 35, 70, 140])
    sessions = rng.choices([0, 1, 2, 3, 4, 6], [2, 5, 4, 3, 2, 1])[0]
    remote_only = sessions > 0 and rng.random() < 0.02
    remote = sessions if remote_only else rng.randint(0, sessions // 2)
    price_min = float(rng.randint(*price_range))
    price_max = price_min + rng.choice([0, 0, 150, 500, 1200])
    objective, content, strengths = _html(rng, certification["label"] or intitule, digital)
    nsfs = [*nsfs, "", "", ""][:3]
    formacodes = [*formacodes, "", "", "", "", ""][:5]
    return [
        DATE_EXTRACT, name, provider_siret, f"{provider_siret}_{dep}F{index:04d}", intitule, objective, content,
        strengths, certification["type"], certification["rncp"], certification["rs"], certification["label"],
        certification["certifinfo"], certification["level"], *formacodes,
        _clean(formacode_label), *nsfs, *[_clean(nsf_labels[c]) if c else "" for c in nsfs],
        str(rng.randint(1, 3)), str(sessions), str(remote),
        f"{hours_min:.1f}", f"{hours_max:.1f}", f"{(hours_min + hours_max) / 2:.2f}",
        f"{price_min:.1f}", f"{price_max:.1f}", f"{(price_min + price_max) / 2:.2f}",
        reg_name, reg, dep_name, dep,
    ]


def build_rows(real_dir: Path, seed: int = SEED) -> list[list[str]]:
    rng = random.Random(seed)
    fiches = [f for f in build_fiches(real_dir) if f.active]
    nsf_labels = nsf_group_labels(load_register(real_dir))
    # one fiche per title, in the order of NIV7_DIGITAL_TITLES: the title's own registration (its
    # template's best fit among the real certifications), not one of its other certifiers'
    own = {_clean(f.template.title): f for f in fiches
           if f.template in RNCP_TEMPLATES and f.template.level == "NIV7" and f.template.digital}
    niv7_digital = [own[title] for title in NIV7_DIGITAL_TITLES]
    # Bac+5 digital offers are rare in the Antilles: exactly n_niv7 per département, none at random
    pool = [f for f in fiches if not (f.template.level == "NIV7" and f.template.digital)
            and f.template.level != "NIV8"]
    # digital offers are ~12 % of the catalogue: weight them down against the long tail of others
    # (a title registered by several certifiers counts once, spread over its fiches)
    per_title = Counter(f.template.title for f in pool)
    weights = [(1.0 if f.template.digital else 3.0) / per_title[f.template.title] for f in pool]
    rows: list[list[str]] = []
    for territory in TERRITORIES:
        towns, count, n_niv7 = territory[4], territory[5], territory[6]
        provs = providers(rng, towns)
        prov_weights = [p[2] for p in provs]
        for index in range(count):
            provider = rng.choices(provs, prov_weights)[0]
            if index < n_niv7:
                fiche: Fiche | None = niv7_digital[index % len(niv7_digital)]
            elif rng.random() < 0.07:
                fiche = None
            else:
                fiche = rng.choices(pool, weights)[0]
            # two offers cite a registration absent from the RNCP snapshot (just registered upstream)
            missing = (ABSENT_NUMBER.removeprefix("RNCP") if index in (50, 51) and fiche is not None
                       and fiche.is_rncp else None)
            rows.append(offer_row(rng, territory, provider, index + 1, fiche, nsf_labels, missing))
    rows.sort(key=lambda r: (r[-1], r[3]))
    return rows


def build(ctx: Context) -> list[SnapshotFile]:
    return [SnapshotFile(
        EXPORT_PATH, EXPORT_URL, KEY, "synthetic",
        "Mon Compte Formation catalogue, ';' CSV export for 971 and 972 in the real schema; offers, providers and "
        f"SIRETs are SYNTHETIC (seeded RNG, seed {SEED}); certification codes point to the RNCP snapshot's real "
        "certification numbers, whose real formacodes and NSF groups the offers carry",
        "synthetic values (no third-party data); schema of the Caisse des Dépôts open dataset (Licence Ouverte)",
        csv_bytes(HEADER, build_rows(ctx.real_dir), delimiter=";"))]
