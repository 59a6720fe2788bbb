{#-
    FttH coverage of the configured territory's communes at the latest quarter, one row per
    commune polygon, for the map of the infrastructure dashboard. Communes without a bundled
    contour (commune_polygons covers Martinique only) are absent from the map but not from the
    coverage charts, which read dash_indicators.
-#}

with

coverage as (
    select
        commune_code,
        period,
        premises,
        ftth_connectable_premises,
        ftth_coverage_rate,
        source_vintage
    from {{ ref('fct_ftth_coverage') }}
),

latest as (
    select max(period) as latest_period
    from coverage
),

territories as (
    select
        territory_code,
        territory_name,
        territory_label,
        zone_label
    from {{ ref('dash_territories') }}
    where territory_level = 'commune' and comparison_group = 'territoire'
),

polygons as (
    select
        commune_code,
        polygon_number,
        polygon_geojson
    from {{ ref('commune_polygons') }}
),

periods as (
    select
        period,
        period_label
    from {{ ref('dim_period') }}
),

final as (
    select
        cast(c.commune_code as varchar) as commune_code,
        cast(t.territory_name as varchar) as commune_name,
        cast(t.territory_label as varchar) as territory_label,
        cast(t.zone_label as varchar) as zone_label,
        cast(p.polygon_number as integer) as polygon_number,
        cast(p.polygon_geojson as varchar) as polygon_geojson,
        cast(c.period as varchar) as period,
        cast(pr.period_label as varchar) as period_label,
        cast(c.premises as double precision) as premises,
        cast(c.ftth_connectable_premises as double precision) as ftth_connectable_premises,
        cast(c.ftth_coverage_rate as double precision) as ftth_coverage_rate,
        cast(c.source_vintage as varchar) as source_vintage
    from coverage as c
    inner join latest as l on c.period = l.latest_period
    inner join territories as t on c.commune_code = t.territory_code
    inner join polygons as p on c.commune_code = p.commune_code
    left join periods as pr on c.period = pr.period
)

select * from final
