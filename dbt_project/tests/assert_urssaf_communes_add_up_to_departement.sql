{#-
    The Urssaf digital indicators of a département must equal the sum of its communes' (values
    and blank-cell counts alike). A gap means establishments rows whose commune is missing from
    dim_territory (an Urssaf commune code unknown to the COG, e.g. after a merger), which the
    commune, EPCI and zone figures would silently lose.
-#}

with

indicators as (
    select
        indicator_code,
        territory_level,
        territory_code,
        period,
        value,
        suppressed_count
    from {{ ref('mart_indicators') }}
    where indicator_code in ('urssaf_digital_establishments', 'urssaf_digital_headcount')
),

communes as (
    select
        territory_code as commune_code,
        department_code
    from {{ ref('dim_territory') }}
    where territory_level = 'commune'
),

commune_totals as (
    select
        i.indicator_code,
        c.department_code,
        i.period,
        sum(coalesce(i.value, 0)) as value,
        sum(i.suppressed_count) as suppressed_count
    from indicators as i
    inner join communes as c on i.territory_code = c.commune_code
    where i.territory_level = 'commune'
    group by i.indicator_code, c.department_code, i.period
),

departement_totals as (
    select
        indicator_code,
        territory_code as department_code,
        period,
        coalesce(value, 0) as value,
        suppressed_count
    from indicators
    where territory_level = 'departement'
)

select
    d.indicator_code,
    d.department_code,
    d.period,
    d.value as departement_value,
    c.value as communes_value,
    d.suppressed_count as departement_suppressed_count,
    c.suppressed_count as communes_suppressed_count
from departement_totals as d
left join commune_totals as c
    on
        d.indicator_code = c.indicator_code
        and d.department_code = c.department_code
        and d.period = c.period
where
    c.indicator_code is null
    or d.value != c.value
    or d.suppressed_count != c.suppressed_count
