{#-
    Urssaf indicators (préconisation 1) for every commune, EPCI, zone, zone d'emploi, bassin,
    département and région of the scope. Blank cells (statistical secrecy) are never read as
    zero: value is the sum of the published cells and suppressed_count the number of blank ones;
    value is NULL when every cell is blank, 0 only when there is no cell.
-#}

with

employment as (
    select
        commune_code,
        epci_code,
        zone_code,
        employment_zone_code,
        basin_code,
        department_code,
        region_code,
        period,
        is_ict_services,
        establishments,
        headcount,
        is_establishments_blank,
        is_headcount_blank,
        source_vintage
    from {{ ref('fct_employment') }}
),

zones as (
    select
        zone_code,
        zone_role
    from {{ ref('epci_zone') }}
),

-- each Urssaf cell counts towards its commune, EPCI, zone, zone d'emploi, bassin, département
-- and région
employment_by_territory as (
    {{ union_territory_levels('employment', commune_levels(), [
        'zone_code as cell_zone_code', 'period', 'is_ict_services', 'establishments', 'headcount',
        'is_establishments_blank', 'is_headcount_blank', 'source_vintage',
    ]) }}
),

centre_zones as (
    select distinct zone_code
    from zones
    where zone_role = 'centre'
),

employment_aggregates as (
    select
        territory_level,
        territory_code,
        period,
        max(source_vintage) as source_vintage,
        sum(case
            when is_ict_services and not is_establishments_blank then establishments
        end) as digital_establishments,
        count(case
            when is_ict_services and not is_establishments_blank then 1
        end) as establishments_published_cells,
        count(case
            when is_ict_services and is_establishments_blank then 1
        end) as establishments_blank_cells,
        sum(case
            when is_ict_services and not is_headcount_blank then headcount
        end) as digital_headcount,
        count(case
            when is_ict_services and not is_headcount_blank then 1
        end) as headcount_published_cells,
        count(case
            when is_ict_services and is_headcount_blank then 1
        end) as headcount_blank_cells,
        sum(case when not is_headcount_blank then headcount end) as total_headcount,
        count(case when is_headcount_blank then 1 end) as total_headcount_blank_cells,
        sum(case
            when
                is_ict_services and not is_headcount_blank
                and cell_zone_code in (select cz.zone_code from centre_zones as cz)
                then headcount
        end) as centre_digital_headcount,
        -- the concentration needs the zone of every cell: a commune outside any zone makes it unknown
        count(case when cell_zone_code is null then 1 end) as cells_without_zone,
        count(case
            when cell_zone_code in (select cz.zone_code from centre_zones as cz) then 1
        end) as centre_cells
    from employment_by_territory
    group by territory_level, territory_code, period
),

employment_indicators as (
    {{ indicator_rows('urssaf_digital_establishments', 'employment_aggregates',
        value=secret_aware_sum('digital_establishments', 'establishments_published_cells', 'establishments_blank_cells'),
        suppressed_count='establishments_blank_cells') }}
    union all
    {{ indicator_rows('urssaf_digital_headcount', 'employment_aggregates',
        value=secret_aware_sum('digital_headcount', 'headcount_published_cells', 'headcount_blank_cells'),
        suppressed_count='headcount_blank_cells') }}
    union all
    {{ indicator_rows('urssaf_digital_headcount_share', 'employment_aggregates',
        numerator='coalesce(digital_headcount, 0)', denominator='total_headcount',
        suppressed_count='total_headcount_blank_cells') }}
    union all
    -- only where the territory has a Centre zone and every cell is located in a zone
    {{ indicator_rows('urssaf_digital_centre_share', 'employment_aggregates',
        numerator='coalesce(centre_digital_headcount, 0)', denominator='digital_headcount',
        suppressed_count='headcount_blank_cells',
        where="territory_level in ('departement', 'region') and centre_cells > 0 and cells_without_zone = 0") }}
)

select * from employment_indicators
