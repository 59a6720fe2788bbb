{#-
    BMO indicators (préconisation 4) for every bassin, département and région of the scope and for
    France entière (the file is national). Statistical secrecy ("*") is never read as zero: for a
    sum, value is the sum of the published cells and suppressed_count the number of secret ones;
    value is NULL when every cell is secret, 0 only when there is no cell.
-#}

{%- set recruitment_levels = [
    ('bassin_bmo', 'basin_code'),
    ('departement', 'department_code'),
    ('region', 'region_code'),
    ('pays', "'FR'"),
] -%}

with

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

-- each BMO cell counts towards its bassin, its département, its région and France entière
recruitment_by_territory as (
    {{ union_territory_levels('recruitment', recruitment_levels, [
        'period', 'is_digital', 'recruitment_projects', 'difficult_projects',
        'is_projects_suppressed', 'is_difficult_suppressed', 'source_vintage',
    ]) }}
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
)

select * from recruitment_indicators
