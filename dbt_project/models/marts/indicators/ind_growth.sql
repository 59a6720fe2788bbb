{#-
    Growth indicators: the year-on-year change of a base indicator, read from the indicator model
    that computes it, for every territory and period that model has. A period compares with the
    same period one year earlier: survey or calendar year "2025" with "2024", quarter "2025-T4"
    with "2024-T4", month "2026-08" with "2025-08".

    value = (current - previous) / previous, published with numerator = current - previous and
    denominator = previous. A change computed over secret cells is NULL with a reason, never a
    number: value is NULL and value_note (French) says why when the previous period is missing,
    the two periods were computed under different definitions (BMO: FAP2009 -> FAP2021), either
    period has secret or blank cells (suppressed_count > 0, the base is then a minimum) or no
    value, or the previous value is 0. suppressed_count adds the two periods' secret cells.
-#}

{#- (growth code, the model computing the base indicator, the base indicator's code) -#}
{%- set growth_bases = [
    ('growth_urssaf_digital_establishments', 'ind_urssaf', 'urssaf_digital_establishments'),
    ('growth_urssaf_digital_headcount', 'ind_urssaf', 'urssaf_digital_headcount'),
    ('growth_arcep_ftth_coverage', 'ind_arcep', 'arcep_ftth_coverage'),
    ('growth_bmo_digital_recruitment_projects', 'ind_bmo', 'bmo_digital_recruitment_projects'),
] -%}

with

bases as (
    {%- for growth_code, model, base_code in growth_bases %}
        select
            '{{ growth_code }}' as growth_code,
            territory_level,
            territory_code,
            period,
            -- the same period one year earlier: every period format starts with its year
            cast(cast(left(period, 4) as integer) - 1 as varchar) || substr(period, 5) as previous_period,
            value,
            suppressed_count,
            source_vintage,
            series_definition
        from {{ ref(model) }}
        where indicator_code = '{{ base_code }}'
        {% if not loop.last -%} union all {%- endif %}
    {%- endfor %}
),

pairs as (
    select
        c.growth_code,
        c.territory_level,
        c.territory_code,
        c.period,
        c.previous_period,
        c.value as current_value,
        p.value as previous_value,
        p.period is not null as has_previous,
        c.suppressed_count as current_suppressed,
        coalesce(p.suppressed_count, 0) as previous_suppressed,
        c.series_definition,
        p.series_definition as previous_definition,
        c.source_vintage
    from bases as c
    left join bases as p
        on
            c.growth_code = p.growth_code
            and c.territory_level = p.territory_level
            and c.territory_code = p.territory_code
            and c.previous_period = p.period
),

-- why no change can be computed, in French; NULL when it can
reasons as (
    select
        *,
        case
            when not has_previous
                then 'variation non calculée : pas de période précédente (' || previous_period || ')'
            when coalesce(series_definition, '') != coalesce(previous_definition, '')
                then
                    'rupture de série : ' || coalesce(series_definition, 'définition inconnue') || ' en '
                    || period || ', ' || coalesce(previous_definition, 'définition inconnue') || ' en '
                    || previous_period || ' ; les deux définitions ne se comparent pas'
            when current_suppressed > 0 or previous_suppressed > 0
                then
                    'variation non calculée : cellules sous secret statistique ('
                    || concat_ws(
                        ', ',
                        case
                            when previous_suppressed > 0 then previous_period || ' : ' || previous_suppressed
                        end,
                        case when current_suppressed > 0 then period || ' : ' || current_suppressed end
                    )
                    || ')'
            when previous_value is null or current_value is null
                then
                    'variation non calculée : valeur inconnue ('
                    || concat_ws(
                        ', ',
                        case when previous_value is null then previous_period end,
                        case when current_value is null then period end
                    )
                    || ')'
            when previous_value = 0
                then
                    'variation non calculée : valeur nulle en ' || previous_period
                    || ', une variation relative n''est pas définie'
        end as growth_note
    from pairs
),

changes as (
    select
        *,
        case when growth_note is null then current_value - previous_value end as value_change,
        case when growth_note is null then previous_value end as base_value
    from reasons
),

final as (
    {%- for growth_code, model, base_code in growth_bases %}
        {{ indicator_rows(growth_code, 'changes', numerator='value_change', denominator='base_value',
            suppressed_count='current_suppressed + previous_suppressed', definition='series_definition',
            note='growth_note', where="growth_code = '" ~ growth_code ~ "'") }}
        {% if not loop.last -%} union all {%- endif %}
    {%- endfor %}
)

select * from final
