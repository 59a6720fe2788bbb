{#-
    Skills gap (préconisations 4 and 5): for every département and région of the scope, digital
    skill domain and level band, the job demand (France Travail offers online at the latest
    extraction; BMO recruitment projects of the latest survey, digital FAP2021 métiers) beside the
    training supply
    (Mon Compte Formation offers, active sessions and certifications reachable), with the ratio of
    training offers to job offers. Every domain x band is listed for a territory with data on
    either side, zeros included. Offers whose level is unknown form the band 'niveau_non_precise'.
-#}

with

territories as (
    select
        territory_code,
        territory_level,
        territory_name
    from {{ ref('dim_territory') }}
    where territory_level in ('departement', 'region') and not is_partial
),

domains as (
    select
        skill_domain_code,
        skill_domain_label,
        is_emerging
    from {{ ref('skill_domains') }}
),

bands as (
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

-- offers and the catalogue are monthly extracts, one period each: the gap reads the latest one
latest_job_offers as (
    select *
    from {{ ref('fct_job_offers') }}
    where snapshot_period = (select max(f.snapshot_period) from {{ ref('fct_job_offers') }} as f)
),

latest_training_offers as (
    select *
    from {{ ref('fct_training_offer') }}
    where snapshot_period = (select max(f.snapshot_period) from {{ ref('fct_training_offer') }} as f)
),

job_offers as (
    {{ union_territory_levels('latest_job_offers', department_levels(), [
        'skill_domain_code', 'level_band_code', 'snapshot_period', 'is_digital',
    ]) }}
),

training as (
    {{ union_territory_levels('latest_training_offers', department_levels(), [
        'skill_domain_code', "coalesce(level_band_code, 'niveau_non_precise') as level_band_code",
        'snapshot_period', 'is_digital', 'active_session_count', 'certification_id',
    ]) }}
),

recruitment as (
    {{ union_territory_levels(ref('fct_recruitment_needs'), department_levels(), [
        'skill_domain_code', 'level_band_code', 'survey_year', 'is_digital', 'recruitment_projects',
        'is_projects_suppressed',
    ]) }}
),

latest_survey as (
    select
        territory_level,
        territory_code,
        max(survey_year) as survey_year
    from recruitment
    group by territory_level, territory_code
),

demand_offers as (
    select
        territory_level,
        territory_code,
        skill_domain_code,
        level_band_code,
        count(*) as job_offers,
        max(snapshot_period) as job_offers_period
    from job_offers
    where is_digital
    group by territory_level, territory_code, skill_domain_code, level_band_code
),

demand_bmo as (
    select
        r.territory_level,
        r.territory_code,
        r.skill_domain_code,
        r.level_band_code,
        sum(case when not r.is_projects_suppressed then r.recruitment_projects else 0 end) as bmo_projects,
        count(case when r.is_projects_suppressed then 1 end) as bmo_suppressed_cells,
        cast(max(r.survey_year) as varchar) as bmo_period
    from recruitment as r
    inner join latest_survey as l
        on
            r.territory_level = l.territory_level
            and r.territory_code = l.territory_code
            and r.survey_year = l.survey_year
    where r.is_digital
    group by r.territory_level, r.territory_code, r.skill_domain_code, r.level_band_code
),

supply as (
    select
        territory_level,
        territory_code,
        skill_domain_code,
        level_band_code,
        count(*) as training_offers,
        sum(coalesce(active_session_count, 0)) as active_sessions,
        count(distinct certification_id) as certifications,
        max(snapshot_period) as training_period
    from training
    where is_digital
    group by territory_level, territory_code, skill_domain_code, level_band_code
),

territories_with_data as (
    select
        territory_level,
        territory_code
    from demand_offers
    union
    select
        territory_level,
        territory_code
    from demand_bmo
    union
    select
        territory_level,
        territory_code
    from supply
),

periods as (
    select
        t.territory_level,
        t.territory_code,
        (
            select max(o.job_offers_period) from demand_offers as o
            where o.territory_level = t.territory_level and o.territory_code = t.territory_code)
            as job_offers_period,
        (
            select max(b.bmo_period) from demand_bmo as b
            where b.territory_level = t.territory_level and b.territory_code = t.territory_code)
            as bmo_period,
        (
            select max(s.training_period) from supply as s
            where s.territory_level = t.territory_level and s.territory_code = t.territory_code)
            as training_period
    from territories_with_data as t
),

grid as (
    select
        t.territory_code,
        t.territory_level,
        t.territory_name,
        d.skill_domain_code,
        d.skill_domain_label,
        d.is_emerging,
        b.level_band_code,
        b.level_band_label,
        b.level_band_order
    from territories as t
    inner join territories_with_data as w
        on t.territory_level = w.territory_level and t.territory_code = w.territory_code
    cross join domains as d
    cross join bands as b
),

final as (
    select
        cast(g.territory_code as varchar) as territory_code,
        cast(g.territory_level as varchar) as territory_level,
        cast(g.territory_name as varchar) as territory_name,
        cast(g.skill_domain_code as varchar) as skill_domain_code,
        cast(g.skill_domain_label as varchar) as skill_domain_label,
        cast(g.is_emerging as boolean) as is_emerging,
        cast(g.level_band_code as varchar) as level_band_code,
        cast(g.level_band_label as varchar) as level_band_label,
        cast(g.level_band_order as integer) as level_band_order,
        cast(coalesce(o.job_offers, 0) as integer) as demand_job_offers,
        cast(coalesce(r.bmo_projects, 0) as integer) as demand_bmo_projects,
        cast(coalesce(r.bmo_suppressed_cells, 0) as integer) as demand_bmo_suppressed_cells,
        cast(coalesce(s.training_offers, 0) as integer) as supply_training_offers,
        cast(coalesce(s.active_sessions, 0) as integer) as supply_active_sessions,
        cast(coalesce(s.certifications, 0) as integer) as supply_certifications,
        cast(
            cast(coalesce(s.training_offers, 0) as double precision) / nullif(o.job_offers, 0)
            as double precision
        ) as supply_demand_ratio,
        cast(p.job_offers_period as varchar) as job_offers_period,
        cast(p.bmo_period as varchar) as bmo_period,
        cast(p.training_period as varchar) as training_period,
        cast({{ run_id_literal() }} as varchar) as run_id
    from grid as g
    inner join periods as p
        on g.territory_level = p.territory_level and g.territory_code = p.territory_code
    left join demand_offers as o
        on
            g.territory_level = o.territory_level
            and g.territory_code = o.territory_code
            and g.skill_domain_code = o.skill_domain_code
            and g.level_band_code = o.level_band_code
    left join demand_bmo as r
        on
            g.territory_level = r.territory_level
            and g.territory_code = r.territory_code
            and g.skill_domain_code = r.skill_domain_code
            and g.level_band_code = r.level_band_code
    left join supply as s
        on
            g.territory_level = s.territory_level
            and g.territory_code = s.territory_code
            and g.skill_domain_code = s.skill_domain_code
            and g.level_band_code = s.level_band_code
)

select * from final
