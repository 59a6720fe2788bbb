{#-
    Every indicator of the catalogue has a value (not NULL) for the configured territory in its
    latest period: an indicator the dashboards show empty for the territory is a build failure.
    One exception, narrow: a year-on-year change (model ind_growth) is NULL, never a number, when
    either year has secret cells, as every DROM's BMO digital projects (2024 and 2025) and Urssaf
    département totals (blank cells every year) have in the bundled snapshot. That NULL is the
    right value and its note says so; a NULL change for any other reason still fails.
-#}

with

catalogue as (
    select
        indicator_code,
        model
    from {{ ref('indicator_catalogue') }}
),

territory_values as (
    select
        indicator_code,
        period,
        value,
        value_note,
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
        value,
        value_note
    from territory_values
    where recency = 1
)

select
    c.indicator_code,
    l.period as latest_period,
    l.value as latest_value,
    l.value_note as latest_value_note
from catalogue as c
left join latest as l on c.indicator_code = l.indicator_code
where
    l.value is null
    and not (
        c.model = 'ind_growth'
        and l.period is not null
        and l.value_note like 'variation non calculée : cellules sous secret statistique%'
    )
