{#-
    France Travail job-offer indicators (préconisations 4 and 5) for every commune, EPCI, zone,
    département and région of the scope: digital offers online at extraction, and those in the
    emerging domains (AI, cybersecurity, data).
-#}

with

offers as (
    select
        commune_code,
        epci_code,
        zone_code,
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
    select
        'offers_digital_job_offers' as indicator_code,
        territory_level,
        territory_code,
        period,
        cast(digital_offers as double precision) as value,
        cast(null as double precision) as numerator,
        cast(null as double precision) as denominator,
        0 as suppressed_count,
        source_vintage
    from aggregates

    union all

    select
        'offers_emerging_job_offers' as indicator_code,
        territory_level,
        territory_code,
        period,
        cast(emerging_offers as double precision) as value,
        cast(null as double precision) as numerator,
        cast(null as double precision) as denominator,
        0 as suppressed_count,
        source_vintage
    from aggregates
)

select * from final
