{#-
    The digital training offer of the Mon Compte Formation catalogue for the training dashboard:
    per extraction month, territory (département, région, France is not covered: the extract is
    fetched for the scope only), skill domain and level band, the counts from which every share
    of the dashboard is computed (certifying, remote, Bac+4/5). The catalogue locates an offer by
    département only, so there is no zone or commune level here.
-#}

{%- set levels = [
    ('departement', 'department_code'),
    ('region', 'region_code'),
] -%}

with

offers as (
    select
        training_offer_id,
        department_code,
        region_code,
        snapshot_period,
        skill_domain_code,
        is_emerging,
        coalesce(level_band_code, 'niveau_non_precise') as level_band_code,
        exit_level_code,
        is_certifying,
        has_remote_session,
        coalesce(active_session_count, 0) as active_session_count,
        certification_id,
        source_vintage
    from {{ ref('fct_training_offer') }}
    where is_digital
),

offers_by_territory as (
    {{ union_territory_levels('offers', levels, [
        'training_offer_id', 'snapshot_period', 'skill_domain_code', 'is_emerging', 'level_band_code',
        'exit_level_code', 'is_certifying', 'has_remote_session', 'active_session_count',
        'certification_id', 'source_vintage',
    ]) }}
),

aggregated as (
    select
        snapshot_period,
        territory_level,
        territory_code,
        skill_domain_code,
        level_band_code,
        max(source_vintage) as source_vintage,
        count(distinct training_offer_id) as training_offers,
        sum(active_session_count) as active_sessions,
        count(distinct case when is_certifying then training_offer_id end) as certifying_offers,
        count(distinct case when has_remote_session then training_offer_id end) as remote_offers,
        count(distinct case when exit_level_code is not null then training_offer_id end)
            as known_level_offers,
        count(distinct case when exit_level_code in ('NIV7', 'NIV8') then training_offer_id end)
            as niv7_offers,
        count(distinct certification_id) as certifications
    from offers_by_territory
    group by snapshot_period, territory_level, territory_code, skill_domain_code, level_band_code
),

territories as (
    select
        territory_code,
        territory_level,
        territory_level_label,
        territory_label,
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
        cast(a.training_offers as integer) as training_offers,
        cast(a.active_sessions as integer) as active_sessions,
        cast(a.certifying_offers as integer) as certifying_offers,
        cast(a.remote_offers as integer) as remote_offers,
        cast(a.known_level_offers as integer) as known_level_offers,
        cast(a.niv7_offers as integer) as niv7_offers,
        cast(a.certifications as integer) as certifications,
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
