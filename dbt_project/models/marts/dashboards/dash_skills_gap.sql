{#-
    mart_skills_gap with the dashboards' territory labels and flags: demand (job offers, BMO
    projects) beside supply (training offers, sessions, certifications) per skill domain and
    level band, for the socle and "demain" dashboards.
-#}

with

gap as (
    select
        territory_code,
        territory_level,
        skill_domain_code,
        skill_domain_label,
        is_emerging,
        level_band_code,
        level_band_label,
        level_band_order,
        demand_job_offers,
        demand_bmo_projects,
        demand_bmo_suppressed_cells,
        supply_training_offers,
        supply_active_sessions,
        supply_certifications,
        supply_demand_ratio,
        job_offers_period,
        bmo_period,
        training_period
    from {{ ref('mart_skills_gap') }}
),

territories as (
    select
        territory_code,
        territory_level,
        territory_label,
        comparison_group,
        is_configured_territory,
        territory_sort
    from {{ ref('dash_territories') }}
),

final as (
    select
        cast(g.territory_code as varchar) as territory_code,
        cast(g.territory_level as varchar) as territory_level,
        cast(t.territory_label as varchar) as territory_label,
        cast(t.comparison_group as varchar) as comparison_group,
        cast(t.is_configured_territory as boolean) as is_configured_territory,
        cast(t.territory_sort as integer) as territory_sort,
        cast(g.skill_domain_code as varchar) as skill_domain_code,
        cast(g.skill_domain_label as varchar) as skill_domain_label,
        cast(g.is_emerging as boolean) as is_emerging,
        cast(g.level_band_code as varchar) as level_band_code,
        cast(g.level_band_label as varchar) as level_band_label,
        cast(g.level_band_order as integer) as level_band_sort,
        cast(g.demand_job_offers as integer) as demand_job_offers,
        cast(g.demand_bmo_projects as integer) as demand_bmo_projects,
        cast(g.demand_bmo_suppressed_cells as integer) as demand_bmo_suppressed_cells,
        cast(g.supply_training_offers as integer) as supply_training_offers,
        cast(g.supply_active_sessions as integer) as supply_active_sessions,
        cast(g.supply_certifications as integer) as supply_certifications,
        cast(g.supply_demand_ratio as double precision) as supply_demand_ratio,
        cast(g.job_offers_period as varchar) as job_offers_period,
        cast(g.bmo_period as varchar) as bmo_period,
        cast(g.training_period as varchar) as training_period
    from gap as g
    inner join territories as t
        on
            g.territory_level = t.territory_level
            and g.territory_code = t.territory_code
)

select * from final
