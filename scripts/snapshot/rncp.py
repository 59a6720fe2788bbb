"""rncp: the France Compétences RNCP / RS export (data.gouv.fr) and its dataset document.

Two files, at their real URL paths under ``data/snapshot``:

- the data.gouv.fr dataset document (``/api/1/datasets/<slug>/``): real shape (id, slug, resources
  with ``format``, ``title`` "Export CSV YYYY-MM-DD", ``url`` on static.data.gouv.fr), the
  resources of three daily exports (CSV and XML) of which only the latest CSV zip is bundled;
- the latest CSV export zip: one ``;``-separated UTF-8 CSV per facet (Standard, Rome, Nsf,
  Formacode, Blocs_De_Compétences, Certificateurs), with the real quirks: quoted multi-line
  ``Intitule``, doubled apostrophes (``d''analyse``), ``RNCP``/``RS`` prefixed numbers,
  ``NIV3``..``NIV8``/``REPRISE`` levels, ``dd/mm/yyyy`` dates, ``ACTIVE``/``INACTIVE``, ROME V3 codes.

The zip's ``Rome``, ``Formacode`` and ``Nsf`` members are REAL: the rows of France Compétences'
export of 2026-02-01 (``rncp/export_fiches_CSV_{Rome,Formacode,Nsf}_2026_02_01.csv`` of the real
inputs) for the certifications the snapshot uses, byte for byte (fully quoted, CRLF), in the
real files' order, under the member names of the snapshot's export day. The certification
numbers are real numbers of those files: each one is chosen (seeded RNG) among the real
certifications whose ROME codes, NSF specialities and formacodes fit a template (a real title
such as "Développeur web et web mobile", its level and abbreviation), and whose digital status
under the warehouse's own rules (the seeds formacode_skill_domains and rome_digital_occupations,
NSF group 326) is the template's. ``Standard``, ``Blocs_De_Compétences`` and ``Certificateurs``
stay SYNTHETIC: titles, levels, dates, status, blocks and certifiers are the template's or drawn,
so a number's title in the snapshot need not be its real title. The mcf generator imports
:func:`build_fiches` so that the Mon Compte Formation snapshot cites these certifications with
their real formacodes and NSF codes (hence ``REQUIRES`` there).

Byte-reproducible: fixed seed, fixed zip timestamps, the real files' order.
"""

from __future__ import annotations

import csv
import functools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from snapshot.common import ROOT, Context, SnapshotFile, csv_bytes, deterministic_zip, json_bytes

KEY = "rncp"
SEED = 972
REQUIRES: tuple[str, ...] = ()
ZIP_DATE_TIME = (2026, 8, 30, 2, 0, 2)  # the export's own time: 02:00:02 on the day of the export

SLUG = "repertoire-national-des-certifications-professionnelles-et-repertoire-specifique"
DATASET_ID = "5eebbc067a14b6fecc9c9976"
DATASET_URL = f"https://www.data.gouv.fr/api/1/datasets/{SLUG}/"
DATASET_PATH = f"www.data.gouv.fr/api/1/datasets/{SLUG}/index.json"
EXPORT_DAYS = ("2026-08-28", "2026-08-29", "2026-08-30")
LATEST_DAY = EXPORT_DAYS[-1]
LICENCE = "Licence Ouverte / Etalab 2.0"

STANDARD_HEADER = [
    "Id_Fiche", "Numero_Fiche", "Intitule", "Abrege_Libelle", "Abrege_Intitule", "Nomenclature_Europe_Niveau",
    "Nomenclature_Europe_Intitule", "Accessible_Nouvelle_Caledonie", "Accessible_Polynesie_Francaise",
    "Date_dernier_jo", "Date_Decision", "Date_Fin_Enregistrement", "Date_Effet", "Type_Enregistrement",
    "Validation_Partielle", "Actif",
]

# --------------------------------------------------------------------------------------------------
# The real facets: every certification's ROME codes, formacodes and NSF codes (export of 2026-02-01)
# --------------------------------------------------------------------------------------------------

REAL_EXPORT_DAY = "2026-02-01"
REAL_FACETS = ("Rome", "Formacode", "Nsf")  # member facets copied from the real files
SYNTHETIC_FACETS = ("Standard", "Blocs_De_Compétences", "Certificateurs")
# Mon Compte Formation cites this number for a registration absent from the snapshot (mcf.py)
ABSENT_NUMBER = "RNCP39999"

# NSF groups of the offers without certification (mcf.py), labelled as the real export labels them
NSF_GROUPS = {
    "310": "Spécialités plurivalentes des échanges et de la gestion",
    "413": "Développement des capacités comportementales et relationnelles",
    "415": "Développement des capacités d'orientation, d'insertion ou de réinsertion sociales et "
           "professionnelles",
}


def real_file(real_dir: Path, facet: str) -> Path:
    return real_dir / "rncp" / f"export_fiches_CSV_{facet}_{REAL_EXPORT_DAY.replace('-', '_')}.csv"


@dataclass(frozen=True)
class RealRegister:
    """The three real facet files: per facet, its header line and each certification's lines and values."""

    headers: dict[str, bytes]  # facet -> header line, as published (CRLF included)
    lines: dict[str, dict[str, list[bytes]]]  # facet -> Numero_Fiche -> its lines, as published, in file order
    values: dict[str, dict[str, list[tuple[str, str]]]]  # facet -> Numero_Fiche -> [(code, label)]

    def facet(self, name: str, numero: str) -> list[tuple[str, str]]:
        return self.values[name].get(numero, [])

    def numbers(self) -> set[str]:
        return {n for facet in self.values.values() for n in facet}


@functools.cache
def load_register(real_dir: Path) -> RealRegister:
    """Read the real facet files; no field breaks over lines in them, so one line is one row."""
    headers: dict[str, bytes] = {}
    lines: dict[str, dict[str, list[bytes]]] = {}
    values: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for facet in REAL_FACETS:
        raw = real_file(real_dir, facet).read_bytes().split(b"\r\n")
        if raw[-1] == b"":
            raw.pop()
        headers[facet] = raw[0] + b"\r\n"
        lines[facet], values[facet] = {}, {}
        for line in raw[1:]:
            numero, code, label = next(csv.reader([line.decode("utf-8")], delimiter=";"))
            lines[facet].setdefault(numero, []).append(line + b"\r\n")
            values[facet].setdefault(numero, []).append((code, label))
    return RealRegister(headers, lines, values)


@functools.cache
def digital_rules() -> tuple[frozenset[str], frozenset[str]]:
    """The warehouse's digital formacodes and core digital ROME codes (dbt seeds), as dim_certification uses them."""
    seeds = ROOT / "dbt_project" / "seeds"
    with (seeds / "formacode_skill_domains.csv").open(encoding="utf-8") as stream:
        formacodes = frozenset(row["formacode"] for row in csv.DictReader(stream))
    with (seeds / "rome_digital_occupations.csv").open(encoding="utf-8") as stream:
        romes = frozenset(row["rome_code"] for row in csv.DictReader(stream) if row["is_core_digital"] == "true")
    return formacodes, romes


def is_digital(register: RealRegister, numero: str) -> bool:
    """Digital as dim_certification classifies it: a digital formacode, core digital ROME code or NSF 326."""
    formacodes, romes = digital_rules()
    return (any(code in formacodes for code, _ in register.facet("Formacode", numero))
            or any(code in romes for code, _ in register.facet("Rome", numero))
            or any(code.startswith("326") for code, _ in register.facet("Nsf", numero)))


def nsf_group_labels(register: RealRegister) -> dict[str, str]:
    """The three-digit NSF groups' labels as the real export writes them (``326 : Informatique, ...``)."""
    labels = dict(NSF_GROUPS)
    for rows in register.values["Nsf"].values():
        for code, label in rows:
            if len(code) == 3:
                labels[code] = label.split(" : ", 1)[-1]
    return labels


# --------------------------------------------------------------------------------------------------
# Certification templates: title, level, abbreviation, and what a real certification must have to
# carry them: an NSF group and (RNCP) a ROME code among the template's; its formacodes, ROME codes
# and exact NSF codes in common with the template make it a better fit (digital ones first)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    title: str
    level: str  # NIV3..NIV8, REPRISE, or "" for RS fiches
    abbrev: tuple[str, str]  # (Abrege_Libelle, Abrege_Intitule)
    nsf: tuple[str, ...]  # a real certification needs one NSF code of these groups (first three characters)
    formacodes: tuple[str, ...]  # real formacodes of such certifications: the preferred fit
    romes: tuple[str, ...]  # an RNCP certification needs one of these ROME V3 codes (RS fiches have none)
    digital: bool  # and must be digital (or not) under the warehouse's rules
    blocks: tuple[str, ...] = ()
    versions: int = 2  # how many registrations over time (older ones inactive)


TP = ("TP", "Titre professionnel")
TH = ("TH", "Titre homologué")
BTS = ("BTS", "Brevet de technicien supérieur")
CAP = ("CAP", "Certificat d''aptitude professionnelle")
BP = ("BP", "Brevet professionnel")
LIC = ("LP", "Licence Professionnelle")
MAS = ("MASTER", "Master")
TI = ("TIT", "Titre ingénieur")
NONE = ("", "")

RNCP_TEMPLATES: list[Template] = [
    Template("Développeur web et web mobile", "NIV5", TP, ("326t",), ("31090", "31067"), ("M1805",), True,
             ("Développer la partie front-end d''une application web ou web mobile sécurisée",
              "Développer la partie back-end d''une application web ou web mobile sécurisée"), 3),
    Template("Concepteur développeur d''applications", "NIV6", TP, ("326t",), ("31067", "31098"), ("M1805",),
             True, ("Développer une application sécurisée", "Concevoir et développer une application sécurisée "
                    "organisée en couches", "Préparer le déploiement d''une application sécurisée"), 3),
    Template("Technicien supérieur systèmes et réseaux", "NIV5", TP, ("326r",), ("24231", "31051"),
             ("I1401", "M1810"), True, ("Assister les utilisateurs en centre de services",
                                        "Maintenir, exploiter et sécuriser une infrastructure centralisée",
                                        "Maintenir et exploiter une infrastructure distribuée"), 3),
    Template("Administrateur d''infrastructures sécurisées", "NIV6", TP, ("326n",), ("24220", "31006"),
             ("M1801", "M1810"), True, ("Administrer et sécuriser les infrastructures",
                                        "Concevoir et mettre en œuvre une solution en réponse à un besoin "
                                        "d''évolution", "Participer à la gestion de la cybersécurité"), 2),
    Template("Technicien d''assistance en informatique", "NIV4", TP, ("326r",), ("31051",), ("I1401",), True,
             ("Intervenir sur les éléments matériels et logiciels d''un poste de travail",
              "Intervenir sur un réseau local"), 2),
    Template("Concepteur designer UI", "NIV6", TP, ("320",), ("46334", "46370"), ("E1104", "E1205"), True,
             ("Concevoir les interfaces", "Réaliser des supports de communication"), 2),
    Template("Développeur en intelligence artificielle", "NIV6", TH, ("326t",), ("31028", "31026"),
             ("M1805", "M1802"), True, ("Collecter et préparer les données",
                                        "Développer et intégrer un modèle d''intelligence artificielle"), 2),
    Template("Data analyst", "NIV6", TH, ("326n",), ("31025", "31035"), ("M1805", "M1806"), True,
             ("Collecter, nettoyer et stocker les données", "Réaliser l''analyse\nexploratoire des données",
              "Restituer les résultats d''analyse"), 2),
    Template("Expert en cybersécurité", "NIV7", TH, ("326n",), ("31045", "31006"), ("M1802", "M1801"), True,
             ("Piloter la sécurité des systèmes d''information", "Auditer la sécurité d''un système "
              "d''information", "Gérer les incidents de sécurité"), 2),
    Template("Manager de projets informatiques", "NIV7", TH, ("326n",), ("31094",), ("M1803", "M1806"),
             True, ("Piloter un projet informatique", "Manager une équipe projet"), 3),
    Template("Expert en ingénierie des données et intelligence artificielle", "NIV7", TH, ("326n",),
             ("31023", "31028"), ("M1805", "M1802"), True,
             ("Concevoir une architecture de données", "Industrialiser un modèle d''apprentissage"), 2),
    Template("Architecte des systèmes d''information", "NIV7", TH, ("326n",), ("31009",), ("M1802", "M1803"),
             True, ("Concevoir l''architecture d''un système d''information",), 2),
    Template("Informatique : administration et sécurité des systèmes et des réseaux", "NIV6", LIC, ("326n",),
             ("24231", "31006"), ("M1801",), True, ("Administrer un réseau", "Sécuriser un système"), 2),
    Template("Informatique", "NIV7", MAS, ("326",), ("31054",), ("M1805", "M1802"), True, (), 2),
    Template("Ingénieur diplômé de l''école d''ingénieurs en informatique et systèmes d''information",
             "NIV7", TI, ("326",), ("31054", "31008"), ("M1805", "M1803"), True, (), 2),
    Template("Services informatiques aux organisations option solutions logicielles et applications métiers",
             "NIV5", BTS, ("326t",), ("31067",), ("M1805",), True,
             ("Support et mise à disposition de services informatiques", "Conception et développement "
              "d''applications"), 2),
    Template("Services informatiques aux organisations option solutions d''infrastructure, systèmes et "
             "réseaux", "NIV5", BTS, ("326r",), ("24231",), ("M1801", "I1401"), True, (), 2),
    Template("Cybersécurité, informatique et réseaux, électronique", "NIV5", BTS, ("326r", "255"),
             ("31006", "24231"), ("M1801",), True, (), 2),
    Template("Designer web", "NIV5", TH, ("320",), ("46331", "46003"), ("E1205",), True,
             ("Concevoir un site web", "Réaliser la charte graphique"), 2),
    Template("Chef de projet digital", "NIV7", TH, ("320", "326"), ("46339", "46347"), ("E1103", "M1705"),
             True, ("Élaborer une stratégie digitale", "Piloter un projet digital"), 2),
    Template("Conseiller en insertion professionnelle", "NIV5", TP, ("332",), ("44569",), ("K1801",), False,
             ("Accueillir pour analyser la demande", "Accompagner les personnes"), 2),
    Template("Vendeur conseil en magasin", "NIV4", TP, ("312",), ("34502", "34566"), ("D1214", "D1106"), False,
             ("Développer sa connaissance des produits", "Vendre en magasin"), 3),
    Template("Négociateur technico-commercial", "NIV5", TP, ("312",), ("34581",), ("D1402",), False, (), 2),
    Template("Comptable assistant", "NIV4", TP, ("314",), ("32663",), ("M1203",), False,
             ("Assurer les travaux courants de comptabilité", "Préparer la paie"), 3),
    Template("Gestionnaire comptable et fiscal", "NIV5", TP, ("314",), ("32667",), ("M1203",), False, (), 2),
    Template("Secrétaire assistant", "NIV4", TP, ("324",), ("35054",), ("M1607",), False,
             ("Assister une équipe dans la communication des informations", "Traiter les opérations "
              "administratives"), 3),
    Template("Assistant ressources humaines", "NIV5", TP, ("315",), ("33054",), ("M1503",), False, (), 2),
    Template("Assistant de vie aux familles", "NIV3", TP, ("330",), ("42056",), ("K1302", "K1303"), False,
             ("Entretenir le logement et le linge", "Accompagner la personne"), 3),
    Template("Accompagnant éducatif petite enfance", "NIV3", CAP, ("330",), ("44041",), ("K1303",), False, (), 2),
    Template("Aide-soignant", "NIV4", ("DE", "Diplôme d''Etat"), ("331",), ("43436",), ("J1501",), False, (), 2),
    Template("Cuisinier", "NIV3", TP, ("221",), ("42752",), ("G1602",), False,
             ("Préparer, cuire et dresser des hors-d''œuvre", "Préparer, cuire et dresser des plats"), 3),
    Template("Serveur en restauration", "NIV3", TP, ("334",), ("42757",), ("G1803",), False, (), 2),
    Template("Réceptionniste en hôtellerie", "NIV4", TP, ("334",), ("42788",), ("G1703",), False, (), 2),
    Template("Maçon", "NIV3", TP, ("232",), ("22334",), ("F1703",), False, (), 3),
    Template("Électricien d''équipement du bâtiment", "NIV3", TP, ("255",), ("24054",), ("F1602",), False, (), 3),
    Template("Technicien en froid et conditionnement d''air", "NIV4", TP, ("227",), ("22604",), ("I1306",),
             False, (), 2),
    Template("Mécanicien automobile", "NIV3", TP, ("252",), ("23637",), ("I1604",), False, (), 2),
    Template("Préparateur de commandes en entrepôt", "NIV3", TP, ("311",), ("31734",), ("N1103",), False, (), 2),
    Template("Conducteur du transport routier de marchandises sur porteur", "NIV3", TP, ("311",), ("31827",),
             ("N4101",), False, (), 2),
    Template("Agent de sûreté et de sécurité privée", "NIV3", TP, ("344",), ("42829",), ("K2503",), False, (), 2),
    Template("Formateur professionnel d''adultes", "NIV5", TP, ("333",), ("44586",), ("K2111",), False, (), 3),
    Template("Responsable de petite et moyenne structure", "NIV5", TP, ("310",), ("32154", "32047"),
             ("M1302",), False, (), 2),
    Template("Management et gestion des unités commerciales", "NIV5", BTS, ("312",), ("34573", "34588"),
             ("D1402", "M1705"), False, (), 2),
    Template("Manager d''unité marchande", "NIV5", TP, ("312",), ("34588",), ("D1106",), False, (), 2),
    Template("Chargé de communication", "NIV6", TH, ("320",), ("46301",), ("E1103",), False, (), 2),
    Template("Boulanger", "NIV3", CAP, ("221",), ("21538",), ("D1102",), False, (), 2),
    Template("Coiffure", "NIV4", BP, ("336",), ("42050",), ("D1202",), False, (), 2),
    Template("Gestion des entreprises et des administrations", "NIV6", ("BUT", "Bachelor universitaire de "
             "technologie"), ("310",), ("32654",), ("M1203", "M1602"), False, (), 2),
    Template("Ingénieur diplômé de l''école d''ingénieurs en génie civil", "NIV7", TI, ("232",), ("22378",),
             ("F1703",), False, (), 1),
    Template("Doctorat", "NIV8", ("DOC", "Doctorat"), ("326",), ("31054",), ("M1805",), True, (), 1),
    Template("Certificat de qualification professionnelle de technicien de maintenance", "REPRISE", NONE,
             ("252",), ("23637",), ("I1604",), False, (), 1),
]

RS_TEMPLATES: list[Template] = [
    Template("Certificat Pix", "", NONE, ("326",), ("15050", "15052"), (), True, (), 1),
    Template("Certification CléA numérique", "", NONE, ("326",), ("15050",), (), True, (), 1),
    Template("TOSA Excel", "", NONE, ("324",), ("70322",), (), True, (), 2),
    Template("ICDL - PCIE Passeport de compétences informatique européen", "", NONE, ("326",), ("15052", "70354"), (),
             True, (), 2),
    Template("Développer des applications en Python", "", NONE, ("326t",), ("30812",), ("M1805",), True, (), 1),
    Template("Administrer un cloud public", "", NONE, ("326n",), ("31011", "72310"), ("M1801",), True, (), 1),
    Template("Sécuriser un système d''information : analyse\net gestion des risques", "", NONE, ("326n",),
             ("31006",), ("M1802",), True, (), 1),
    Template("Réaliser une analyse de données avec un outil de business intelligence", "", NONE, ("326n",),
             ("31025",), ("M1805",), True, (), 1),
    Template("Concevoir et déployer un site internet avec un CMS", "", NONE, ("326t",), ("46333",),
             ("E1205",), True, (), 1),
    Template("Utiliser l''intelligence artificielle générative en entreprise", "", NONE, ("326",), ("31028",),
             (), True, (), 1),
    Template("Certification Voltaire", "", NONE, ("136",), ("15281",), (), False, (), 1),
    Template("Linguaskill Business - anglais", "", NONE, ("136",), ("15234",), (), False, (), 2),
    Template("Habilitation électrique B1V BR BC H0", "", NONE, ("255",), ("24049",), (), False, (), 2),
    Template("Certificat de sauveteur secouriste du travail", "", NONE, ("344",), ("42829",), (), False, (), 1),
    Template("Accompagnement à la création d''entreprise", "", NONE, ("310",), ("32047",), (), False, (), 2),
    Template("Permis de conduire des engins de chantier", "", NONE, ("311",), ("31717",), (), False, (), 1),
    Template("Certification Hygiène alimentaire HACCP", "", NONE, ("221",), ("42752",), (), False, (), 1),
    Template("Manager une équipe de proximité", "", NONE, ("315",), ("32110",), (), False, (), 1),
]

CERTIFIERS = [
    ("MINISTERE DU TRAVAIL DU PLEIN EMPLOI ET DE L''INSERTION", "11000007200014"),
    ("MINISTERE DE L''EDUCATION NATIONALE", "11004301500012"),
    ("MINISTERE DE L''ENSEIGNEMENT SUPERIEUR ET DE LA RECHERCHE", "11004401300040"),
    ("ECOLE SUPERIEURE DU NUMERIQUE CARAIBES", "85234190700018"),
    ("INSTITUT DES METIERS DE LA DATA", "83114527400027"),
    ("ACADEMIE CYBER FORMATION", "90120345600013"),
    ("CENTRE EUROPEEN DES COMPETENCES", "79845612300021"),
]



@dataclass
class Fiche:
    id_fiche: int
    numero: str  # a real number of the 2026-02-01 export: RNCP37674 / RS5843
    template: Template
    active: bool
    decision: str  # dd/mm/yyyy
    end: str
    certifier: tuple[str, str]
    blocks: list[tuple[str, str]] = field(default_factory=list)
    # the certification's real facets, (code, label) as the real export writes them
    romes: tuple[tuple[str, str], ...] = ()
    formacodes: tuple[tuple[str, str], ...] = ()
    nsf: tuple[tuple[str, str], ...] = ()

    @property
    def is_rncp(self) -> bool:
        return self.numero.startswith("RNCP")

    @property
    def code(self) -> str:
        """The number without its prefix, as Mon Compte Formation writes it."""
        return self.numero.removeprefix("RNCP").removeprefix("RS")


def _date(rng: random.Random, year_from: int, year_to: int) -> str:
    return f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(year_from, year_to)}"


def _digital_certifier(rng: random.Random, template: Template) -> tuple[str, str]:
    if template.abbrev == TP:
        return CERTIFIERS[0]
    if template.abbrev in (BTS, CAP, BP):
        return CERTIFIERS[1]
    if template.abbrev in (LIC, MAS, ("DOC", "Doctorat")):
        return CERTIFIERS[2]
    return rng.choice(CERTIFIERS[3:])


def _is_recent(numero: str) -> bool:
    """Recent registrations carry high numbers (RNCP34xxx and up, RS5xxx and up), older ones low ones."""
    return int(numero.removeprefix("RNCP").removeprefix("RS")) >= (34000 if numero.startswith("RNCP") else 5000)


@dataclass(frozen=True)
class Profile:
    """A real certification's codes, for matching it to templates."""

    formacodes: frozenset[str]
    nsf: frozenset[str]
    romes: frozenset[str]
    digital: bool


def profiles(register: RealRegister) -> dict[str, Profile]:
    return {numero: Profile(frozenset(c for c, _ in register.facet("Formacode", numero)),
                            frozenset(c for c, _ in register.facet("Nsf", numero)),
                            frozenset(c for c, _ in register.facet("Rome", numero)),
                            is_digital(register, numero))
            for numero in sorted(register.numbers())}


def fits(real: dict[str, Profile], template: Template) -> list[tuple[int, str]]:
    """(score, number) of the real certifications that may carry ``template``, best first.

    A candidate has the template's register, a formacode and an NSF code (Mon Compte Formation
    needs both), an NSF code of one of its groups, for an RNCP template one of its ROME codes, and
    the template's digital status; it scores four per formacode, one per ROME code and one per exact
    NSF code in common with the template.
    """
    rs = template.level == ""
    groups = {code[:3] for code in template.nsf}
    out = []
    for numero, p in real.items():
        if numero == ABSENT_NUMBER or numero.startswith("RS") != rs:
            continue
        if not p.formacodes or not p.nsf or not {c[:3] for c in p.nsf} & groups:
            continue
        if (not rs and not p.romes & set(template.romes)) or p.digital != template.digital:
            continue
        score = 4 * len(p.formacodes & set(template.formacodes)) + len(p.romes & set(template.romes)) \
            + len(p.nsf & set(template.nsf))
        out.append((score, numero))
    return sorted(out, key=lambda pair: (-pair[0], int(pair[1].removeprefix("RNCP").removeprefix("RS"))))


def build_fiches(real_dir: Path, seed: int = SEED) -> list[Fiche]:
    """The fiches, in ``Id_Fiche`` order (deterministic for a seed and the real files)."""
    register = load_register(real_dir)
    rng = random.Random(seed)
    fiches: list[Fiche] = []
    used: set[str] = set()
    real = profiles(register)
    candidates = {t.title: fits(real, t) for t in (*RNCP_TEMPLATES, *RS_TEMPLATES)}

    def number(template: Template, recent: bool) -> str:
        """An unused real number among the best remaining fits of ``template``, recent or older."""
        pool = [(s, n) for s, n in candidates[template.title] if n not in used]
        if not pool:
            raise SystemExit(f"no real certification left for the template {template.title!r}")
        banded = [(s, n) for s, n in pool if _is_recent(n) == recent] or pool
        banded = [(s, n) for s, n in banded if s == banded[0][0]]
        numero = rng.choice(banded)[1]
        used.add(numero)
        return numero

    def add(template: Template, numero: str, active: bool) -> None:
        if active:
            decision, end = _date(rng, 2022, 2026), _date(rng, 2027, 2031)
        else:
            decision, end = _date(rng, 2004, 2018), _date(rng, 2019, 2024)
        fiche = Fiche(0, numero, template, active, decision, end, _digital_certifier(rng, template),
                      romes=tuple(register.facet("Rome", numero)),
                      formacodes=tuple(register.facet("Formacode", numero)),
                      nsf=tuple(register.facet("Nsf", numero)))
        if numero.startswith("RNCP"):
            labels = list(template.blocks) or [f"Bloc {i + 1} du titre" for i in range(rng.randint(2, 4))]
            fiche.blocks = [(f"{numero}BC{i + 1:02d}", label) for i, label in enumerate(labels)]
        fiches.append(fiche)

    for template in (*RNCP_TEMPLATES, *RS_TEMPLATES):
        for version in range(template.versions):
            current = version == template.versions - 1
            add(template, number(template, current), current)
    # a realistic mass of other (mostly inactive) historical fiches: the national register has
    # tens of thousands; a few hundred are enough to make joins and filters meaningful
    pool = [t for t in RNCP_TEMPLATES if t.level != "NIV8"]
    for _ in range(430):
        # a title whose fitting certifications are all used (Aide-soignant has four) is not drawn again
        template = rng.choice([t for t in pool if any(n not in used for _, n in candidates[t.title])])
        # state titles (TP, BTS...) have one active registration; school titles (TH) are often
        # registered by several certifiers at once
        active = template.abbrev == TH and rng.random() < 0.6
        # the same title registered again by other certifiers or in earlier versions
        variant = Template(template.title, template.level, template.abbrev, template.nsf, template.formacodes,
                           template.romes, template.digital, (), 1)
        add(variant, number(template, active), active)
    fiches.sort(key=lambda f: (0 if f.is_rncp else 1, int(f.code)))
    for index, fiche in enumerate(fiches):
        fiche.id_fiche = 9000 + index * 3 + rng.randint(0, 2)
    return fiches


# --------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------


def _level_label(level: str) -> str:
    return {"REPRISE": "Sans niveau de qualification", "": ""}.get(level, f"Niveau {level[-1:]}")


def standard_rows(fiches: Sequence[Fiche]) -> list[list[str]]:
    rows = []
    for f in fiches:
        t = f.template
        registration = ("Enregistrement de droit" if t.abbrev in (TP, BTS, CAP, BP, LIC, MAS) else
                        "Enregistrement sur demande")
        rows.append([
            str(f.id_fiche), f.numero, t.title, t.abbrev[0], t.abbrev[1], t.level, _level_label(t.level),
            "Non", "Non", f.decision if f.is_rncp else "", f.decision, f.end, f.decision,
            registration if f.is_rncp else "Enregistrement sur demande",
            "Oui" if f.blocks and f.active else "", "ACTIVE" if f.active else "INACTIVE",
        ])
    return rows


def real_member(register: RealRegister, facet: str, numbers: set[str]) -> bytes:
    """A real facet file restricted to ``numbers``: its header and their lines, byte for byte, in file order."""
    lines = [register.headers[facet]]
    lines += [line for numero, rows in register.lines[facet].items() if numero in numbers for line in rows]
    return b"".join(lines)


def build_zip(fiches: Sequence[Fiche], register: RealRegister, day: str) -> bytes:
    stamp = day.replace("-", "_")
    numbers = {f.numero for f in fiches}
    synthetic = {
        "Standard": (STANDARD_HEADER, standard_rows(fiches)),
        "Blocs_De_Compétences": (["Numero_Fiche", "Bloc_Competences_Code", "Bloc_Competences_Libelle"],
                                 [[f.numero, code, label] for f in fiches for code, label in f.blocks]),
        "Certificateurs": (["Numero_Fiche", "Siret_Certificateur", "Nom_Certificateur"],
                           [[f.numero, f.certifier[1], f.certifier[0]] for f in fiches]),
    }
    # the synthetic members: minimal quoting (a multi-line Intitule gets quoted, doubled apostrophes
    # stay bare); the real ones as France Compétences writes them (every field quoted, CRLF)
    data = {facet: csv_bytes(header, rows, delimiter=";") for facet, (header, rows) in synthetic.items()}
    data |= {facet: real_member(register, facet, numbers) for facet in REAL_FACETS}
    order = ("Standard", "Rome", "Nsf", "Formacode", "Blocs_De_Compétences", "Certificateurs")
    return deterministic_zip([(f"export_fiches_CSV_{facet}_{stamp}.csv", data[facet]) for facet in order],
                             date_time=ZIP_DATE_TIME)


def export_url(day: str, fmt: str) -> str:
    return (f"https://static.data.gouv.fr/resources/{SLUG}/{day.replace('-', '')}-020002/"
            f"export-fiches-{fmt}-{day}.zip")


def export_path(day: str) -> str:
    return export_url(day, "csv").removeprefix("https://")


def dataset_document(latest_zip: bytes) -> dict[str, Any]:
    resources = []
    for day in reversed(EXPORT_DAYS):
        for fmt, label in (("csv", "CSV"), ("xml", "XML")):
            stamp = day.replace("-", "")
            resources.append({
                "id": f"{stamp[2:]}-{fmt}0-4f1c-9a77-rncp{stamp[4:]}{'c' if fmt == 'csv' else 'x'}",
                "title": f"Export {label} {day}",
                "description": f"Export quotidien des fiches RNCP et RS au format {label}.",
                "type": "main",
                "filetype": "file",
                "format": "zip",
                "url": export_url(day, fmt),
                "latest": f"https://www.data.gouv.fr/api/1/datasets/r/{stamp[2:]}-{fmt}0-4f1c-9a77-rncp"
                          f"{stamp[4:]}{'c' if fmt == 'csv' else 'x'}",
                "filesize": len(latest_zip) if (day == LATEST_DAY and fmt == "csv") else None,
                "mime": "application/zip",
                "created_at": f"{day}T02:00:02.000000+00:00",
                "last_modified": f"{day}T02:00:02.000000+00:00",
            })
    return {
        "id": DATASET_ID,
        "title": "Répertoire National des Certifications Professionnelles et Répertoire Spécifique",
        "slug": SLUG,
        "acronym": "RNCP",
        "description": "Export quotidien des fiches du RNCP et du Répertoire spécifique (RS) publiées par "
                       "France compétences, aux formats CSV et XML.",
        "license": "fr-lo",
        "frequency": "daily",
        "created_at": "2020-06-18T13:08:22.000000+00:00",
        "last_modified": f"{LATEST_DAY}T02:00:02.000000+00:00",
        "last_update": f"{LATEST_DAY}T02:00:02.000000+00:00",
        "page": f"https://www.data.gouv.fr/fr/datasets/{SLUG}/",
        "uri": f"https://www.data.gouv.fr/api/1/datasets/{SLUG}/",
        "organization": {"name": "France compétences", "slug": "france-competences",
                         "page": "https://www.data.gouv.fr/fr/organizations/france-competences/"},
        "owner": None, "private": False, "archived": None, "deleted": None,
        "tags": ["certification", "competences", "formation-professionnelle", "rncp"],
        "resources": resources,
    }


def build(ctx: Context) -> list[SnapshotFile]:
    register = load_register(ctx.real_dir)
    fiches = build_fiches(ctx.real_dir)
    archive = build_zip(fiches, register, LATEST_DAY)
    stamp = LATEST_DAY.replace("-", "_")
    members = {f"export_fiches_CSV_{facet}_{stamp}.csv": kind
               for facets, kind in ((REAL_FACETS, "real"), (SYNTHETIC_FACETS, "synthetic")) for facet in facets}
    return [
        SnapshotFile(DATASET_PATH, DATASET_URL, KEY, "derived-from-real",
                     "data.gouv.fr dataset document of the RNCP/RS export (real slug, API shape and resource naming; "
                     "three daily CSV and XML exports listed, only the latest CSV zip bundled)", LICENCE,
                     json_bytes(dataset_document(archive))),
        SnapshotFile(export_path(LATEST_DAY), export_url(LATEST_DAY, "csv"), KEY, "derived-from-real",
                     f"RNCP/RS CSV export zip of {len(fiches)} fiches with real certification numbers, in the real "
                     f"layout and quirks. REAL members: Rome, Nsf, Formacode are France Compétences' rows of the "
                     f"export of {REAL_EXPORT_DAY} for these numbers, byte for byte, under this export's member names. "
                     f"SYNTHETIC members: Standard, Blocs_De_Compétences, Certificateurs (seeded RNG, seed {SEED}): "
                     f"titles and levels of real certifications fitting each number's real ROME, NSF and formacodes, "
                     f"dates, status, blocks and certifiers invented; a number's title need not be its real one",
                     f"real members: France Compétences, {LICENCE}; synthetic members: no third-party data",
                     archive, members=members),
    ]
