{#-
    Digital job offers online at France Travail on the extraction date, for the socle and
    "demain" dashboards: per extraction month, territory (commune, intercommunalité, zone, zone
    d'emploi, bassin, département, région), skill domain and level band, the number of offers,
    the emerging ones (AI, cybersecurity, data) and those France Travail flags as short of
    candidates.
-#}

with

offers as (
    select
        offer_id,
        commune_code,
        epci_code,
        zone_code,
        employment_zone_code,
        basin_code,
        department_code,
        region_code,
        snapshot_period,
        skill_domain_code,
        level_band_code,
        is_emerging,
        is_short_of_candidates,
        source_vintage
    from {{ ref('fct_job_offers') }}
    where is_digital
),

offers_by_territory as (
    {{ union_territory_levels('offers', commune_levels(), [
        'offer_id', 'snapshot_period', 'skill_domain_code', 'level_band_code', 'is_emerging',
        'is_short_of_candidates', 'source_vintage',
    ]) }}
),

aggregated as (
    select
        snapshot_period,
        territory_level,
        territory_code,
        skill_domain_code,
        coalesce(level_band_code, 'niveau_non_precise') as level_band_code,
        max(source_vintage) as source_vintage,
        count(distinct offer_id) as job_offers,
        count(distinct case when is_short_of_candidates then offer_id end) as short_of_candidates_offers
    from offers_by_territory
    group by snapshot_period, territory_level, territory_code, skill_domain_code, level_band_code
),

territories as (
    select
        territory_code,
        territory_level,
        territory_level_label,
        territory_label,
        zone_label,
        comparison_group,
        is_configured_territory,
        territory_sort
    from {{ ref('dash_territories') }}
),

skill_domains as (
    select
        skill_domain_code,
        skill_domain_label,
        is_emerging,
        sort_order
    from {{ ref('dim_skill_domain') }}
),

level_bands as (
    select distinct
        level_band_code,
        level_band_label,
        level_band_order
    from {{ ref('exit_level_bands') }}
    union all
    select
        'niveau_non_precise' as level_band_code,
        'Niveau non précisé' as level_band_label,
        99 as level_band_order
),

periods as (
    select
        period,
        period_start_date,
        period_label
    from {{ ref('dim_period') }}
),

latest as (
    select max(snapshot_period) as latest_period
    from aggregated
),

final as (
    select
        cast(a.snapshot_period as varchar) as period,
        cast(p.period_start_date as date) as period_date,
        cast(p.period_label as varchar) as period_label,
        cast(a.snapshot_period = l.latest_period as boolean) as is_latest_period,
        cast(a.territory_code as varchar) as territory_code,
        cast(a.territory_level as varchar) as territory_level,
        cast(t.territory_level_label as varchar) as territory_level_label,
        cast(t.territory_label as varchar) as territory_label,
        cast(t.zone_label as varchar) as zone_label,
        cast(t.comparison_group as varchar) as comparison_group,
        cast(t.is_configured_territory as boolean) as is_configured_territory,
        cast(t.territory_sort as integer) as territory_sort,
        cast(a.skill_domain_code as varchar) as skill_domain_code,
        cast(sd.skill_domain_label as varchar) as skill_domain_label,
        cast(sd.is_emerging as boolean) as is_emerging,
        cast(sd.sort_order as integer) as skill_domain_sort,
        cast(a.level_band_code as varchar) as level_band_code,
        cast(lb.level_band_label as varchar) as level_band_label,
        cast(lb.level_band_order as integer) as level_band_sort,
        cast(a.job_offers as integer) as job_offers,
        cast(a.short_of_candidates_offers as integer) as short_of_candidates_offers,
        cast(a.source_vintage as varchar) as source_vintage
    from aggregated as a
    inner join territories as t
        on
            a.territory_level = t.territory_level
            and a.territory_code = t.territory_code
    left join skill_domains as sd on a.skill_domain_code = sd.skill_domain_code
    left join level_bands as lb on a.level_band_code = lb.level_band_code
    left join periods as p on a.snapshot_period = p.period
    cross join latest as l
)

select * from final
