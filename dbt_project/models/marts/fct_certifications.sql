{#-
    Certifications (RNCP / RS) reachable through the training offers of each scope département:
    one row per certification x département x catalogue extraction month, with the number of
    training offers and active sessions leading to it. The certification's level, level band and
    skill domain come from the national register (dim_certification); a certification the
    register does not know (yet) keeps NULL attributes and is_in_register = false.
-#}

with

offers as (
    select
        certification_id,
        department_code,
        region_code,
        snapshot_period,
        active_session_count,
        is_digital,
        skill_domain_code,
        source_vintage
    from {{ ref('fct_training_offer') }}
    where certification_id is not null
),

certifications as (
    select
        certification_id,
        exit_level_code,
        level_band_code,
        is_digital,
        skill_domain_code
    from {{ ref('dim_certification') }}
),

emerging_domains as (
    select skill_domain_code
    from {{ ref('skill_domains') }}
    where is_emerging
),

per_department as (
    select
        certification_id,
        department_code,
        min(region_code) as region_code,
        snapshot_period,
        count(*) as training_offer_count,
        sum(coalesce(active_session_count, 0)) as active_session_count,
        -- the register's classification wins; the offers' one fills a certification it lacks
        bool_or(is_digital) as offered_as_digital,
        min(skill_domain_code) as offered_skill_domain_code,
        max(source_vintage) as source_vintage
    from offers
    group by certification_id, department_code, snapshot_period
),

final as (
    select
        cast(p.certification_id as varchar) as certification_id,
        cast(p.department_code as varchar) as department_code,
        cast(p.region_code as varchar) as region_code,
        cast(p.snapshot_period as varchar) as snapshot_period,
        c.certification_id is not null as is_in_register,
        cast(c.exit_level_code as varchar) as exit_level_code,
        cast(c.level_band_code as varchar) as level_band_code,
        coalesce(c.is_digital, p.offered_as_digital) as is_digital,
        cast(coalesce(c.skill_domain_code, p.offered_skill_domain_code) as varchar) as skill_domain_code,
        coalesce(
            coalesce(c.skill_domain_code, p.offered_skill_domain_code)
            in (select e.skill_domain_code from emerging_domains as e),
            false
        ) as is_emerging,
        cast(p.training_offer_count as integer) as training_offer_count,
        cast(p.active_session_count as integer) as active_session_count,
        cast(p.source_vintage as varchar) as source_vintage,
        cast({{ run_id_literal() }} as varchar) as run_id
    from per_department as p
    left join certifications as c on p.certification_id = c.certification_id
)

select * from final
