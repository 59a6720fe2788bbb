"""rncp: the France Compétences RNCP / RS export (data.gouv.fr) and its dataset document.

Two files, at their real URL paths under ``data/snapshot``:

- the data.gouv.fr dataset document (``/api/1/datasets/<slug>/``): real shape (id, slug, resources
  with ``format``, ``title`` "Export CSV YYYY-MM-DD", ``url`` on static.data.gouv.fr), the
  resources of three daily exports (CSV and XML) of which only the latest CSV zip is bundled;
- the latest CSV export zip: one ``;``-separated UTF-8 CSV per facet (Standard, Rome, Nsf,
  Formacode, Blocs_De_Compétences, Certificateurs), with the real quirks: quoted multi-line
  ``Intitule``, doubled apostrophes (``d''analyse``), ``RNCP``/``RS`` prefixed numbers,
  ``NIV3``..``NIV8``/``REPRISE`` levels, ``dd/mm/yyyy`` dates, ``ACTIVE``/``INACTIVE``, ROME V3 codes.

The fiches are SYNTHETIC (seeded RNG): titles are modelled on real certifications (digital ones such
as "Développeur web et web mobile"), but numbers, dates and certifiers are invented; a real-number
match is a coincidence. The mcf generator imports :func:`build_fiches` so that the Mon Compte
Formation snapshot references codes that exist here (hence ``REQUIRES`` there).

Byte-reproducible: fixed seed, fixed zip timestamps, sorted output.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from snapshot.common import Context, SnapshotFile, csv_bytes, deterministic_zip, json_bytes

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
# Nomenclatures (real codes and labels)
# --------------------------------------------------------------------------------------------------

NSF = {
    "326": "Informatique, traitement de l'information, réseaux de transmission des données",
    "326n": "Analyse informatique, conception d'architecture de réseaux",
    "326t": "Programmation, mise en place de logiciels",
    "326r": "Assistance informatique, maintenance de logiciels et réseaux",
    "320": "Spécialités plurivalentes de la communication",
    "312": "Commerce, vente",
    "314": "Comptabilité, gestion",
    "315": "Ressources humaines, gestion du personnel, gestion de l'emploi",
    "324": "Secrétariat, bureautique",
    "331": "Santé",
    "332": "Travail social",
    "330": "Spécialités plurivalentes des services aux personnes",
    "334": "Accueil, hôtellerie, tourisme",
    "221": "Agro-alimentaire, alimentation, cuisine",
    "227": "Energie, génie climatique",
    "232": "Bâtiment : construction et couverture",
    "233": "Bâtiment : finitions",
    "252": "Moteurs et mécanique auto",
    "255": "Electricité, électronique",
    "311": "Transport, manutention, magasinage",
    "344": "Sécurité des biens et des personnes, police, surveillance",
    "136": "Langues vivantes, civilisations étrangères et régionales",
    "413": "Développement des capacités comportementales et relationnelles",
    "415": "Développement des capacités d'orientation, d'insertion ou de réinsertion sociales et "
           "professionnelles",
    "310": "Spécialités plurivalentes des échanges et de la gestion",
    "333": "Enseignement, formation",
}

ROME = {
    "M1801": "Administration de systèmes d''information",
    "M1802": "Expertise et support en systèmes d''information",
    "M1803": "Direction des systèmes d''information",
    "M1805": "Études et développement informatique",
    "M1806": "Conseil et maîtrise d''ouvrage en systèmes d''information",
    "M1810": "Production et exploitation de systèmes d''information",
    "E1104": "Conception de contenus multimédias",
    "E1205": "Réalisation de contenus multimédias",
    "I1401": "Maintenance informatique et bureautique",
    "E1103": "Communication",
    "M1705": "Marketing",
    "D1106": "Vente en alimentation",
    "D1214": "Vente en habillement et accessoires de la personne",
    "D1402": "Relation commerciale grands comptes et entreprises",
    "M1203": "Comptabilité",
    "M1607": "Secrétariat",
    "M1602": "Opérations administratives",
    "M1503": "Management des ressources humaines",
    "J1501": "Soins d''hygiène, de confort du patient",
    "K1302": "Assistance auprès d''adultes",
    "K1303": "Assistance auprès d''enfants",
    "G1602": "Personnel de cuisine",
    "G1703": "Réception en hôtellerie",
    "G1803": "Service en restauration",
    "F1703": "Maçonnerie",
    "F1602": "Électricité bâtiment",
    "I1306": "Installation et maintenance en froid, conditionnement d''air",
    "I1604": "Mécanique automobile et entretien de véhicules",
    "N1103": "Magasinage et préparation de commandes",
    "N4101": "Conduite de transport de marchandises sur longue distance",
    "K2503": "Sécurité et surveillance privées",
    "K2111": "Formation professionnelle",
    "M1302": "Direction de petite ou moyenne entreprise",
    "K1801": "Conseil en emploi et insertion socioprofessionnelle",
}

FORMACODE = {
    "31054": "informatique",
    "31094": "développement informatique",
    "31088": "développement web",
    "31028": "intelligence artificielle",
    "31026": "science des données",
    "31006": "sécurité informatique",
    "31034": "administration réseau",
    "31052": "maintenance informatique",
    "46052": "infographie",
    "46224": "webdesign",
    "70254": "bureautique",
    "15081": "compétences numériques",
    "34566": "commerce",
    "34054": "vente",
    "32663": "comptabilité",
    "32654": "gestion entreprise",
    "33054": "ressources humaines",
    "35054": "secrétariat",
    "43409": "aide-soignant",
    "44028": "aide à domicile",
    "44092": "petite enfance",
    "42752": "cuisine",
    "42745": "hôtellerie",
    "22454": "maçonnerie",
    "24049": "électricité bâtiment",
    "23684": "froid climatisation",
    "31815": "mécanique automobile",
    "31795": "logistique",
    "31812": "transport marchandise",
    "42829": "sécurité prévention",
    "15254": "anglais",
    "15234": "créole",
    "32032": "création entreprise",
    "44591": "formation formateur",
}

# --------------------------------------------------------------------------------------------------
# Certification templates: title, level, abbreviation, NSF, formacodes, ROME (digital ones first)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    title: str
    level: str  # NIV3..NIV8, REPRISE, or "" for RS fiches
    abbrev: tuple[str, str]  # (Abrege_Libelle, Abrege_Intitule)
    nsf: tuple[str, ...]
    formacodes: tuple[str, ...]
    romes: tuple[str, ...]
    digital: bool
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
    Template("Développeur web et web mobile", "NIV5", TP, ("326t",), ("31088", "31094"), ("M1805",), True,
             ("Développer la partie front-end d''une application web ou web mobile sécurisée",
              "Développer la partie back-end d''une application web ou web mobile sécurisée"), 3),
    Template("Concepteur développeur d''applications", "NIV6", TP, ("326t",), ("31094", "31054"), ("M1805",),
             True, ("Développer une application sécurisée", "Concevoir et développer une application sécurisée "
                    "organisée en couches", "Préparer le déploiement d''une application sécurisée"), 3),
    Template("Technicien supérieur systèmes et réseaux", "NIV5", TP, ("326r",), ("31034", "31052"),
             ("I1401", "M1810"), True, ("Assister les utilisateurs en centre de services",
                                        "Maintenir, exploiter et sécuriser une infrastructure centralisée",
                                        "Maintenir et exploiter une infrastructure distribuée"), 3),
    Template("Administrateur d''infrastructures sécurisées", "NIV6", TP, ("326n",), ("31034", "31006"),
             ("M1801", "M1810"), True, ("Administrer et sécuriser les infrastructures",
                                        "Concevoir et mettre en œuvre une solution en réponse à un besoin "
                                        "d''évolution", "Participer à la gestion de la cybersécurité"), 2),
    Template("Technicien d''assistance en informatique", "NIV4", TP, ("326r",), ("31052",), ("I1401",), True,
             ("Intervenir sur les éléments matériels et logiciels d''un poste de travail",
              "Intervenir sur un réseau local"), 2),
    Template("Concepteur designer UI", "NIV6", TP, ("320",), ("46224", "31088"), ("E1104", "E1205"), True,
             ("Concevoir les interfaces", "Réaliser des supports de communication"), 2),
    Template("Développeur en intelligence artificielle", "NIV6", TH, ("326t",), ("31028", "31026"),
             ("M1805", "M1802"), True, ("Collecter et préparer les données",
                                        "Développer et intégrer un modèle d''intelligence artificielle"), 2),
    Template("Data analyst", "NIV6", TH, ("326n",), ("31026",), ("M1805", "M1806"), True,
             ("Collecter, nettoyer et stocker les données", "Réaliser l''analyse\nexploratoire des données",
              "Restituer les résultats d''analyse"), 2),
    Template("Expert en cybersécurité", "NIV7", TH, ("326n",), ("31006",), ("M1802", "M1801"), True,
             ("Piloter la sécurité des systèmes d''information", "Auditer la sécurité d''un système "
              "d''information", "Gérer les incidents de sécurité"), 2),
    Template("Manager de projets informatiques", "NIV7", TH, ("326n",), ("31054", "32654"), ("M1803", "M1806"),
             True, ("Piloter un projet informatique", "Manager une équipe projet"), 3),
    Template("Expert en ingénierie des données et intelligence artificielle", "NIV7", TH, ("326n",),
             ("31026", "31028"), ("M1805", "M1802"), True,
             ("Concevoir une architecture de données", "Industrialiser un modèle d''apprentissage"), 2),
    Template("Architecte des systèmes d''information", "NIV7", TH, ("326n",), ("31054",), ("M1802", "M1803"),
             True, ("Concevoir l''architecture d''un système d''information",), 2),
    Template("Informatique : administration et sécurité des systèmes et des réseaux", "NIV6", LIC, ("326n",),
             ("31034", "31006"), ("M1801",), True, ("Administrer un réseau", "Sécuriser un système"), 2),
    Template("Informatique", "NIV7", MAS, ("326",), ("31054",), ("M1805", "M1802"), True, (), 2),
    Template("Ingénieur diplômé de l''école d''ingénieurs en informatique et systèmes d''information",
             "NIV7", TI, ("326",), ("31054",), ("M1805", "M1803"), True, (), 2),
    Template("Services informatiques aux organisations option solutions logicielles et applications métiers",
             "NIV5", BTS, ("326t",), ("31094",), ("M1805",), True,
             ("Support et mise à disposition de services informatiques", "Conception et développement "
              "d''applications"), 2),
    Template("Services informatiques aux organisations option solutions d''infrastructure, systèmes et "
             "réseaux", "NIV5", BTS, ("326r",), ("31034",), ("M1801", "I1401"), True, (), 2),
    Template("Cybersécurité, informatique et réseaux, électronique", "NIV5", BTS, ("326r", "255"),
             ("31006", "31034"), ("M1801",), True, (), 2),
    Template("Designer web", "NIV5", TH, ("320",), ("46224", "46052"), ("E1205",), True,
             ("Concevoir un site web", "Réaliser la charte graphique"), 2),
    Template("Chef de projet digital", "NIV7", TH, ("320", "326"), ("31088", "34566"), ("E1103", "M1705"),
             True, ("Élaborer une stratégie digitale", "Piloter un projet digital"), 2),
    Template("Conseiller en insertion professionnelle", "NIV5", TP, ("332",), ("44591",), ("K1801",), False,
             ("Accueillir pour analyser la demande", "Accompagner les personnes"), 2),
    Template("Vendeur conseil en magasin", "NIV4", TP, ("312",), ("34054",), ("D1214", "D1106"), False,
             ("Développer sa connaissance des produits", "Vendre en magasin"), 3),
    Template("Négociateur technico-commercial", "NIV5", TP, ("312",), ("34566",), ("D1402",), False, (), 2),
    Template("Comptable assistant", "NIV4", TP, ("314",), ("32663",), ("M1203",), False,
             ("Assurer les travaux courants de comptabilité", "Préparer la paie"), 3),
    Template("Gestionnaire comptable et fiscal", "NIV5", TP, ("314",), ("32663",), ("M1203",), False, (), 2),
    Template("Secrétaire assistant", "NIV4", TP, ("324",), ("35054", "70254"), ("M1607",), False,
             ("Assister une équipe dans la communication des informations", "Traiter les opérations "
              "administratives"), 3),
    Template("Assistant ressources humaines", "NIV5", TP, ("315",), ("33054",), ("M1503",), False, (), 2),
    Template("Assistant de vie aux familles", "NIV3", TP, ("330",), ("44028",), ("K1302", "K1303"), False,
             ("Entretenir le logement et le linge", "Accompagner la personne"), 3),
    Template("Accompagnant éducatif petite enfance", "NIV3", CAP, ("330",), ("44092",), ("K1303",), False, (), 2),
    Template("Aide-soignant", "NIV4", ("DE", "Diplôme d''Etat"), ("331",), ("43409",), ("J1501",), False, (), 2),
    Template("Cuisinier", "NIV3", TP, ("221",), ("42752",), ("G1602",), False,
             ("Préparer, cuire et dresser des hors-d''œuvre", "Préparer, cuire et dresser des plats"), 3),
    Template("Serveur en restauration", "NIV3", TP, ("334",), ("42745",), ("G1803",), False, (), 2),
    Template("Réceptionniste en hôtellerie", "NIV4", TP, ("334",), ("42745",), ("G1703",), False, (), 2),
    Template("Maçon", "NIV3", TP, ("232",), ("22454",), ("F1703",), False, (), 3),
    Template("Électricien d''équipement du bâtiment", "NIV3", TP, ("255",), ("24049",), ("F1602",), False, (), 3),
    Template("Technicien en froid et conditionnement d''air", "NIV4", TP, ("227",), ("23684",), ("I1306",),
             False, (), 2),
    Template("Mécanicien automobile", "NIV3", TP, ("252",), ("31815",), ("I1604",), False, (), 2),
    Template("Préparateur de commandes en entrepôt", "NIV3", TP, ("311",), ("31795",), ("N1103",), False, (), 2),
    Template("Conducteur du transport routier de marchandises sur porteur", "NIV3", TP, ("311",), ("31812",),
             ("N4101",), False, (), 2),
    Template("Agent de sûreté et de sécurité privée", "NIV3", TP, ("344",), ("42829",), ("K2503",), False, (), 2),
    Template("Formateur professionnel d''adultes", "NIV5", TP, ("333",), ("44591",), ("K2111",), False, (), 3),
    Template("Responsable de petite et moyenne structure", "NIV5", TP, ("310",), ("32654", "32032"),
             ("M1302",), False, (), 2),
    Template("Management et gestion des unités commerciales", "NIV5", BTS, ("312",), ("34566",),
             ("D1402", "M1705"), False, (), 2),
    Template("Manager d''unité marchande", "NIV5", TP, ("312",), ("34566",), ("D1106",), False, (), 2),
    Template("Chargé de communication", "NIV6", TH, ("320",), ("46052",), ("E1103",), False, (), 2),
    Template("Boulanger", "NIV3", CAP, ("221",), ("42752",), ("G1602",), False, (), 2),
    Template("Coiffure", "NIV4", BP, ("330",), ("44028",), ("K1302",), False, (), 2),
    Template("Gestion des entreprises et des administrations", "NIV6", ("BUT", "Bachelor universitaire de "
             "technologie"), ("310",), ("32654",), ("M1203", "M1602"), False, (), 2),
    Template("Ingénieur diplômé de l''école d''ingénieurs en génie civil", "NIV7", TI, ("232",), ("22454",),
             ("F1703",), False, (), 1),
    Template("Doctorat", "NIV8", ("DOC", "Doctorat"), ("326",), ("31054",), ("M1805",), True, (), 1),
    Template("Certificat de qualification professionnelle de technicien de maintenance", "REPRISE", NONE,
             ("252",), ("31815",), ("I1604",), False, (), 1),
]

RS_TEMPLATES: list[Template] = [
    Template("Certificat Pix", "", NONE, ("326",), ("15081", "70254"), (), True, (), 1),
    Template("Certification CléA numérique", "", NONE, ("326",), ("15081",), (), True, (), 1),
    Template("TOSA Excel", "", NONE, ("324",), ("70254",), (), True, (), 2),
    Template("ICDL - PCIE Passeport de compétences informatique européen", "", NONE, ("326",), ("70254",), (),
             True, (), 2),
    Template("Développer des applications en Python", "", NONE, ("326t",), ("31094",), ("M1805",), True, (), 1),
    Template("Administrer un cloud public", "", NONE, ("326n",), ("31034",), ("M1801",), True, (), 1),
    Template("Sécuriser un système d''information : analyse\net gestion des risques", "", NONE, ("326n",),
             ("31006",), ("M1802",), True, (), 1),
    Template("Réaliser une analyse de données avec un outil de business intelligence", "", NONE, ("326n",),
             ("31026",), ("M1805",), True, (), 1),
    Template("Concevoir et déployer un site internet avec un CMS", "", NONE, ("326t",), ("31088",),
             ("E1205",), True, (), 1),
    Template("Utiliser l''intelligence artificielle générative en entreprise", "", NONE, ("326",), ("31028",),
             (), True, (), 1),
    Template("Certification Voltaire", "", NONE, ("136",), ("15254",), (), False, (), 1),
    Template("Linguaskill Business - anglais", "", NONE, ("136",), ("15254",), (), False, (), 2),
    Template("Habilitation électrique B1V BR BC H0", "", NONE, ("255",), ("24049",), (), False, (), 2),
    Template("Certificat de sauveteur secouriste du travail", "", NONE, ("344",), ("42829",), (), False, (), 1),
    Template("Accompagnement à la création d''entreprise", "", NONE, ("310",), ("32032",), (), False, (), 2),
    Template("Permis de conduire des engins de chantier", "", NONE, ("311",), ("31795",), (), False, (), 1),
    Template("Certification Hygiène alimentaire HACCP", "", NONE, ("221",), ("42752",), (), False, (), 1),
    Template("Manager une équipe de proximité", "", NONE, ("315",), ("33054",), (), False, (), 1),
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
    numero: str  # RNCP37674 / RS5843
    template: Template
    active: bool
    decision: str  # dd/mm/yyyy
    end: str
    certifier: tuple[str, str]
    blocks: list[tuple[str, str]] = field(default_factory=list)

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


def build_fiches(seed: int = SEED) -> list[Fiche]:
    """The synthetic fiches, in ``Id_Fiche`` order (deterministic for a seed)."""
    rng = random.Random(seed)
    fiches: list[Fiche] = []
    used: set[str] = set()

    def number(prefix: str, low: int, high: int) -> str:
        while True:
            candidate = f"{prefix}{rng.randint(low, high)}"
            if candidate not in used:
                used.add(candidate)
                return candidate

    def add(template: Template, numero: str, active: bool) -> None:
        if active:
            decision, end = _date(rng, 2022, 2026), _date(rng, 2027, 2031)
        else:
            decision, end = _date(rng, 2004, 2018), _date(rng, 2019, 2024)
        fiche = Fiche(0, numero, template, active, decision, end, _digital_certifier(rng, template))
        if numero.startswith("RNCP"):
            labels = list(template.blocks) or [f"Bloc {i + 1} du titre" for i in range(rng.randint(2, 4))]
            fiche.blocks = [(f"{numero}BC{i + 1:02d}", label) for i, label in enumerate(labels)]
        fiches.append(fiche)

    for template in RNCP_TEMPLATES:
        for version in range(template.versions):
            current = version == template.versions - 1
            # recent registrations carry high numbers (RNCP34xxx-RNCP39xxx), older ones low ones
            numero = number("RNCP", 34000, 39999) if current else number("RNCP", 180, 33999)
            add(template, numero, current)
    for template in RS_TEMPLATES:
        for version in range(template.versions):
            current = version == template.versions - 1
            add(template, number("RS", 5000, 7199) if current else number("RS", 1000, 4999), current)
    # a realistic mass of other (mostly inactive) historical fiches: the national register has
    # tens of thousands; a few hundred are enough to make joins and filters meaningful
    pool = [t for t in RNCP_TEMPLATES if t.level != "NIV8"]
    for _ in range(430):
        template = rng.choice(pool)
        # state titles (TP, BTS...) have one active registration; school titles (TH) are often
        # registered by several certifiers at once
        active = template.abbrev == TH and rng.random() < 0.6
        # the same title registered again by other certifiers or in earlier versions
        variant = Template(template.title, template.level, template.abbrev, template.nsf, template.formacodes,
                           template.romes, template.digital, (), 1)
        add(variant, number("RNCP", 34000, 39999) if active else number("RNCP", 180, 33999), active)
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


def build_zip(fiches: Sequence[Fiche], day: str) -> bytes:
    stamp = day.replace("-", "_")
    members = {
        "Standard": (STANDARD_HEADER, standard_rows(fiches)),
        "Rome": (["Numero_Fiche", "Codes_Rome_Code", "Codes_Rome_Libelle"],
                 [[f.numero, code, ROME[code]] for f in fiches for code in f.template.romes if code in ROME]),
        "Nsf": (["Numero_Fiche", "Nsf_Code", "Nsf_Intitule"],
                [[f.numero, code, NSF[code]] for f in fiches for code in f.template.nsf]),
        "Formacode": (["Numero_Fiche", "Formacode_Code", "Formacode_Libelle"],
                      [[f.numero, code, FORMACODE[code]] for f in fiches for code in f.template.formacodes]),
        "Blocs_De_Compétences": (["Numero_Fiche", "Bloc_Competences_Code", "Bloc_Competences_Libelle"],
                                 [[f.numero, code, label] for f in fiches for code, label in f.blocks]),
        "Certificateurs": (["Numero_Fiche", "Siret_Certificateur", "Nom_Certificateur"],
                           [[f.numero, f.certifier[1], f.certifier[0]] for f in fiches]),
    }
    # minimal quoting: a multi-line Intitule gets quoted, the rest is bare (doubled apostrophes too)
    return deterministic_zip([(f"export_fiches_CSV_{facet}_{stamp}.csv", csv_bytes(header, rows, delimiter=";"))
                              for facet, (header, rows) in members.items()], date_time=ZIP_DATE_TIME)


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
    fiches = build_fiches()
    archive = build_zip(fiches, LATEST_DAY)
    return [
        SnapshotFile(DATASET_PATH, DATASET_URL, KEY, "derived-from-real",
                     "data.gouv.fr dataset document of the RNCP/RS export (real slug, API shape and resource naming; "
                     "three daily CSV and XML exports listed, only the latest CSV zip bundled)", LICENCE,
                     json_bytes(dataset_document(archive))),
        SnapshotFile(export_path(LATEST_DAY), export_url(LATEST_DAY, "csv"), KEY, "synthetic",
                     f"RNCP/RS CSV export zip ({len(fiches)} fiches: Standard, Rome, Nsf, Formacode, "
                     f"Blocs_De_Compétences, Certificateurs) in the real layout and quirks; fiches are SYNTHETIC "
                     f"(seeded RNG, seed {SEED}), titles modelled on real certifications, numbers and dates invented",
                     "synthetic values (no third-party data); schema of the France compétences export (Licence "
                     "Ouverte)", archive),
    ]
