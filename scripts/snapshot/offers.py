"""offers: the France Travail Offres d'emploi v2 snapshot, digital job offers in 971 and 972.

Synthetic offers in the real ``resultats[]`` shape of ``GET /partenaire/offresdemploi/v2/offres/search``,
one offer per line in
``api.francetravail.io/partenaire/offresdemploi/v2/offres/search.jsonl``, served by the emulator
``oref.replay_apis.france_travail_offres`` (OAuth2 token, ``range`` paging with 206 +
``Content-Range``). ``_region`` is a helper field for the emulator's ``region`` filter, absent
from the real API. Also writes an example token response under ``entreprise.francetravail.fr`` (the
emulator answers the POST itself; the file documents the shape and gives the host a folder).

Offers are placed in the communes of the COG file the geo generator wrote (hence ``REQUIRES``);
their ROME codes are the ones the offers source queries (seed rome_digital_occupations).
Byte-reproducible: fixed seed, sorted output.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

from oref.reference import offers_query_rome_codes
from snapshot.common import Context, SnapshotFile, cog_communes

KEY = "offers"
SEED = 1805
REQUIRES = ("geo",)  # places its offers in the communes of the COG file
OFFERS_PATH = "api.francetravail.io/partenaire/offresdemploi/v2/offres/search.jsonl"
OFFERS_URL = "https://api.francetravail.io/partenaire/offresdemploi/v2/offres/search"
TOKEN_PATH = "entreprise.francetravail.fr/connexion/oauth2/access_token.json"
TOKEN_URL = "https://entreprise.francetravail.fr/connexion/oauth2/access_token?realm=/partenaire"
LICENCE = "Licence Ouverte / Etalab 2.0"

# ROME code -> (label, [appellations], weight): the codes the offers source queries, in the order
# the draws were first made (the dict order drives the RNG, so it is kept as written)
ROME = {
    "M1805": ("Études et développement informatique", ["Développeur / Développeuse web",
                                                       "Développeur / Développeuse informatique"], 30),
    "M1810": ("Production et exploitation de systèmes d'information", ["Technicien / Technicienne d'exploitation"], 8),
    "M1801": ("Administration de systèmes d'information", ["Administrateur / Administratrice réseau"], 10),
    "M1802": ("Expertise et support en systèmes d'information", ["Technicien / Technicienne support"], 12),
    "M1806": ("Conseil et maîtrise d'ouvrage en systèmes d'information", ["Chef de projet MOA"], 5),
    "M1803": ("Direction des systèmes d'information", ["Directeur / Directrice des SI"], 1),
    "M1804": ("Études et développement de réseaux de télécoms", ["Ingénieur / Ingénieure télécoms"], 3),
    "I1401": ("Maintenance informatique et bureautique", ["Technicien / Technicienne de maintenance informatique"],
              14),
    "I1307": ("Installation et maintenance télécoms et courants faibles", ["Technicien / Technicienne fibre optique"],
              12),
    "E1101": ("Animation de site multimédia", ["Community manager"], 4),
    "E1104": ("Conception de contenus multimédias", ["Webdesigner"], 3),
    "E1205": ("Réalisation de contenus multimédias", ["Infographiste"], 3),
    "M1403": ("Études et prospectives socio-économiques", ["Data analyst"], 2),
}
CONTRACTS = [("CDI", "Contrat à durée indéterminée", 45), ("CDD", "Contrat à durée déterminée", 35),
             ("MIS", "Mission intérimaire", 10), ("SAI", "Contrat travail saisonnier", 2),
             ("LIB", "Profession libérale", 3), ("FRA", "Franchise", 1)]
EXPERIENCE = [("D", "Débutant accepté", 40), ("E", "1 An(s)", 35), ("S", "3 An(s)", 25)]
NAF = [("62.01Z", "Programmation informatique"), ("62.02A", "Conseil en systèmes et logiciels informatiques"),
       ("78.20Z", "Activités des agences de travail temporaire"), ("61.10Z", "Télécommunications filaires"),
       ("84.11Z", "Administration publique générale"), ("95.11Z", "Réparation d'ordinateurs")]
if set(ROME) != set(offers_query_rome_codes()):
    raise SystemExit("the ROME table of the offers generator differs from the seed rome_digital_occupations "
                     "(is_offers_query_code)")
COUNTS = {"971": 190, "972": 165}
REGION = {"971": "01", "972": "02"}


def offer(rng: random.Random, number: int, dep: str, places: list[dict[str, str]]) -> dict[str, Any]:
    big = {"97209": 40, "97213": 20, "97229": 6, "97101": 20, "97103": 25, "97120": 12}
    place = rng.choices(places, [big.get(p["COM"], 1) for p in places])[0]
    rome = rng.choices(list(ROME), [w for *_, w in ROME.values()])[0]
    label, appellations, _ = ROME[rome]
    contract = rng.choices(CONTRACTS, [c[2] for c in CONTRACTS])[0]
    experience = rng.choices(EXPERIENCE, [e[2] for e in EXPERIENCE])[0]
    naf = rng.choice(NAF)
    created = dt.datetime(2026, 5, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=rng.randint(0, 200 * 86_400))
    updated = created + dt.timedelta(days=rng.randint(0, 10))
    appellation = rng.choice(appellations)
    return {
        "id": f"{190 + number // 1000:03d}{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}{number % 1000:03d}",
        "intitule": appellation.split(" / ")[0] + (" (H/F)" if rng.random() < 0.6 else ""),
        "description": f"Poste de {appellation.lower()} basé en {place['LIBELLE']}.",
        "dateCreation": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "dateActualisation": updated.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "lieuTravail": {"libelle": f"{dep} - {place['NCC']}", "latitude": None, "longitude": None,
                        "codePostal": f"{dep}{rng.randint(10, 99)}", "commune": place["COM"]},
        "romeCode": rome,
        "romeLibelle": label,
        "appellationlibelle": appellation,
        "entreprise": {"nom": rng.choice(["CARAIBES NUMERIQUE", "ANTILLES INFORMATIQUE", "ORANGE CARAIBE",
                                          "COLLECTIVITE TERRITORIALE", "ALIZES TECH", None]),
                       "entrepriseAdaptee": False},
        "typeContrat": contract[0],
        "typeContratLibelle": contract[1],
        "natureContrat": "Contrat travail",
        "experienceExige": experience[0],
        "experienceLibelle": experience[1],
        "competences": [],
        "salaire": {"libelle": rng.choice(["Mensuel de 1900.0 Euros à 2400.0 Euros sur 12 mois",
                                           "Annuel de 30000.0 Euros à 38000.0 Euros", None])},
        "dureeTravailLibelle": "35H Travail en journée",
        "alternance": False,
        "nombrePostes": 1,
        "accessibleTH": rng.random() < 0.3,
        "qualificationCode": rng.choice(["6", "7", "8", "9"]),
        "codeNAF": naf[0],
        "secteurActivite": naf[0][:2],
        "secteurActiviteLibelle": naf[1],
        "origineOffre": {"origine": "1", "urlOrigine": f"https://candidat.francetravail.fr/offres/recherche/detail/"
                                                       f"{number}"},
        "offresManqueCandidats": rng.random() < 0.2,
        "_region": REGION[dep],
    }


def build_offers(snapshot: Path) -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    places = cog_communes(snapshot, tuple(COUNTS))
    offers = []
    number = 0
    for dep, count in COUNTS.items():
        for _ in range(count):
            number += 1
            offers.append(offer(rng, number, dep, places[dep]))
    return sorted(offers, key=lambda o: (o["dateCreation"], o["id"]), reverse=True)  # newest first, as the API


def build(ctx: Context) -> list[SnapshotFile]:
    offers = build_offers(ctx.out)
    data = "".join(json.dumps(o, ensure_ascii=False, sort_keys=True) + "\n" for o in offers).encode("utf-8")
    token = (json.dumps({"access_token": "<issued by the replay emulator>", "token_type": "Bearer",
                         "expires_in": 1499, "scope": "api_offresdemploiv2 o2dsoffre"}, indent=2) + "\n").encode()
    return [
        SnapshotFile(OFFERS_PATH, OFFERS_URL, KEY, "synthetic",
                     f"{len(offers)} digital job offers (ROME M18xx, I1401, I1307, E11xx/E12xx, M1403) in 971 and "
                     "972, one resultats[] item of the real search response per line (+ _region for the emulator); "
                     "values invented", LICENCE, data),
        SnapshotFile(TOKEN_PATH, TOKEN_URL, KEY, "synthetic",
                     "Shape of the OAuth2 client-credentials token response; the replay emulator answers the POST "
                     "itself", LICENCE, token),
    ]
