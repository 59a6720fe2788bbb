{#-
    Additive indicators computed from commune-grain facts must add up: the communes of an EPCI,
    of a zone, of a zone d'emploi, of a BMO bassin and of a département sum to that territory's
    value (values and blank-cell counts alike). A gap means fact rows whose commune is missing
    from dim_territory (a commune code unknown to the COG, e.g. after a merger), which the
    commune, EPCI, zone, zone d'emploi and bassin figures would silently lose.
-#}

{%- set additive = [
    'urssaf_digital_establishments',
    'urssaf_digital_headcount',
    'sirene_digital_creations',
] -%}

{%- set parents = [
    ('epci', 'epci_code'),
    ('zone', 'zone_code'),
    ('zone_emploi', 'employment_zone_code'),
    ('bassin_bmo', 'basin_code'),
    ('departement', 'department_code'),
] -%}

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
    where indicator_code in ('{{ additive | join("', '") }}')
),

communes as (
    select
        territory_code as commune_code,
        epci_code,
        zone_code,
        employment_zone_code,
        basin_code,
        department_code
    from {{ ref('dim_territory') }}
    where territory_level = 'commune'
),

commune_totals as (
    {%- for level, column in parents %}
        select
            '{{ level }}' as territory_level,
            c.{{ column }} as territory_code,
            i.indicator_code,
            i.period,
            sum(coalesce(i.value, 0)) as value,
            sum(i.suppressed_count) as suppressed_count
        from indicators as i
        inner join communes as c on i.territory_code = c.commune_code
        where i.territory_level = 'commune' and c.{{ column }} is not null
        group by c.{{ column }}, i.indicator_code, i.period
        {% if not loop.last -%} union all {%- endif %}
    {%- endfor %}
),

parent_totals as (
    select
        territory_level,
        territory_code,
        indicator_code,
        period,
        coalesce(value, 0) as value,
        suppressed_count
    from indicators
    where territory_level in (
        {%- for level, _ in parents %}
            '{{ level }}'{% if not loop.last %},{% endif %}
        {%- endfor %}
    )
)

select
    p.indicator_code,
    p.territory_level,
    p.territory_code,
    p.period,
    p.value as parent_value,
    c.value as communes_value,
    p.suppressed_count as parent_suppressed_count,
    c.suppressed_count as communes_suppressed_count
from parent_totals as p
left join commune_totals as c
    on
        p.territory_level = c.territory_level
        and p.territory_code = c.territory_code
        and p.indicator_code = c.indicator_code
        and p.period = c.period
where
    c.indicator_code is null
    or p.value != c.value
    or p.suppressed_count != c.suppressed_count
