{#-
    Supply / demand ratios (préconisations 4 and 5) from mart_skills_gap: training offers over job
    offers, summed over the socle domains (development, infrastructure & networks, fibre &
    telecom, support & maintenance) and over the emerging ones (AI, cybersecurity, data), all
    levels together. NULL when the territory has no job offer in those domains.
-#}

{%- set socle_domains = [
    'developpement', 'infrastructure_reseaux', 'fibre_telecom', 'support_maintenance',
] -%}
{%- set socle = "('" ~ socle_domains | join("', '") ~ "')" -%}

with

gap as (
    select
        territory_level,
        territory_code,
        skill_domain_code,
        is_emerging,
        demand_job_offers,
        supply_training_offers,
        job_offers_period,
        training_period
    from {{ ref('mart_skills_gap') }}
    where job_offers_period is not null and training_period is not null
),

sums as (
    select
        territory_level,
        territory_code,
        max(job_offers_period) as period,
        max(job_offers_period) || ' / ' || max(training_period) as source_vintage,
        sum(case
            when
                skill_domain_code in {{ socle }}
                then supply_training_offers
            else 0
        end) as socle_supply,
        sum(case
            when
                skill_domain_code in {{ socle }}
                then demand_job_offers
            else 0
        end) as socle_demand,
        sum(case when is_emerging then supply_training_offers else 0 end) as emerging_supply,
        sum(case when is_emerging then demand_job_offers else 0 end) as emerging_demand
    from gap
    group by territory_level, territory_code
),

final as (
    {{ indicator_rows('skills_core_supply_demand_ratio', 'sums',
        numerator='socle_supply', denominator='socle_demand') }}
    union all
    {{ indicator_rows('skills_emerging_supply_demand_ratio', 'sums',
        numerator='emerging_supply', denominator='emerging_demand') }}
)

select * from final
