{#-
    France Travail job-offer indicators (préconisations 4 and 5) for every commune, EPCI, zone,
    zone d'emploi, bassin, département and région of the scope: digital offers online at
    extraction, and those in the emerging domains (AI, cybersecurity, data).
-#}

with

offers as (
    select
        commune_code,
        epci_code,
        zone_code,
        employment_zone_code,
        basin_code,
        department_code,
        region_code,
        is_digital,
        is_emerging,
        snapshot_period,
        source_vintage
    from {{ ref('fct_job_offers') }}
),

by_territory as (
    {{ union_territory_levels('offers', commune_levels(), [
        'is_digital', 'is_emerging', 'snapshot_period', 'source_vintage',
    ]) }}
),

aggregates as (
    select
        territory_level,
        territory_code,
        snapshot_period as period,
        count(case when is_digital then 1 end) as digital_offers,
        count(case when is_digital and is_emerging then 1 end) as emerging_offers,
        max(source_vintage) as source_vintage
    from by_territory
    group by territory_level, territory_code, snapshot_period
),

final as (
    {{ indicator_rows('offers_digital_job_offers', 'aggregates', value='digital_offers') }}
    union all
    {{ indicator_rows('offers_emerging_job_offers', 'aggregates', value='emerging_offers') }}
)

select * from final
