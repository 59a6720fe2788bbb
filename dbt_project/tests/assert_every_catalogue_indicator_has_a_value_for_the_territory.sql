{#-
    Every indicator of the catalogue has a value (not NULL) for the configured territory in its
    latest period: an indicator the dashboards show empty for the territory is a build failure.
-#}

with

catalogue as (
    select indicator_code
    from {{ ref('indicator_catalogue') }}
),

territory_values as (
    select
        indicator_code,
        period,
        value,
        row_number() over (partition by indicator_code order by period desc) as recency
    from {{ ref('mart_indicators') }}
    where
        territory_level = '{{ territory_kind() }}'
        and territory_code = '{{ territory_code() }}'
),

latest as (
    select
        indicator_code,
        period,
        value
    from territory_values
    where recency = 1
)

select
    c.indicator_code,
    l.period as latest_period,
    l.value as latest_value
from catalogue as c
left join latest as l on c.indicator_code = l.indicator_code
where l.value is null
