{#-
    The serving table: one row per indicator x territory x period, in long form. Indicator
    codes and column names are a public interface (dashboards, open data): never rename them.

    Statistical secrecy (BMO "*", Urssaf blanks) is never read as zero. For a sum:
      - value is the sum of the published cells; suppressed_count says how many were not;
      - value is NULL when every cell is secret (unknown), and 0 only when there is no cell.
    A territory that extends beyond the configured one (dim_territory.is_partial) is skipped:
    in-scope data alone would understate it.
-#}

{%- set recruitment_levels = [
    ('bassin_bmo', 'basin_code'),
    ('departement', 'department_code'),
    ('region', 'region_code'),
] -%}

{%- set employment_levels = [
    ('commune', 'commune_code'),
    ('epci', 'epci_code'),
    ('zone', 'zone_code'),
    ('departement', 'department_code'),
    ('region', 'region_code'),
] -%}

with

catalogue as (
    select
        indicator_code,
        label_fr,
        unit
    from {{ ref('indicator_catalogue') }}
),

territories as (
    select
        territory_code,
        territory_level,
        territory_name
    from {{ ref('dim_territory') }}
    where not is_partial
),

recruitment as (
    select
        basin_code,
        department_code,
        region_code,
        period,
        is_digital,
        recruitment_projects,
        difficult_projects,
        is_projects_suppressed,
        is_difficult_suppressed,
        source_vintage
    from {{ ref('fct_recruitment_needs') }}
),

employment as (
    select
        commune_code,
        epci_code,
        zone_code,
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

-- each BMO cell counts towards its bassin, its département and its région
recruitment_by_territory as (
    {%- for level, column in recruitment_levels %}
        select
            '{{ level }}' as territory_level,
            {{ column }} as territory_code,
            period,
            is_digital,
            recruitment_projects,
            difficult_projects,
            is_projects_suppressed,
            is_difficult_suppressed,
            source_vintage
        from recruitment
        {% if not loop.last -%} union all {%- endif %}
    {%- endfor %}
),

recruitment_aggregates as (
    select
        territory_level,
        territory_code,
        period,
        max(source_vintage) as source_vintage,
        ---------- digital métiers
        sum(case
            when is_digital and not is_projects_suppressed then recruitment_projects
        end) as digital_projects,
        count(case
            when is_digital and not is_projects_suppressed then 1
        end) as digital_published_cells,
        count(case
            when is_digital and is_projects_suppressed then 1
        end) as digital_suppressed_cells,
        -- the difficult share only uses cells where both counts are published, so that the
        -- numerator and the denominator cover the same cells
        sum(case
            when is_digital and not is_projects_suppressed and not is_difficult_suppressed
                then difficult_projects
        end) as digital_difficult_numerator,
        sum(case
            when is_digital and not is_projects_suppressed and not is_difficult_suppressed
                then recruitment_projects
        end) as digital_difficult_denominator,
        count(case
            when is_digital and (is_projects_suppressed or is_difficult_suppressed) then 1
        end) as digital_difficult_excluded_cells,
        ---------- all métiers
        sum(case
            when not is_projects_suppressed then recruitment_projects
        end) as total_projects,
        count(case
            when not is_projects_suppressed then 1
        end) as total_published_cells,
        count(case
            when is_projects_suppressed then 1
        end) as total_suppressed_cells
    from recruitment_by_territory
    group by territory_level, territory_code, period
),

recruitment_indicators as (
    select
        'bmo_digital_recruitment_projects' as indicator_code,
        territory_level,
        territory_code,
        period,
        case
            when digital_published_cells > 0 then cast(digital_projects as double precision)
            when digital_suppressed_cells = 0 then 0
        end as value,
        cast(null as double precision) as numerator,
        cast(null as double precision) as denominator,
        digital_suppressed_cells as suppressed_count,
        source_vintage
    from recruitment_aggregates

    union all

    select
        'bmo_digital_suppressed_cells' as indicator_code,
        territory_level,
        territory_code,
        period,
        cast(digital_suppressed_cells as double precision) as value,
        cast(null as double precision) as numerator,
        cast(null as double precision) as denominator,
        digital_suppressed_cells as suppressed_count,
        source_vintage
    from recruitment_aggregates

    union all

    select
        'bmo_digital_difficult_share' as indicator_code,
        territory_level,
        territory_code,
        period,
        cast(digital_difficult_numerator as double precision)
        / nullif(cast(digital_difficult_denominator as double precision), 0) as value,
        cast(digital_difficult_numerator as double precision) as numerator,
        cast(digital_difficult_denominator as double precision) as denominator,
        digital_difficult_excluded_cells as suppressed_count,
        source_vintage
    from recruitment_aggregates

    union all

    select
        'bmo_recruitment_projects_total' as indicator_code,
        territory_level,
        territory_code,
        period,
        case
            when total_published_cells > 0 then cast(total_projects as double precision)
            when total_suppressed_cells = 0 then 0
        end as value,
        cast(null as double precision) as numerator,
        cast(null as double precision) as denominator,
        total_suppressed_cells as suppressed_count,
        source_vintage
    from recruitment_aggregates
),

-- each Urssaf cell counts towards its commune, EPCI, zone, département and région
employment_by_territory as (
    {%- for level, column in employment_levels %}
        select
            '{{ level }}' as territory_level,
            {{ column }} as territory_code,
            period,
            is_ict_services,
            establishments,
            headcount,
            is_establishments_blank,
            is_headcount_blank,
            source_vintage
        from employment
        {% if not loop.last -%} union all {%- endif %}
    {%- endfor %}
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
        end) as headcount_blank_cells
    from employment_by_territory
    group by territory_level, territory_code, period
),

employment_indicators as (
    select
        'urssaf_digital_establishments' as indicator_code,
        territory_level,
        territory_code,
        period,
        case
            when establishments_published_cells > 0 then cast(digital_establishments as double precision)
            when establishments_blank_cells = 0 then 0
        end as value,
        cast(null as double precision) as numerator,
        cast(null as double precision) as denominator,
        establishments_blank_cells as suppressed_count,
        source_vintage
    from employment_aggregates

    union all

    select
        'urssaf_digital_headcount' as indicator_code,
        territory_level,
        territory_code,
        period,
        case
            when headcount_published_cells > 0 then cast(digital_headcount as double precision)
            when headcount_blank_cells = 0 then 0
        end as value,
        cast(null as double precision) as numerator,
        cast(null as double precision) as denominator,
        headcount_blank_cells as suppressed_count,
        source_vintage
    from employment_aggregates
),

indicators as (
    select * from recruitment_indicators
    union all
    select * from employment_indicators
),

final as (
    select
        cast(i.indicator_code as varchar) as indicator_code,
        cast(c.label_fr as varchar) as indicator_label,
        cast(i.territory_code as varchar) as territory_code,
        cast(i.territory_level as varchar) as territory_level,
        cast(t.territory_name as varchar) as territory_name,
        cast(i.period as varchar) as period,
        cast(i.value as double precision) as value,
        cast(i.numerator as double precision) as numerator,
        cast(i.denominator as double precision) as denominator,
        cast(i.suppressed_count as integer) as suppressed_count,
        cast(c.unit as varchar) as unit,
        cast(i.source_vintage as varchar) as source_vintage
    from indicators as i
    -- inner join: drops partial territories and cells without a code at that level
    -- (a commune outside any EPCI, an EPCI outside any zone)
    inner join territories as t
        on
            i.territory_level = t.territory_level
            and i.territory_code = t.territory_code
    -- left join: an indicator missing from the catalogue fails the not_null test on its label
    -- instead of vanishing
    left join catalogue as c on i.indicator_code = c.indicator_code
)

select * from final
