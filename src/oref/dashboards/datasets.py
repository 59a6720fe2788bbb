"""The datasets the dashboards read, with their saved metrics (French labels, formats).

Warehouse datasets are the ``dash_*`` tables of ``marts`` (dbt models in
``dbt_project/models/marts/dashboards``): their columns and descriptions come from the models'
YAML files when the bundle is rendered. Aggregation happens in those tables and in the metrics
below, in the database: a chart never aggregates rows in the browser.

The quality datasets read the quality store (``quality_store.duckdb``, Superset database
``oref_qualite``), written by every run, blocked ones included.
"""

from __future__ import annotations

from oref.dashboards.model import Dataset, Metric
from oref.dashboards.viz import CHANGE, COUNT, DECIMAL, POINTS, SHARE
from oref.reference import read_seed

# Short French names of the columns, shared by every dataset (Superset's "verbose names").
COLUMN_LABELS: dict[str, str] = {
    "territory_code": "Code du territoire",
    "territory_level": "Niveau (code)",
    "territory_level_label": "Niveau",
    "territory_name": "Nom",
    "territory_label": "Territoire",
    "territory_title": "Territoire",
    "department_code": "Département (code)",
    "department_name": "Département",
    "region_code": "Région (code)",
    "epci_code": "Intercommunalité (SIREN)",
    "zone_code": "Zone (code)",
    "zone_label": "Zone",
    "comparison_group": "Groupe",
    "is_configured_territory": "Territoire configuré",
    "territory_sort": "Ordre",
    "period": "Période (code)",
    "period_type": "Type de période",
    "period_date": "Période",
    "period_label": "Période",
    "is_latest_period": "Dernière période",
    "survey_year": "Année d'enquête",
    "year": "Année",
    "indicator_code": "Code de l'indicateur",
    "indicator_label": "Indicateur",
    "indicator_html": "Indicateur",
    "preconisation_code": "Préconisation (n°)",
    "preconisation_label": "Préconisation",
    "unit": "Unité",
    "value": "Valeur",
    "value_display": "Valeur",
    "numerator": "Numérateur",
    "denominator": "Dénominateur",
    "suppressed_count": "Cellules sous secret",
    "source_vintage": "Millésime",
    "run_id": "Exécution",
    "skill_domain_code": "Domaine (code)",
    "skill_domain_label": "Domaine",
    "is_emerging": "Enjeu de demain",
    "level_band_code": "Tranche de niveau (code)",
    "level_band_label": "Tranche de niveau",
    "occupation_code": "Métier (FAP2021)",
    "occupation_label": "Métier",
    "occupation_display": "Métier",
    "projects_display": "Projets de recrutement",
    "latest_period_label": "Période",
    "latest_value_display": "Dernière valeur",
    "previous_period_label": "Période précédente",
    "previous_value_display": "Valeur précédente",
    "change_display": "Évolution",
    "trend_label": "Tendance",
    "target_display": "Cible",
    "status_label": "Statut",
    "status_html": "Statut",
    "fap_label": "Métier",
    "commune_name": "Commune",
    "source_mode_label": "Origine des données",
    "header_html": "Ce que montre ce tableau de bord",
    "occupation_short_label": "Métier",
    "difficult_display": "Projets jugés difficiles",
    "difficult_projects": "Projets jugés difficiles",
    "projects_with_known_difficulty": "Projets (difficulté publiée)",
    "suppressed_cells": "Cellules sous secret",
    "cell_count": "Cellules",
    "is_all_secret": "Tout sous secret",
    "recruitment_projects": "Projets de recrutement",
    "training_offers": "Formations",
    "active_sessions": "Sessions actives",
    "certifying_offers": "Formations certifiantes",
    "remote_offers": "Formations à distance",
    "known_level_offers": "Formations de niveau connu",
    "niv7_offers": "Formations Bac+4/5",
    "certifications": "Certifications visées",
    "job_offers": "Offres d'emploi",
    "short_of_candidates_offers": "Offres manquant de candidats",
    "fap_code": "Métier (FAP2021)",
    "fap_short_label": "Métier",
    "tension_score": "Indicateur de tension",
    "tension_score_with_imputed": "Indicateur de tension (imputations comprises)",
    "is_imputed": "Valeur imputée",
    "tension_class": "Classe de tension",
    "demand_job_offers": "Offres d'emploi",
    "demand_bmo_projects": "Projets BMO",
    "demand_bmo_suppressed_cells": "Cellules BMO sous secret",
    "supply_training_offers": "Formations",
    "supply_active_sessions": "Sessions actives",
    "supply_certifications": "Certifications",
    "supply_demand_ratio": "Formations par offre d'emploi",
    "premises": "Locaux",
    "ftth_connectable_premises": "Locaux raccordables",
    "ftth_coverage_rate": "Taux de couverture",
    "polygon_geojson": "Contour",
    "definition": "Définition",
    "direction": "Sens favorable",
    "latest_value": "Dernière valeur (nombre)",
    "status": "Statut (code)",
    "trend": "Tendance (code)",
    "target_label": "Cible (libellé)",
    "comparison_labels": "Comparaison",
    "built_at": "Construit le",
    "built_at_label": "Construit le",
}


def _indicator_metrics() -> tuple[Metric, ...]:
    """One metric per catalogued indicator, named by its code, labelled and formatted by its unit.

    Counts add up across territories; shares and ratios are recomputed from their numerators and
    denominators (so a group of communes gets its true share); indices, gaps and year-on-year
    changes, which do not add up, take the value of the single row a chart selects.
    """
    metrics = []
    for row in read_seed("indicator_catalogue"):
        code, unit = row["indicator_code"], row["unit"]
        where = f"indicator_code = '{code}'"
        if unit in ("part", "ratio"):
            expression = (f"SUM(CASE WHEN {where} THEN numerator END) / "
                          f"NULLIF(SUM(CASE WHEN {where} THEN denominator END), 0)")
            fmt = SHARE if unit == "part" else DECIMAL
        elif unit in ("indice", "points", "variation"):
            expression = f"MAX(CASE WHEN {where} THEN value END)"
            fmt = {"indice": DECIMAL, "points": POINTS, "variation": CHANGE}[unit]
        else:
            expression = f"SUM(CASE WHEN {where} THEN value END)"
            fmt = COUNT
        metrics.append(Metric(code, row["label_fr"], expression, fmt, row["definition_fr"]))
    return tuple(metrics)


WAREHOUSE_DESCRIPTION = " Table de service de l'entrepôt oref, construite par dbt (schéma marts)."

CONTEXT = Dataset(
    "dash_context", "oref", "marts",
    "Le territoire, l'exécution et l'origine des données que montrent les tableaux de bord." + WAREHOUSE_DESCRIPTION,
)

TERRITORIES = Dataset(
    "dash_territories", "oref", "marts",
    "Les territoires des tableaux de bord, chacun une fois, avec leur libellé." + WAREHOUSE_DESCRIPTION,
    metrics=(Metric("ordre", "Ordre d'affichage", "MIN(territory_sort)", ",d"),),
)

INDICATORS = Dataset(
    "dash_indicators", "oref", "marts",
    "Les indicateurs publiés, une ligne par indicateur, territoire et période." + WAREHOUSE_DESCRIPTION,
    metrics=(
        *_indicator_metrics(),
        Metric("cellules_secret", "Cellules sous secret statistique", "SUM(suppressed_count)", COUNT),
        # one cell of a territory x indicator matrix: the single row of that territory's latest period
        Metric("valeur", "Valeur", "MAX(value)", None),
        Metric("ordre", "Ordre d'affichage", "MIN(territory_sort)", ",d"),
    ),
    main_dttm_col="period_date",
)

SCORECARD = Dataset(
    "dash_scorecard", "oref", "marts",
    "Le suivi des préconisations : dernière valeur, tendance, cible et statut de chaque indicateur."
    + WAREHOUSE_DESCRIPTION,
    metrics=(
        Metric("indicateurs", "Indicateurs", "SUM(indicator_count)", COUNT),
        Metric("ordre", "Ordre d'affichage", "MIN(territory_sort)", ",d"),
    ),
)

RECRUITMENT = Dataset(
    "dash_recruitment", "oref", "marts",
    "Projets de recrutement BMO des métiers du numérique par métier et territoire, secret statistique compris."
    + WAREHOUSE_DESCRIPTION,
    metrics=(
        Metric("projets", "Projets de recrutement", "SUM(recruitment_projects)", COUNT,
               "Somme des cellules publiées ; les cellules sous secret statistique ne sont pas comptées."),
        Metric("projets_difficiles", "Projets jugés difficiles", "SUM(difficult_projects)", COUNT),
        Metric("part_difficile", "Part des projets jugés difficiles",
               "SUM(difficult_projects) / NULLIF(SUM(projects_with_known_difficulty), 0)", SHARE,
               "Sur les cellules où les deux nombres sont publiés."),
        Metric("cellules_secret", "Cellules sous secret statistique", "SUM(suppressed_cells)", COUNT),
    ),
    main_dttm_col="period_date",
)

TRAINING = Dataset(
    "dash_training", "oref", "marts",
    "Offre de formation numérique (Mon Compte Formation) par domaine, tranche de niveau et territoire."
    + WAREHOUSE_DESCRIPTION,
    metrics=(
        Metric("formations", "Formations numériques", "SUM(training_offers)", COUNT),
        Metric("sessions", "Sessions actives", "SUM(active_sessions)", COUNT),
        Metric("part_certifiante", "Part certifiante", "SUM(certifying_offers) / NULLIF(SUM(training_offers), 0)",
               SHARE, "Formations menant à une certification RNCP ou RS / formations."),
        Metric("part_distance", "Part accessible à distance",
               "SUM(remote_offers) / NULLIF(SUM(training_offers), 0)", SHARE,
               "Formations ayant au moins une session à distance / formations."),
        Metric("part_bac45", "Part Bac+4/5", "SUM(niv7_offers) / NULLIF(SUM(known_level_offers), 0)", SHARE,
               "Formations de niveau 7 ou 8 / formations de niveau connu."),
    ),
    main_dttm_col="period_date",
)

JOB_OFFERS = Dataset(
    "dash_job_offers", "oref", "marts",
    "Offres d'emploi du numérique en ligne à France Travail, par domaine, niveau et territoire."
    + WAREHOUSE_DESCRIPTION,
    metrics=(
        Metric("offres", "Offres d'emploi", "SUM(job_offers)", COUNT),
        Metric("offres_sans_candidats", "Offres manquant de candidats", "SUM(short_of_candidates_offers)", COUNT),
    ),
    main_dttm_col="period_date",
)

FTTH_MAP = Dataset(
    "dash_ftth_map", "oref", "marts",
    "Couverture en fibre optique des communes au dernier trimestre, avec leurs contours." + WAREHOUSE_DESCRIPTION,
    metrics=(
        Metric("couverture", "Taux de couverture FttH",
               "SUM(ftth_connectable_premises) / NULLIF(SUM(premises), 0)", SHARE),
    ),
)

TENSIONS = Dataset(
    "dash_tensions", "oref", "marts",
    "Tensions sur le marché du travail des métiers du numérique (Dares, France Travail)." + WAREHOUSE_DESCRIPTION,
    metrics=(
        Metric("tension", "Indicateur de tension", "MAX(tension_score_with_imputed)", DECIMAL,
               "Centré réduit : au-dessus de 0, plus tendu que la moyenne des métiers ; valeurs imputées comprises."),
    ),
    main_dttm_col="period_date",
)

SKILLS_GAP = Dataset(
    "dash_skills_gap", "oref", "marts",
    "Demande (offres d'emploi, projets BMO) et offre de formation par domaine et niveau." + WAREHOUSE_DESCRIPTION,
    metrics=(
        Metric("offres_emploi", "Offres d'emploi", "SUM(demand_job_offers)", COUNT),
        Metric("formations", "Formations", "SUM(supply_training_offers)", COUNT),
        Metric("projets_bmo", "Projets de recrutement BMO", "SUM(demand_bmo_projects)", COUNT),
        Metric("rapport", "Formations par offre d'emploi",
               "SUM(supply_training_offers) / NULLIF(SUM(demand_job_offers), 0)", DECIMAL),
    ),
)

# --- the quality store ---------------------------------------------------------------------------
QUALITY_DESCRIPTION = " Magasin qualité (quality_store.duckdb) : toutes les exécutions, publiées ou non."

RUN_STATUS_LABEL = (
    "CASE status WHEN 'published' THEN 'publiée' WHEN 'degraded' THEN 'publiée, dégradée' "
    "WHEN 'blocked' THEN 'bloquée' WHEN 'failed' THEN 'en échec' WHEN 'unchanged' THEN 'rien de nouveau' "
    "ELSE status END"
)

RUNS = Dataset(
    "executions", "oref_qualite", "quality",
    "Les exécutions du pipeline : statut (publiée, publiée dégradée, bloquée, en échec, rien de nouveau), raison,"
    " sources périmées, contrôles et rapport."
    + QUALITY_DESCRIPTION,
    sql=(
        "SELECT run_id, started_at, finished_at, territory, source_mode,\n"
        f"  {RUN_STATUS_LABEL} AS status_label,\n"
        "  COALESCE(reason, '') AS reason,\n"
        "  sources_fetched, sources_unchanged, sources_failed, COALESCE(sources_stale, 0) AS sources_stale,\n"
        "  checks_passed, checks_failed, checks_warned,\n"
        "  '<a href=\"/oref/rapports/' || run_id || '\" target=\"_blank\">rapport</a>' AS report_link,\n"
        "  report_path\n"
        "FROM quality.runs"
    ),
    columns=(
        ("run_id", "VARCHAR"), ("started_at", "TIMESTAMP"), ("finished_at", "TIMESTAMP"), ("territory", "VARCHAR"),
        ("source_mode", "VARCHAR"), ("status_label", "VARCHAR"), ("reason", "VARCHAR"),
        ("sources_fetched", "INTEGER"), ("sources_unchanged", "INTEGER"), ("sources_failed", "INTEGER"),
        ("sources_stale", "INTEGER"),
        ("checks_passed", "INTEGER"), ("checks_failed", "INTEGER"), ("checks_warned", "INTEGER"),
        ("report_link", "VARCHAR"), ("report_path", "VARCHAR"),
    ),
    metrics=(Metric("executions", "Exécutions", "COUNT(*)", COUNT),),
    main_dttm_col="started_at",
)

LAST_RUN = Dataset(
    "derniere_execution", "oref_qualite", "quality",
    "La dernière exécution du pipeline en une cellule HTML, pour l'en-tête du tableau de bord qualité."
    + QUALITY_DESCRIPTION,
    sql=(
        "WITH last_run AS (SELECT * FROM quality.runs ORDER BY started_at DESC LIMIT 1)\n"
        "SELECT run_id,\n"
        "  '<div style=\"padding:8px 14px;border-radius:4px;line-height:1.6;background:'\n"
        "  || CASE status WHEN 'published' THEN '#e6f4ea' WHEN 'unchanged' THEN '#e6f4ea'\n"
        "       WHEN 'degraded' THEN '#fff4ce' ELSE '#fde7e9' END\n"
        f"  || '\"><b>Dernière exécution : ' || {RUN_STATUS_LABEL}\n"
        "  || '</b> — ' || strftime(started_at, '%d/%m/%Y à %H:%M') || ' UTC, <code>' || run_id\n"
        "  || '</code>, territoire '\n"
        "  || territory || ', mode ' || source_mode || '.<br>Raison : '\n"
        "  || replace(replace(replace(COALESCE(reason, 'aucune erreur bloquante'),\n"
        "       '&', '&amp;'), '<', '&lt;'), '>', '&gt;')\n"
        "  || CASE WHEN COALESCE(sources_stale, 0) > 0 THEN ' · sources périmées : ' || sources_stale ELSE '' END\n"
        "  || ' · contrôles réussis ' || checks_passed || ', échecs bloquants ' || checks_failed\n"
        "  || ', avertissements ' || checks_warned\n"
        "  || ' · <a href=\"/oref/rapports/' || run_id || '\" target=\"_blank\">'\n"
        "  || 'lire le rapport de cette exécution</a></div>'\n"
        "  AS header_html\n"
        "FROM last_run"
    ),
    columns=(("run_id", "VARCHAR"), ("header_html", "VARCHAR")),
)

CHECKS = Dataset(
    "controles", "oref_qualite", "quality",
    "Les contrôles de chaque exécution (Great Expectations, contrats de fichiers, tests dbt), avec leur message."
    + QUALITY_DESCRIPTION,
    sql=(
        "SELECT c.run_id, r.started_at, c.source, c.check_name, c.engine,\n"
        "  CASE c.severity WHEN 'error' THEN 'erreur' WHEN 'warn' THEN 'avertissement' ELSE c.severity END"
        " AS severity_label,\n"
        "  CASE WHEN c.status = 'pass' THEN 'réussi' WHEN c.severity = 'error' THEN 'échec' ELSE 'avertissement' END"
        " AS outcome,\n"
        "  c.message, c.observed, c.target, c.checked_at\n"
        "FROM quality.check_results AS c\n"
        "LEFT JOIN quality.runs AS r ON c.run_id = r.run_id"
    ),
    columns=(
        ("run_id", "VARCHAR"), ("started_at", "TIMESTAMP"), ("source", "VARCHAR"), ("check_name", "VARCHAR"),
        ("engine", "VARCHAR"), ("severity_label", "VARCHAR"), ("outcome", "VARCHAR"), ("message", "VARCHAR"),
        ("observed", "VARCHAR"), ("target", "VARCHAR"), ("checked_at", "TIMESTAMP"),
    ),
    metrics=(
        Metric("controles", "Contrôles", "COUNT(*)", COUNT),
        Metric("echecs", "Échecs bloquants", "COUNT(*) FILTER (WHERE outcome = 'échec')", COUNT),
        Metric("avertissements", "Avertissements", "COUNT(*) FILTER (WHERE outcome = 'avertissement')", COUNT),
        Metric("reussis", "Contrôles réussis", "COUNT(*) FILTER (WHERE outcome = 'réussi')", COUNT),
    ),
    main_dttm_col="started_at",
)

FRESHNESS = Dataset(
    "fraicheur_sources", "oref_qualite", "quality",
    "Les fichiers de chaque source utilisés par la dernière exécution : millésime, date de téléchargement, âge,"
    " lignes et empreinte." + QUALITY_DESCRIPTION,
    sql=(
        # the latest run that recorded files (a run that failed early may have none)
        "WITH last_run AS (SELECT r.run_id FROM quality.runs AS r\n"
        "  WHERE r.run_id IN (SELECT run_id FROM quality.source_files)\n"
        "  ORDER BY r.started_at DESC LIMIT 1)\n"
        "SELECT f.source, f.name, f.data_vintage, f.vintage AS landed_vintage, f.fetched_at,\n"
        "  date_diff('day', f.fetched_at, current_timestamp::timestamp) AS age_days,\n"
        "  f.rows, f.bytes, left(f.sha256, 12) AS sha256_short, f.url\n"
        "FROM quality.source_files AS f\n"
        "JOIN last_run USING (run_id)"
    ),
    columns=(
        ("source", "VARCHAR"), ("name", "VARCHAR"), ("data_vintage", "VARCHAR"), ("landed_vintage", "VARCHAR"),
        ("fetched_at", "TIMESTAMP"), ("age_days", "BIGINT"), ("rows", "BIGINT"), ("bytes", "BIGINT"),
        ("sha256_short", "VARCHAR"), ("url", "VARCHAR"),
    ),
)

SOURCE_STATES = Dataset(
    "etat_sources", "oref_qualite", "quality",
    "L'état de chaque source à la dernière exécution : nouveau fichier, inchangée, périmée (la récupération a"
    " échoué et le dernier fichier valide a servi), en échec ou non récupérée ; millésime, âge, lignes et"
    " empreinte, à côté de ceux de la publication précédente." + QUALITY_DESCRIPTION,
    sql=(
        # the latest run that recorded source states (a run stopped by the lock records none)
        "WITH last_run AS (SELECT r.run_id FROM quality.runs AS r\n"
        "  WHERE r.run_id IN (SELECT run_id FROM quality.source_status)\n"
        "  ORDER BY r.started_at DESC LIMIT 1)\n"
        "SELECT s.source,\n"
        "  CASE s.status WHEN 'landed' THEN 'nouveau fichier' WHEN 'unchanged' THEN 'inchangée'\n"
        "    WHEN 'stale' THEN 'périmée : dernier fichier valide utilisé' WHEN 'failed' THEN 'en échec'\n"
        "    WHEN 'skipped' THEN 'non récupérée' ELSE s.status END AS state_label,\n"
        "  CASE s.policy WHEN 'use_last_good' THEN 'dernier fichier valide' WHEN 'block' THEN 'bloque'\n"
        "    ELSE s.policy END AS policy_label,\n"
        "  s.data_vintage, s.previous_data_vintage, s.landed_at,\n"
        "  CAST(floor(s.age_days) AS BIGINT) AS age_days, s.rows, s.previous_rows,\n"
        "  left(s.sha256, 12) AS sha256_short, COALESCE(s.message, '') AS message\n"
        "FROM quality.source_status AS s\n"
        "JOIN last_run USING (run_id)"
    ),
    columns=(
        ("source", "VARCHAR"), ("state_label", "VARCHAR"), ("policy_label", "VARCHAR"), ("data_vintage", "VARCHAR"),
        ("previous_data_vintage", "VARCHAR"), ("landed_at", "TIMESTAMP"), ("age_days", "BIGINT"), ("rows", "BIGINT"),
        ("previous_rows", "BIGINT"), ("sha256_short", "VARCHAR"), ("message", "VARCHAR"),
    ),
)

QUALITY_LABELS: dict[str, str] = {
    "started_at": "Début",
    "started_label": "Début",
    "finished_at": "Fin",
    "territory": "Territoire",
    "source_mode": "Mode",
    "status_label": "Statut",
    "reason": "Raison",
    "sources_fetched": "Sources mises à jour",
    "sources_unchanged": "Sources inchangées",
    "sources_failed": "Sources en échec",
    "sources_stale": "Sources périmées",
    "state_label": "État",
    "policy_label": "En cas d'échec",
    "previous_data_vintage": "Millésime publié avant",
    "landed_at": "Déposé le",
    "previous_rows": "Lignes avant",
    "checks_passed": "Contrôles réussis",
    "checks_failed": "Échecs bloquants",
    "checks_warned": "Avertissements",
    "report_link": "Rapport",
    "report_path": "Fichier du rapport",
    "source": "Source",
    "check_name": "Contrôle",
    "engine": "Moteur",
    "severity_label": "Sévérité",
    "outcome": "Résultat",
    "message": "Message",
    "observed": "Observé",
    "target": "Cible du contrôle",
    "checked_at": "Contrôlé le",
    "name": "Fichier",
    "data_vintage": "Millésime des données",
    "landed_vintage": "Version déposée",
    "fetched_at": "Téléchargé le",
    "age_days": "Âge (jours)",
    "rows": "Lignes",
    "bytes": "Octets",
    "sha256_short": "SHA-256 (début)",
    "url": "Adresse",
    "banner_color": "Couleur",
}

ALL: tuple[Dataset, ...] = (
    CONTEXT, TERRITORIES, INDICATORS, SCORECARD, RECRUITMENT, TRAINING, JOB_OFFERS, FTTH_MAP, TENSIONS, SKILLS_GAP,
    RUNS, LAST_RUN, CHECKS, FRESHNESS, SOURCE_STATES,
)
