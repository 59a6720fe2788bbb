{#-
    Sirene indicators (préconisation 1) for every commune, EPCI, zone, zone d'emploi, bassin,
    département and région of the scope, over the establishments of the ict_services NAF
    perimeter: the share of very small active establishments at extraction, and the creations of
    each complete year.
-#}

with

enterprises as (
    select
        commune_code,
        epci_code,
        zone_code,
        employment_zone_code,
        basin_code,
        department_code,
        region_code,
        is_ict_services,
        is_very_small,
        is_active,
        created_year,
        snapshot_period,
        snapshot_year,
        source_vintage
    from {{ ref('fct_enterprises') }}
    where is_ict_services
),

by_territory as (
    {{ union_territory_levels('enterprises', commune_levels(), [
        'is_very_small', 'is_active', 'created_year', 'snapshot_period', 'snapshot_year',
        'source_vintage',
    ]) }}
),

stock as (
    select
        territory_level,
        territory_code,
        snapshot_period as period,
        count(case when is_active and is_very_small then 1 end) as very_small_active,
        count(case when is_active then 1 end) as active,
        max(source_vintage) as source_vintage
    from by_territory
    group by territory_level, territory_code, snapshot_period
),

-- a territory with establishments gets a value (possibly 0) for every complete year since the
-- first creation it knows; the extraction year, incomplete, is left out
territory_years as (
    select
        territory_level,
        territory_code,
        min(created_year) as first_year,
        max(snapshot_year) - 1 as last_year,
        max(source_vintage) as source_vintage
    from by_territory
    group by territory_level, territory_code
),

bounds as (
    select
        min(first_year) as first_year,
        max(last_year) as last_year
    from territory_years
),

all_years as (
    select unnest(generate_series(first_year, last_year)) as year
    from bounds
),

years as (
    select
        t.territory_level,
        t.territory_code,
        t.source_vintage,
        cast(y.year as integer) as year
    from territory_years as t
    inner join all_years as y on y.year between t.first_year and t.last_year
),

creations as (
    select
        y.territory_level,
        y.territory_code,
        cast(y.year as varchar) as period,
        count(b.created_year) as created,
        y.source_vintage
    from years as y
    left join by_territory as b
        on
            y.territory_level = b.territory_level
            and y.territory_code = b.territory_code
            and y.year = b.created_year
    group by y.territory_level, y.territory_code, y.year, y.source_vintage
),

final as (
    {{ indicator_rows('sirene_very_small_firm_share', 'stock',
        numerator='very_small_active', denominator='active') }}
    union all
    {{ indicator_rows('sirene_digital_creations', 'creations', value='created') }}
)

select * from final
