{#-
    BMO indicators (préconisation 4) for every bassin, département and région of the scope and for
    France entière (the file is national). Statistical secrecy ("*") is never read as zero: for a
    sum, value is the sum of the published cells and suppressed_count the number of secret ones;
    value is NULL when every cell is secret, 0 only when there is no cell, and value_note says so.
    Each period carries its nomenclature (FAP2009 until 2023, FAP2021 from 2024) as
    series_definition: the scorecard and the annual changes only compare periods of the same one.
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
        nomenclature_version,
        source_vintage
    from {{ ref('fct_recruitment_needs') }}
),

-- each BMO cell counts towards its bassin, its département, its région and France entière
recruitment_by_territory as (
    {{ union_territory_levels('recruitment', recruitment_levels, [
        'period', 'is_digital', 'recruitment_projects', 'difficult_projects',
        'is_projects_suppressed', 'is_difficult_suppressed', 'nomenclature_version', 'source_vintage',
    ]) }}
),

recruitment_aggregates as (
    select
        territory_level,
        territory_code,
        period,
        max(source_vintage) as source_vintage,
        -- one survey, one nomenclature
        max(nomenclature_version) as series_definition,
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
    {{ indicator_rows('bmo_digital_recruitment_projects', 'recruitment_aggregates',
        value=secret_aware_sum('digital_projects', 'digital_published_cells', 'digital_suppressed_cells'),
        suppressed_count='digital_suppressed_cells', definition='series_definition',
        note=secret_note('digital_published_cells', 'digital_suppressed_cells')) }}
    union all
    {{ indicator_rows('bmo_digital_suppressed_cells', 'recruitment_aggregates',
        value='digital_suppressed_cells', suppressed_count='digital_suppressed_cells',
        definition='series_definition') }}
    union all
    {{ indicator_rows('bmo_digital_difficult_share', 'recruitment_aggregates',
        numerator='digital_difficult_numerator', denominator='digital_difficult_denominator',
        suppressed_count='digital_difficult_excluded_cells', definition='series_definition',
        note=secret_note('digital_difficult_denominator', 'digital_difficult_excluded_cells')) }}
    union all
    {{ indicator_rows('bmo_recruitment_projects_total', 'recruitment_aggregates',
        value=secret_aware_sum('total_projects', 'total_published_cells', 'total_suppressed_cells'),
        suppressed_count='total_suppressed_cells', definition='series_definition',
        note=secret_note('total_published_cells', 'total_suppressed_cells')) }}
)

select * from recruitment_indicators
