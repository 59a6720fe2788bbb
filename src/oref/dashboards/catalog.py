"""The observatory's dashboards: one per préconisation, the scorecard, the comparison, quality.

Reading rules every dashboard follows:

- Every chart is correct on its own (opened alone, or through the chart-data API): it filters
  its own territory (the configured one, unless it compares territories) and its own period.
- The native filters only narrow charts that list territories, periods or domains: "Zone"
  narrows zones, intercommunalités and communes at once; "Période" sets the time range of the
  time series; "Domaine" narrows charts by skill domain. Headline figures stay on the configured
  territory, which the header names.
- Numbers are formatted by the chart (French d3 locale: 1 234, 67,9 %), or written in French by
  the serving table when a column mixes units (the scorecard).
"""

from __future__ import annotations

from collections import Counter

from oref.dashboards import datasets as ds
from oref.dashboards import viz
from oref.dashboards.model import Chart, Dashboard, Header, Markdown, NativeFilter, Row
from oref.dashboards.viz import COUNT, DECIMAL, POINTS, SHARE, eq, is_false, is_in, is_true
from oref.reference import read_seed
from oref.sources import SOURCE_NAMES

CONFIGURED = is_true("is_configured_territory")
IN_TERRITORY = eq("comparison_group", "territoire")
LATEST = is_true("is_latest_period")

def header_chart() -> Chart:
    """The banner on top of every warehouse dashboard: territory, run, and where the data came from.

    A one-cell table of HTML written by dash_context, not a Handlebars chart: Handlebars compiles
    templates with eval, which the Content Security Policy forbids.
    """
    return Chart(
        "header", "Territoire et origine des données", ds.CONTEXT, "table",
        viz.table_raw(["header_html"], [], order_by=[], row_limit=10),
        description="Le territoire configuré, ses territoires de comparaison, l'exécution qui a construit "
        "l'entrepôt et l'origine des données (officielles, ou instantané de démonstration en partie synthétique).",
        width=12, height=26,
    )


HEADER = header_chart()


def indicator(code: str) -> str:
    """The metric of an indicator in dash_indicators (its code), checked against the catalogue."""
    return ds.INDICATORS.metric(code).name


COMPARE = {"year": "sur un an", "quarter": "sur un trimestre", "month": "sur un mois"}


def kpi(key: str, title: str, code: str, *, grain: str, fmt: str, subtitle: str, description: str,
        width: int = 3) -> Chart:
    """A headline figure of the configured territory: its latest value, period and trend.

    Counts show their relative change since the previous period; shares and ratios do not (a
    percentage's relative change misleads), their trend line and the scorecard say it.
    """
    compare = COMPARE[grain] if fmt == COUNT else None
    return Chart(
        key, title, ds.INDICATORS, "big_number",
        viz.big_number_trend(indicator(code), [eq("indicator_code", code), CONFIGURED], grain=grain,
                             number_format=fmt, subtitle=subtitle, compare_suffix=compare),
        description=description, width=width, height=44,
    )


def zone_filter(key: str, charts: list[Chart]) -> NativeFilter:
    return NativeFilter(
        key, "Zone", "filter_select", charts, dataset=ds.TERRITORIES, column="zone_label",
        sort_metric="ordre", pre_filters=(eq("territory_level", "zone"), IN_TERRITORY),
        description="Restreint les graphiques par zone, intercommunalité et commune aux zones choisies.",
    )


def period_filter(key: str, charts: list[Chart]) -> NativeFilter:
    return NativeFilter(
        key, "Période", "filter_time", charts,
        description="Limite les séries temporelles à une plage de dates.",
    )


def domain_filter(key: str, charts: list[Chart], dataset: ds.Dataset, *, emerging_only: bool = False
                  ) -> NativeFilter:
    return NativeFilter(
        key, "Domaine de compétences", "filter_select", charts, dataset=dataset, column="skill_domain_label",
        pre_filters=(is_true("is_emerging"),) if emerging_only else (),
        description="Restreint les graphiques aux domaines de compétences numériques choisis.",
    )


# --- Pilotage des préconisations ---------------------------------------------------------------
def pilotage() -> Dashboard:
    status_overview = Chart(
        "scorecard_status", "Statut des indicateurs par préconisation", ds.SCORECARD, "echarts_timeseries_bar",
        viz.bar("preconisation_label", ["indicateurs"], [CONFIGURED], number_format=COUNT, series="status_label",
                horizontal=True, stacked=True, sort_by="preconisation_label", ascending=False),
        description="Nombre d'indicateurs du territoire configuré par statut : favorable ou défavorable selon le "
        "sens attendu, cible atteinte, stable, contexte (indicateur sans sens attendu) ou non évaluable (une "
        "seule période connue).",
        width=12, height=40,
    )
    tables = []
    per_preconisation = Counter(row["preconisation_code"] for row in read_seed("indicator_catalogue"))
    for number in range(1, 6):
        tables.append(Chart(
            f"scorecard_p{number}", f"Préconisation {number} : indicateurs", ds.SCORECARD, "table",
            viz.table_raw(
                ["indicator_html", "latest_value_display", "latest_period_label", "previous_value_display",
                 "previous_period_label", "change_display", "trend_label", "target_display", "status_html"],
                [eq("preconisation_code", number)],
                order_by=[("territory_sort", True), ("indicator_label", True)],
            ),
            description="Cliquez sur le nom d'un indicateur pour lire sa définition, sa formule, sa source et son "
            "millésime. Territoire choisi dans le filtre « Territoire » (le territoire configuré par défaut).",
            # every indicator of the préconisation visible without scrolling: a row wraps on two lines
            width=12, height=max(38, 14 + 6 * per_preconisation[str(number)]),
        ))
    territory = NativeFilter(
        "pilotage_territory", "Territoire", "filter_select", tables, dataset=ds.SCORECARD, column="territory_label",
        multi_select=False, required=True, first_item_default=True, sort_metric="ordre",
        description="Le territoire dont on lit les indicateurs : le territoire configuré par défaut, un "
        "territoire de comparaison ou la France.",
    )
    titles = [
        "1. Favoriser le développement de la filière",
        "2. Structurer l'offre de formation",
        "3. Rôle moteur des collectivités",
        "4. Renforcer le socle de formation",
        "5. Se préparer aux enjeux de demain",
    ]
    rows: list[Row | Header] = [
        Row([HEADER]),
        Row([Markdown("pilotage_intro", PILOTAGE_INTRO, height=32)]),
        Row([status_overview]),
    ]
    for title, table in zip(titles, tables, strict=True):
        rows += [Header(f"pilotage_h{table.key[-1]}", title), Row([table])]
    return Dashboard(
        "pilotage-preconisations", "Pilotage des préconisations",
        "Les indicateurs des cinq préconisations : dernière valeur, tendance, cible et statut.",
        rows, [territory],
    )


PILOTAGE_INTRO = """**Comment lire ce tableau de bord.** Chaque préconisation a son bloc. Pour chaque indicateur :
sa dernière valeur et sa période, la valeur précédente, l'évolution (en points pour une part ou une variation), la
tendance (↑ hausse, ↓ baisse, → stable à moins de 1 % près) et le statut, lu au regard du sens favorable de
l'indicateur et de sa cible. Une variation sur un an (indicateurs « Évolution… », en %) est lue par son signe : une
croissance est favorable même quand elle ralentit ; elle n'est pas calculée, donc absente, quand l'une des deux
années compte des cellules sous secret statistique. **Cliquez sur le nom d'un indicateur** pour déplier sa
définition, sa formule, sa source et son millésime. Le filtre « Territoire » montre les mêmes indicateurs pour un
territoire de comparaison ou pour la France entière (quand la source est nationale). Avec le jeu de démonstration,
la mention « synthétique » à côté d'un indicateur signale un chiffre généré dans la forme de la source : ce n'est
pas un chiffre officiel (colonne data_origin des tables, détail dans docs/indicators.md)."""


# --- 1 Filière ---------------------------------------------------------------------------------
def filiere() -> Dashboard:
    kpis = [
        kpi("filiere_establishments", "Établissements employeurs du numérique", "urssaf_digital_establishments",
            grain="year", fmt=COUNT, subtitle="établissements, secteur privé (Urssaf)",
            description="Établissements employeurs du périmètre « services TIC » au 31 décembre (Urssaf)."),
        kpi("filiere_headcount", "Effectifs salariés du numérique", "urssaf_digital_headcount", grain="year",
            fmt=COUNT, subtitle="salariés au 31 décembre (Urssaf)",
            description="Effectifs salariés des établissements du périmètre « services TIC » (Urssaf)."),
        kpi("filiere_headcount_share", "Part du numérique dans l'emploi salarié privé",
            "urssaf_digital_headcount_share", grain="year", fmt=SHARE, subtitle="des salariés du privé",
            description="Effectifs numériques / effectifs de tous les secteurs du fichier Urssaf."),
        kpi("filiere_centre_share", "Concentration dans la zone Centre", "urssaf_digital_centre_share",
            grain="year", fmt=SHARE, subtitle="des salariés du numérique",
            description="Part des salariés du numérique du département situés dans la zone Centre ; une "
            "valeur proche de 100 % signale une filière concentrée dans l'agglomération principale."),
    ]
    small_firms = kpi(
        "filiere_small_firms", "Part des très petits établissements", "sirene_very_small_firm_share",
        grain="month", fmt=SHARE, subtitle="ont moins de 10 salariés (Sirene)",
        description="Établissements actifs du numérique de moins de 10 salariés / établissements actifs, à la "
        "date d'extraction de Sirene.", width=4,
    )
    creations = Chart(
        "filiere_creations", "Créations d'établissements du numérique par année", ds.INDICATORS,
        "echarts_timeseries_bar",
        viz.bar("period_label", [indicator("sirene_digital_creations")],
                [eq("indicator_code", "sirene_digital_creations"), CONFIGURED, viz.time_range()],
                number_format=COUNT, horizontal=False, sort_by="period_label", ascending=True),
        description="Établissements du numérique créés chaque année, encore actifs ou fermés depuis (Sirene) ; "
        "l'année en cours, incomplète, n'est pas publiée.",
        width=8, height=44,
    )
    by_zone_headcount = Chart(
        "filiere_headcount_by_zone", "Effectifs salariés du numérique par zone", ds.INDICATORS,
        "echarts_timeseries_line",
        viz.line([indicator("urssaf_digital_headcount")],
                 [eq("indicator_code", "urssaf_digital_headcount"), eq("territory_level", "zone"), IN_TERRITORY],
                 grain="year", number_format=COUNT, series="territory_label"),
        description="Salariés du numérique au 31 décembre, par zone d'analyse de l'observatoire.", width=6,
    )
    by_zone_establishments = Chart(
        "filiere_establishments_by_zone", "Établissements employeurs du numérique par zone", ds.INDICATORS,
        "echarts_timeseries_line",
        viz.line([indicator("urssaf_digital_establishments")],
                 [eq("indicator_code", "urssaf_digital_establishments"), eq("territory_level", "zone"),
                  IN_TERRITORY],
                 grain="year", number_format=COUNT, series="territory_label"),
        description="Établissements employeurs du numérique au 31 décembre, par zone.", width=6,
    )
    by_commune = Chart(
        "filiere_headcount_by_commune", "Effectifs salariés du numérique par commune, dernière année",
        ds.INDICATORS, "echarts_timeseries_bar",
        viz.bar("territory_name", [indicator("urssaf_digital_headcount")],
                [eq("indicator_code", "urssaf_digital_headcount"), eq("territory_level", "commune"), IN_TERRITORY,
                 LATEST],
                number_format=COUNT, sort_by=indicator("urssaf_digital_headcount"), ascending=True),
        description="Salariés du numérique par commune, pour la dernière année publiée (Urssaf). Une commune "
        "dont les cellules sont vides dans le fichier (secret) n'a pas de barre.",
        width=6, height=90,
    )
    commune_history = Chart(
        "filiere_establishments_commune_year", "Établissements du numérique par commune et par année",
        ds.INDICATORS, "heatmap_v2",
        viz.heatmap("period_label", "territory_name", indicator("urssaf_digital_establishments"),
                    [eq("indicator_code", "urssaf_digital_establishments"), eq("territory_level", "commune"),
                     IN_TERRITORY, viz.time_range()],
                    number_format=COUNT),
        description="Établissements employeurs du numérique de chaque commune, année par année (Urssaf).",
        width=6, height=90,
    )
    filters = [
        zone_filter("filiere_zone", [by_zone_headcount, by_zone_establishments, by_commune, commune_history]),
        period_filter("filiere_period", [*kpis, creations, by_zone_headcount, by_zone_establishments,
                                         commune_history]),
    ]
    return Dashboard(
        "filiere-numerique", "1. Développement de la filière numérique",
        "Établissements, emploi salarié, concentration territoriale, très petites entreprises et créations.",
        [Row([HEADER]), Row([Markdown("filiere_intro", FILIERE_INTRO, height=16)]), Row(kpis),
         Row([small_firms, creations]), Row([by_zone_headcount, by_zone_establishments]),
         Row([by_commune, commune_history])],
        filters,
    )


FILIERE_INTRO = """**Préconisation 1 — Favoriser le développement de la filière.** Les chiffres clés portent sur le
territoire configuré. Emploi et établissements : Urssaf (périmètre « services TIC » : informatique, édition de
logiciels, télécommunications, traitement de données, réparation informatique). Très petits établissements et
créations : répertoire Sirene. Le filtre « Zone » restreint les graphiques par zone et par commune."""


# --- 2 Formation -------------------------------------------------------------------------------
def formation() -> Dashboard:
    def training_kpi(key: str, title: str, metric: str, fmt: str, subtitle: str, description: str) -> Chart:
        return Chart(key, title, ds.TRAINING, "big_number_total",
                     viz.big_number_total(metric, [CONFIGURED, LATEST], number_format=fmt, subtitle=subtitle),
                     description=description, width=2, height=36)

    kpis = [
        training_kpi("formation_offers", "Formations numériques", "formations", COUNT, "au catalogue, dernier mois",
                     "Formations du catalogue Mon Compte Formation dont la spécialité relève du numérique."),
        training_kpi("formation_sessions", "Sessions actives", "sessions", COUNT, "ouvertes à l'inscription",
                     "Sessions ouvertes à l'inscription des formations numériques."),
        training_kpi("formation_certifying", "Part certifiante", "part_certifiante", SHARE,
                     "mènent au RNCP ou au RS", "Formations menant à une certification RNCP ou RS / formations."),
        training_kpi("formation_remote", "Part à distance", "part_distance", SHARE, "ont une session à distance",
                     "Formations ayant au moins une session à distance / formations."),
        training_kpi("formation_niv7", "Part Bac+4/5", "part_bac45", SHARE, "parmi les niveaux connus",
                     "Formations de niveau 7 ou 8 / formations de niveau de sortie connu."),
    ]
    kpis[-1].width = 4  # 2+2+2+2+4 = 12
    by_domain = Chart(
        "formation_by_domain_level", "Formations numériques par domaine et tranche de niveau", ds.TRAINING,
        "echarts_timeseries_bar",
        viz.bar("skill_domain_label", ["formations"], [CONFIGURED, LATEST], number_format=COUNT,
                series="level_band_label", stacked=True, sort_by="formations", ascending=True),
        description="Formations numériques du dernier catalogue, par domaine de compétences, empilées par "
        "tranche de niveau de sortie.",
        width=6, height=60,
    )
    shares = Chart(
        "formation_shares_by_domain", "Certification, distance et niveau par domaine", ds.TRAINING, "table",
        viz.table_aggregate(["skill_domain_label"],
                            ["formations", "sessions", "part_certifiante", "part_distance", "part_bac45"],
                            [CONFIGURED, LATEST], sort_metric="formations"),
        description="Par domaine : formations, sessions actives, part certifiante, part accessible à distance "
        "et part Bac+4/5 (parmi les formations de niveau connu).",
        width=6, height=60,
    )
    by_level = Chart(
        "formation_by_level", "Formations numériques par tranche de niveau", ds.TRAINING, "echarts_timeseries_bar",
        viz.bar("level_band_label", ["formations", "sessions"], [CONFIGURED, LATEST], number_format=COUNT,
                horizontal=False, sort_by="level_band_label", ascending=True),
        description="Formations et sessions actives par tranche de niveau de sortie (Bac+2 et moins, Bac+3, "
        "Bac+4/5 et plus, niveau non précisé).",
        width=6, height=50,
    )
    comparison = Chart(
        "formation_by_territory", "Formations numériques : le territoire et ses voisins", ds.TRAINING,
        "echarts_timeseries_bar",
        viz.bar("territory_label", ["formations"], [is_in("territory_level", ["departement", "region"]), LATEST],
                number_format=COUNT, sort_by="formations", ascending=True),
        description="Formations numériques du dernier catalogue dans le territoire configuré et les territoires "
        "de comparaison (Mon Compte Formation est extrait pour ces seuls territoires).",
        width=6, height=50,
    )
    filters = [
        NativeFilter("formation_territory", "Territoire", "filter_select", [comparison], dataset=ds.TERRITORIES,
                     column="territory_label", sort_metric="ordre",
                     pre_filters=(is_in("territory_level", ["departement", "region"]),),
                     description="Restreint la comparaison aux territoires choisis."),
        domain_filter("formation_domain", [by_domain, shares, by_level, comparison], ds.TRAINING),
        NativeFilter("formation_level", "Tranche de niveau", "filter_select", [by_domain, shares, by_level,
                     comparison], dataset=ds.TRAINING, column="level_band_label",
                     description="Restreint les graphiques aux tranches de niveau choisies."),
    ]
    return Dashboard(
        "offre-formation", "2. Offre de formation au numérique",
        "Formations, sessions, certification, distance et niveaux du catalogue Mon Compte Formation.",
        [Row([HEADER]), Row([Markdown("formation_intro", FORMATION_INTRO, height=18)]), Row(kpis),
         Row([by_domain, shares]), Row([by_level, comparison])],
        filters,
    )


FORMATION_INTRO = """**Préconisation 2 — Structurer l'offre de formation.** Source : catalogue Mon Compte Formation
(Caisse des Dépôts), dernier mois d'extraction, formations dont la spécialité relève du numérique (formacode,
code NSF ou mots-clés). Le catalogue ne situe une formation qu'au **département** : il n'existe pas de
répartition par zone ou par commune. Les filtres « Domaine » et « Tranche de niveau » restreignent les graphiques
détaillés ; les chiffres clés portent sur tout le territoire configuré."""


# --- 3 Collectivités et infrastructures ---------------------------------------------------------
def infrastructures() -> Dashboard:
    kpis = [
        kpi("ftth_coverage", "Couverture en fibre optique (FttH)", "arcep_ftth_coverage", grain="quarter",
            fmt=SHARE, subtitle="des locaux raccordables", width=4,
            description="Locaux raccordables à la fibre optique jusqu'à l'abonné / locaux (Arcep), fin de trimestre."),
        kpi("ftth_zone_gap", "Écart de couverture entre zones", "arcep_ftth_zone_gap", grain="quarter",
            fmt=POINTS, subtitle="points entre la zone la mieux et la moins bien couverte", width=4,
            description="Écart, en points, entre la zone la mieux couverte et la moins bien couverte."),
        kpi("ftth_communes_80", "Communes couvertes à 80 %", "arcep_communes_ftth_80_share", grain="quarter",
            fmt=SHARE, subtitle="des communes", width=4,
            description="Part des communes dont au moins 80 % des locaux sont raccordables."),
    ]
    ftth_map = Chart(
        "ftth_map", "Carte de la couverture FttH par commune, dernier trimestre", ds.FTTH_MAP, "deck_polygon",
        viz.polygon_map("polygon_geojson", "couverture", [], legend_format=".0%",
                        viewport={"longitude": -61.02, "latitude": 14.64, "zoom": 9.3}),
        description="Taux de couverture FttH de chaque commune au dernier trimestre. Contours IGN ADMIN "
        "EXPRESS ; hors ligne, seuls ceux de la Martinique sont embarqués : pour un autre territoire la carte "
        "reste vide et le graphique par commune donne les mêmes taux.",
        width=6, height=80,
    )
    by_commune = Chart(
        "ftth_by_commune", "Couverture FttH par commune, dernier trimestre", ds.INDICATORS, "echarts_timeseries_bar",
        viz.bar("territory_name", [indicator("arcep_ftth_coverage")],
                [eq("indicator_code", "arcep_ftth_coverage"), eq("territory_level", "commune"), IN_TERRITORY,
                 LATEST],
                number_format=SHARE, sort_by=indicator("arcep_ftth_coverage"), ascending=True),
        description="Taux de couverture FttH de chaque commune du territoire au dernier trimestre.",
        width=6, height=80,
    )
    by_zone = Chart(
        "ftth_by_zone", "Couverture FttH par zone, trimestre par trimestre", ds.INDICATORS, "echarts_timeseries_line",
        viz.line([indicator("arcep_ftth_coverage")],
                 [eq("indicator_code", "arcep_ftth_coverage"), eq("territory_level", "zone"), IN_TERRITORY],
                 grain="quarter", number_format=SHARE, series="territory_label"),
        description="Taux de couverture FttH de chaque zone d'analyse, fin de trimestre.",
        width=12, height=50,
    )
    filters = [
        zone_filter("ftth_zone", [ftth_map, by_commune, by_zone]),
        period_filter("ftth_period", [*kpis, by_zone]),
    ]
    return Dashboard(
        "infrastructures-numeriques", "3. Collectivités et infrastructures numériques",
        "Couverture en fibre optique par commune et par zone, écart entre zones.",
        [Row([HEADER]), Row([Markdown("ftth_intro", FTTH_INTRO, height=16)]), Row(kpis), Row([ftth_map, by_commune]),
         Row([by_zone])],
        filters,
    )


FTTH_INTRO = """**Préconisation 3 — Rôle moteur des collectivités.** Source : observatoire du haut et très haut débit
de l'Arcep (déploiements FttH par commune, fin de trimestre). Les chiffres clés portent sur le territoire
configuré ; le filtre « Zone » restreint la carte et les graphiques par commune et par zone. L'entrepôt publie
ces indicateurs en données ouvertes (CSV, Parquet et Frictionless) à chaque exécution."""


# --- 4 Socle -------------------------------------------------------------------------------------
def socle() -> Dashboard:
    projects = kpi(
        "socle_bmo_projects", "Projets de recrutement dans le numérique", "bmo_digital_recruitment_projects",
        grain="year", fmt=COUNT, subtitle="projets, cellules publiées (BMO)",
        description="Projets de recrutement des six métiers numériques de la FAP2021 dans le territoire "
        "configuré, dernière enquête BMO ; les cellules sous secret statistique ne sont pas comptées (la valeur "
        "est un minimum).",
    )
    difficult = kpi(
        "socle_bmo_difficult", "Part des projets jugés difficiles", "bmo_digital_difficult_share", grain="year",
        fmt=SHARE, subtitle="des projets numériques (BMO)",
        description="Projets jugés difficiles / projets, sur les cellules où les deux sont publiés.",
    )
    offers = kpi(
        "socle_job_offers", "Offres d'emploi du numérique", "offers_digital_job_offers", grain="month", fmt=COUNT,
        subtitle="en ligne à France Travail",
        description="Offres d'emploi en ligne à la date d'extraction dont le code ROME relève du numérique.",
    )
    ratio = kpi(
        "socle_ratio", "Formations par offre d'emploi (socle)", "skills_core_supply_demand_ratio", grain="month",
        fmt=DECIMAL, subtitle="formations du socle par offre d'emploi",
        description="Formations des domaines du socle (développement, infrastructures, fibre, support) / offres "
        "d'emploi des mêmes domaines. Sous 1, la demande d'emploi dépasse l'offre de formation.",
    )
    by_occupation = Chart(
        "socle_bmo_by_occupation", "Projets de recrutement par métier du numérique", ds.RECRUITMENT,
        "echarts_timeseries_bar",
        viz.bar("occupation_display", ["projets"], [CONFIGURED, LATEST], number_format=COUNT,
                sort_by="projets", ascending=True),
        description="Projets de recrutement de la dernière enquête BMO par métier numérique, dans le territoire "
        "configuré. Un métier dont toutes les cellules sont sous secret statistique est marqué « secret "
        "statistique » et n'a pas de barre : son nombre n'est pas zéro, il n'est pas publié.",
        width=7, height=56,
    )
    occupation_table = Chart(
        "socle_bmo_occupation_table", "Métiers du numérique : projets, difficulté et secret", ds.RECRUITMENT,
        "table",
        viz.table_raw(["occupation_short_label", "projects_display", "difficult_display", "suppressed_cells"],
                      [CONFIGURED, LATEST], order_by=[("occupation_short_label", True)],
                      formats={"suppressed_cells": COUNT}),
        description="Pour chaque métier : les projets (ou « secret statistique »), les projets jugés difficiles "
        "(cellules publiées) et le nombre de cellules sous secret.",
        width=5, height=56,
    )
    by_basin = Chart(
        "socle_bmo_by_basin", "Projets numériques et secret statistique par bassin d'emploi", ds.INDICATORS,
        "table",
        viz.table_raw(["territory_name", "indicator_label", "value_display", "suppressed_count"],
                      [is_in("indicator_code", ["bmo_digital_recruitment_projects", "bmo_digital_difficult_share"]),
                       eq("territory_level", "bassin_bmo"), IN_TERRITORY, LATEST],
                      order_by=[("territory_name", True), ("indicator_label", False)],
                      formats={"suppressed_count": COUNT}),
        description="Projets de recrutement numériques et part jugée difficile de chaque bassin d'emploi de "
        "l'enquête BMO, avec le nombre de cellules sous secret statistique.",
        width=6, height=56,
    )
    offers_by_domain = Chart(
        "socle_offers_by_domain", "Offres d'emploi du numérique par domaine", ds.JOB_OFFERS,
        "echarts_timeseries_bar",
        viz.bar("skill_domain_label", ["offres"], [CONFIGURED, LATEST], number_format=COUNT, series=None,
                sort_by="offres", ascending=True),
        description="Offres d'emploi en ligne à la dernière extraction, par domaine de compétences.",
        width=6, height=56,
    )
    offers_by_zone = Chart(
        "socle_offers_by_zone", "Offres d'emploi du numérique par zone et domaine", ds.JOB_OFFERS,
        "echarts_timeseries_bar",
        viz.bar("territory_label", ["offres"], [eq("territory_level", "zone"), IN_TERRITORY, LATEST],
                number_format=COUNT, series="skill_domain_label", stacked=True, sort_by="offres",
                ascending=True),
        description="Offres d'emploi du numérique à la dernière extraction par zone d'analyse, par domaine.",
        width=6, height=50,
    )
    tensions = Chart(
        "socle_tensions", "Tension des métiers du numérique", ds.TENSIONS, "echarts_timeseries_bar",
        viz.bar("fap_short_label", ["tension"], [CONFIGURED, LATEST], number_format=DECIMAL, sort_by="tension",
                ascending=True),
        description="Indicateur de tension (Dares, France Travail) de chaque métier numérique, dernière année : "
        "centré réduit, au-dessus de 0 le métier est plus tendu que la moyenne. Valeurs imputées comprises "
        "quand le volume est faible.",
        width=6, height=50,
    )
    gap = Chart(
        "socle_supply_demand", "Formations et offres d'emploi par domaine du socle", ds.SKILLS_GAP,
        "echarts_timeseries_bar",
        viz.bar("skill_domain_label", ["offres_emploi", "formations"], [CONFIGURED, is_false("is_emerging")],
                number_format=COUNT, sort_by="offres_emploi", ascending=True),
        description="Offres d'emploi (dernière extraction) et formations (dernier catalogue) de chaque domaine "
        "hors enjeux de demain, dans le territoire configuré.",
        width=12, height=50,
    )
    basins = NativeFilter(
        "socle_basin", "Bassin d'emploi", "filter_select", [by_basin], dataset=ds.TERRITORIES,
        column="territory_name", pre_filters=(eq("territory_level", "bassin_bmo"), IN_TERRITORY),
        description="Restreint le tableau par bassin aux bassins d'emploi choisis.",
    )
    filters = [
        basins,
        zone_filter("socle_zone", [offers_by_zone]),
        domain_filter("socle_domain", [offers_by_domain, offers_by_zone, gap], ds.JOB_OFFERS),
        period_filter("socle_period", [projects, difficult, offers, ratio]),
    ]
    return Dashboard(
        "socle-formation", "4. Socle de formation : besoins et offre",
        "Projets de recrutement BMO et difficulté par métier et bassin, offres d'emploi, tension, rapport "
        "formation / emploi.",
        [Row([HEADER]), Row([Markdown("socle_intro", SOCLE_INTRO, height=18)]),
         Row([projects, difficult, offers, ratio]), Row([by_occupation, occupation_table]),
         Row([by_basin, offers_by_domain]), Row([offers_by_zone, tensions]), Row([gap])],
        filters,
    )


SOCLE_INTRO = """**Préconisation 4 — Renforcer le socle de formation** (fibre, maintenance, programmation). Besoins :
enquête Besoins en main-d'œuvre (BMO) de France Travail, six métiers numériques de la FAP2021. Un nombre trop
faible est couvert par le **secret statistique** : il n'est jamais compté comme zéro ; il est signalé (« secret
statistique », « au moins N ») et le total publié est un minimum. Offres : API Offres d'emploi de France Travail.
Tension : Dares et France Travail."""


# --- 5 Demain ------------------------------------------------------------------------------------
def demain() -> Dashboard:
    kpis = [
        kpi("demain_training", "Formations en IA, cybersécurité et données", "mcf_emerging_training_offers",
            grain="month", fmt=COUNT, subtitle="au catalogue Mon Compte Formation",
            description="Formations du catalogue en intelligence artificielle, cybersécurité ou science des données."),
        kpi("demain_job_offers", "Offres d'emploi en IA, cybersécurité et données", "offers_emerging_job_offers",
            grain="month", fmt=COUNT, subtitle="en ligne à France Travail",
            description="Offres d'emploi numériques en ligne qui relèvent de l'IA, de la cybersécurité ou "
            "des données."),
        kpi("demain_ratio", "Formations par offre d'emploi (IA, cyber, données)",
            "skills_emerging_supply_demand_ratio", grain="month", fmt=DECIMAL,
            subtitle="formations par offre d'emploi",
            description="Formations des domaines émergents / offres d'emploi des mêmes domaines."),
        kpi("demain_niv7", "Part Bac+4/5 des formations émergentes", "mcf_emerging_offers_niv7_share",
            grain="month", fmt=SHARE, subtitle="parmi les niveaux connus",
            description="Formations émergentes de niveau 7 ou 8 / formations émergentes de niveau connu."),
    ]
    by_domain = Chart(
        "demain_by_domain", "Formations et offres d'emploi par domaine émergent", ds.SKILLS_GAP,
        "echarts_timeseries_bar",
        viz.bar("skill_domain_label", ["formations", "offres_emploi"], [CONFIGURED, is_true("is_emerging")],
                number_format=COUNT, horizontal=False, sort_by="skill_domain_label", ascending=True),
        description="Formations (dernier catalogue) et offres d'emploi (dernière extraction) en intelligence "
        "artificielle, cybersécurité et données.",
        width=6, height=56,
    )
    by_level = Chart(
        "demain_training_by_level", "Formations émergentes par tranche de niveau", ds.TRAINING,
        "echarts_timeseries_bar",
        viz.bar("skill_domain_label", ["formations"], [CONFIGURED, LATEST, is_true("is_emerging")],
                number_format=COUNT, series="level_band_label", stacked=True, horizontal=False,
                sort_by="skill_domain_label", ascending=True),
        description="Formations des domaines émergents par tranche de niveau : Bac+3 et moins face au Bac+4/5.",
        width=6, height=56,
    )
    table = Chart(
        "demain_gap_table", "Offre et demande par domaine et niveau", ds.SKILLS_GAP, "table",
        viz.table_aggregate(["skill_domain_label", "level_band_label"], ["offres_emploi", "formations", "rapport"],
                            [CONFIGURED, is_true("is_emerging")], sort_metric="offres_emploi"),
        description="Offres d'emploi, formations et formations par offre d'emploi, par domaine émergent et "
        "tranche de niveau.",
        width=6, height=70,
    )
    comparison = Chart(
        "demain_ratio_by_territory", "Formations par offre d'emploi émergente : comparaison", ds.INDICATORS,
        "echarts_timeseries_bar",
        viz.bar("territory_label", [indicator("skills_emerging_supply_demand_ratio")],
                [eq("indicator_code", "skills_emerging_supply_demand_ratio"),
                 is_in("territory_level", ["departement", "region"]), LATEST],
                number_format=DECIMAL, sort_by=indicator("skills_emerging_supply_demand_ratio"), ascending=True),
        description="Formations en IA, cybersécurité et données par offre d'emploi des mêmes domaines, dans le "
        "territoire configuré et les territoires de comparaison.",
        width=6, height=56,
    )
    filters = [
        NativeFilter("demain_territory", "Territoire", "filter_select", [comparison], dataset=ds.TERRITORIES,
                     column="territory_label", sort_metric="ordre",
                     pre_filters=(is_in("territory_level", ["departement", "region"]),),
                     description="Restreint la comparaison aux territoires choisis."),
        domain_filter("demain_domain", [by_domain, by_level, table], ds.SKILLS_GAP, emerging_only=True),
        period_filter("demain_period", kpis),
    ]
    return Dashboard(
        "enjeux-de-demain", "5. Enjeux de demain : IA, cybersécurité, données",
        "Formations et offres d'emploi en intelligence artificielle, cybersécurité et données, et leur rapport.",
        [Row([HEADER]), Row([Markdown("demain_intro", DEMAIN_INTRO, height=16)]), Row(kpis),
         Row([by_domain, by_level]), Row([table, comparison])],
        filters,
    )


DEMAIN_INTRO = """**Préconisation 5 — Se préparer aux enjeux de demain.** Formations (catalogue Mon Compte Formation)
et offres d'emploi (France Travail) en intelligence artificielle, cybersécurité et science des données,
reconnues par formacode, code NSF, code ROME ou mots-clés. Les niveaux opposent le Bac+3 et moins au Bac+4/5
(niveaux 7 et 8)."""


# --- Comparaison DROM ----------------------------------------------------------------------------
def comparaison() -> Dashboard:
    peer_rows = [is_in("territory_level", ["departement", "region", "pays"]), LATEST]

    def matrix(key: str, title: str, units: list[str], fmt: str, description: str, height: int) -> Chart:
        return Chart(key, title, ds.INDICATORS, "pivot_table_v2",
                     viz.pivot(viz.labelled("indicator_label", "Indicateur"),
                               viz.labelled("territory_label", "Territoire"), "valeur",
                               [is_in("unit", units), *peer_rows], number_format=fmt),
                     description=description, width=12, height=height)

    shares = matrix("comparison_shares", "Parts et taux : le territoire, ses voisins et la France", ["part"],
                    SHARE, "Dernière valeur de chaque indicateur exprimé en part, par territoire. La France "
                    "entière n'apparaît que pour les sources nationales (BMO, tensions).", height=72)
    volumes = matrix("comparison_volumes", "Volumes : le territoire, ses voisins et la France",
                     ["établissements", "salariés", "créations", "formations", "sessions", "certifications",
                      "projets", "cellules", "offres"], COUNT,
                     "Dernière valeur de chaque indicateur de volume, par territoire : à lire en tenant compte de "
                     "la taille de chaque territoire.", height=80)
    ratios = matrix("comparison_ratios", "Ratios, indices et écarts", ["ratio", "indice", "points"], DECIMAL,
                    "Formations par offre d'emploi, indicateur de tension et écart de couverture FttH entre zones "
                    "(en points), dernière valeur par territoire.", height=40)
    ftth = Chart(
        "comparison_ftth", "Couverture en fibre optique (FttH) par territoire", ds.INDICATORS,
        "echarts_timeseries_line",
        viz.line([indicator("arcep_ftth_coverage")],
                 [eq("indicator_code", "arcep_ftth_coverage"), is_in("territory_level", ["departement", "region"])],
                 grain="quarter", number_format=SHARE, series="territory_label"),
        description="Taux de couverture FttH de chaque territoire, fin de trimestre (Arcep).", width=6,
    )
    headcount = Chart(
        "comparison_headcount_share", "Part du numérique dans l'emploi salarié privé", ds.INDICATORS,
        "echarts_timeseries_line",
        viz.line([indicator("urssaf_digital_headcount_share")],
                 [eq("indicator_code", "urssaf_digital_headcount_share"),
                  is_in("territory_level", ["departement", "region"])],
                 grain="year", number_format=SHARE, series="territory_label"),
        description="Salariés du numérique / salariés de tous les secteurs (Urssaf), année par année.", width=6,
    )
    difficult = Chart(
        "comparison_bmo_difficult", "Part des projets numériques jugés difficiles", ds.INDICATORS,
        "echarts_timeseries_bar",
        viz.bar("territory_label", [indicator("bmo_digital_difficult_share")],
                [eq("indicator_code", "bmo_digital_difficult_share"), *peer_rows], number_format=SHARE,
                sort_by=indicator("bmo_digital_difficult_share"), ascending=True),
        description="Dernière enquête BMO : projets jugés difficiles / projets, métiers numériques, France "
        "entière comprise.", width=6,
    )
    projects = Chart(
        "comparison_bmo_projects", "Projets de recrutement dans le numérique par territoire", ds.INDICATORS,
        "echarts_timeseries_bar",
        viz.bar("territory_label", [indicator("bmo_digital_recruitment_projects")],
                [eq("indicator_code", "bmo_digital_recruitment_projects"),
                 is_in("territory_level", ["departement", "region"]), LATEST],
                number_format=COUNT, sort_by=indicator("bmo_digital_recruitment_projects"), ascending=True),
        description="Dernière enquête BMO, cellules publiées seulement (France entière exclue : hors d'échelle).",
        width=6,
    )
    charts = [shares, volumes, ratios, ftth, headcount, difficult, projects]
    filters = [
        NativeFilter("comparison_territory", "Territoire", "filter_select", charts, dataset=ds.TERRITORIES,
                     column="territory_label", sort_metric="ordre",
                     pre_filters=(is_in("territory_level", ["departement", "region", "pays"]),),
                     description="Les territoires à comparer (tous par défaut)."),
        period_filter("comparison_period", [ftth, headcount]),
    ]
    return Dashboard(
        "comparaison-drom", "Comparaison : le territoire, ses voisins et la France",
        "Chaque indicateur du territoire configuré à côté des territoires de comparaison et de la France.",
        [Row([HEADER]), Row([Markdown("comparison_intro", COMPARISON_INTRO, height=16)]), Row([shares]),
         Row([volumes]), Row([ratios]), Row([ftth, headcount]), Row([difficult, projects])],
        filters,
    )


COMPARISON_INTRO = """**Comparaison.** Le territoire configuré à côté des territoires de comparaison (variable
OREF_COMPARISON, les autres DROM par défaut) et de la France entière quand la source est nationale (BMO,
tensions). Chaque cellule est la dernière valeur publiée de l'indicateur pour ce territoire ; une cellule vide
signifie « non publiée » (secret statistique ou source absente), jamais zéro."""


# --- Qualité des données -------------------------------------------------------------------------
def qualite() -> Dashboard:
    last_run = Chart(
        "quality_last_run", "Dernière exécution", ds.LAST_RUN, "table",
        viz.table_raw(["header_html"], [], order_by=[], row_limit=10),
        description="Statut, raison et rapport de la dernière exécution du pipeline, publiée ou non.",
        width=12, height=26,
    )
    runs = Chart(
        "quality_runs", "Exécutions : publiées ou non, et pourquoi", ds.RUNS, "table",
        viz.table_raw(["started_at", "run_id", "status_label", "reason", "territory",
                       "sources_fetched", "sources_stale", "sources_failed", "checks_passed", "checks_failed",
                       "checks_warned", "report_link"], [], order_by=[("started_at", False)], row_limit=500,
                      page_length=10, formats={"checks_passed": COUNT}),
        description="Chaque exécution du pipeline, la plus récente d'abord : statut (publiée, bloquée, en "
        "échec), raison quand elle n'a pas été publiée, contrôles, et lien vers son rapport.",
        width=12, height=60,
    )
    failures = Chart(
        "quality_failures", "Contrôles en échec et avertissements", ds.CHECKS, "table",
        viz.table_raw(["started_at", "outcome", "source", "check_name", "message", "observed", "target"],
                      [is_in("outcome", ["échec", "avertissement"])],
                      order_by=[("started_at", False), ("outcome", True), ("source", True)], row_limit=1000,
                      page_length=20, search=True),
        description="Les contrôles qui n'ont pas réussi, échecs bloquants d'abord, avec leur message (source, "
        "fichier, colonne, valeur).",
        width=12, height=70,
    )
    checks_by_run = Chart(
        "quality_checks_by_run", "Contrôles par exécution", ds.CHECKS, "echarts_timeseries_bar",
        viz.bar("run_id", ["reussis", "avertissements", "echecs"], [], number_format=COUNT, horizontal=False,
                stacked=True, sort_by="run_id", ascending=True, row_limit=200),
        description="Contrôles réussis, avertissements et échecs bloquants de chaque exécution.",
        width=12, height=50,
    )
    freshness = Chart(
        "quality_freshness", "Fraîcheur et millésime des sources (dernière exécution)", ds.FRESHNESS, "table",
        viz.table_raw(["source", "name", "data_vintage", "fetched_at", "age_days", "rows", "sha256_short"], [],
                      order_by=[("source", True), ("name", True)], row_limit=200,
                      formats={"age_days": COUNT, "rows": COUNT}),
        description="Pour chaque source, les fichiers utilisés par la dernière exécution : millésime des "
        "données, date de téléchargement, âge en jours, lignes et début de l'empreinte SHA-256.",
        width=12, height=70,
    )
    sources = Chart(
        "quality_sources", "État des sources (dernière exécution)", ds.SOURCE_STATES, "table",
        viz.table_raw(["source", "state_label", "data_vintage", "previous_data_vintage", "age_days", "rows",
                       "previous_rows", "policy_label", "message"], [],
                      order_by=[("source", True)], row_limit=100,
                      formats={"age_days": COUNT, "rows": COUNT, "previous_rows": COUNT}),
        description="Pour chaque source : nouveau fichier, inchangée, périmée (la récupération a échoué et le "
        "dernier fichier valide a servi : la publication est alors « dégradée »), en échec ou non récupérée ; "
        "millésime des données et âge en jours, à côté de la publication précédente.",
        width=12, height=14 + 6 * len(SOURCE_NAMES),  # one row per source, none hidden behind a scroll bar
    )
    filters = [
        NativeFilter("quality_run", "Exécution", "filter_select", [failures], dataset=ds.CHECKS, column="run_id",
                     description="Restreint les contrôles aux exécutions choisies."),
        NativeFilter("quality_source", "Source", "filter_select", [failures], dataset=ds.CHECKS, column="source",
                     description="Restreint les contrôles aux sources choisies."),
    ]
    return Dashboard(
        "qualite-donnees", "Qualité des données",
        "Pour les gestionnaires de données : exécutions, contrôles en échec, fraîcheur et millésime des sources.",
        [Row([last_run]), Row([Markdown("quality_intro", QUALITY_INTRO, height=14)]), Row([sources]), Row([runs]),
         Row([failures]), Row([freshness]), Row([checks_by_run])],
        filters,
    )


QUALITY_INTRO = """**Qualité des données.** Chaque exécution du pipeline est enregistrée, qu'elle ait été publiée ou
non. Un échec bloquant empêche la publication : l'entrepôt publié reste celui de l'exécution précédente. Une
source qui n'a pas pu être récupérée garde son dernier fichier valide : la publication est alors « dégradée » et
la source « périmée ». Le rapport de chaque exécution (lien « rapport ») détaille les contrôles ; il est réservé
aux gestionnaires."""


def dashboards() -> list[Dashboard]:
    return [pilotage(), filiere(), formation(), infrastructures(), socle(), demain(), comparaison(), qualite()]
