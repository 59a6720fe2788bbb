{#-
    BMO recruitment projects in the digital métiers, per survey year, territory (bassin,
    département, région, France) and métier, for the socle dashboard. A secret cell ("*" in the
    file) is never a zero: recruitment_projects sums the published cells only and is NULL when
    every cell of the métier is secret; projects_display says "secret statistique" then, and the
    métier's label carries the mention so that a bar chart shows the métier without a bar.
-#}

{%- set levels = [
    ('bassin_bmo', 'basin_code'),
    ('departement', 'department_code'),
    ('region', 'region_code'),
    ('pays', "'FR'"),
] -%}

with

needs as (
    select
        survey_year,
        period,
        basin_code,
        department_code,
        region_code,
        occupation_code,
        occupation_label,
        skill_domain_code,
        level_band_code,
        recruitment_projects,
        difficult_projects,
        is_projects_suppressed,
        is_difficult_suppressed,
        source_vintage
    from {{ ref('fct_recruitment_needs') }}
    where is_digital
),

needs_by_territory as (
    {{ union_territory_levels('needs', levels, [
        'survey_year', 'period', 'occupation_code', 'occupation_label', 'skill_domain_code',
        'level_band_code', 'recruitment_projects', 'difficult_projects', 'is_projects_suppressed',
        'is_difficult_suppressed', 'source_vintage',
    ]) }}
),

aggregated as (
    select
        survey_year,
        period,
        territory_level,
        territory_code,
        occupation_code,
        max(occupation_label) as occupation_label,
        max(skill_domain_code) as skill_domain_code,
        max(level_band_code) as level_band_code,
        max(source_vintage) as source_vintage,
        count(*) as cell_count,
        count(case when is_projects_suppressed then 1 end) as suppressed_cells,
        sum(case when not is_projects_suppressed then recruitment_projects end) as published_projects,
        -- the difficult share uses the cells where both counts are published
        sum(case
            when not is_projects_suppressed and not is_difficult_suppressed then difficult_projects
        end) as difficult_projects,
        sum(case
            when not is_projects_suppressed and not is_difficult_suppressed then recruitment_projects
        end) as projects_with_known_difficulty
    from needs_by_territory
    group by survey_year, period, territory_level, territory_code, occupation_code
),

territories as (
    select
        territory_code,
        territory_level,
        territory_level_label,
        territory_label,
        comparison_group,
        is_configured_territory,
        territory_sort
    from {{ ref('dash_territories') }}
),

skill_domains as (
    select
        skill_domain_code,
        skill_domain_label
    from {{ ref('dim_skill_domain') }}
),

-- short labels for chart axes; the official labels stay in occupation_label
short_labels as (
    select
        occupation_code,
        short_label
    from {{ ref('digital_fap2021') }}
),

periods as (
    select
        period,
        period_start_date
    from {{ ref('dim_period') }}
),

latest as (
    select max(survey_year) as latest_year
    from aggregated
),

final as (
    select
        cast(a.survey_year as integer) as survey_year,
        cast(a.period as varchar) as period,
        cast(p.period_start_date as date) as period_date,
        cast(a.survey_year = l.latest_year as boolean) as is_latest_period,
        cast(a.territory_code as varchar) as territory_code,
        cast(a.territory_level as varchar) as territory_level,
        cast(t.territory_level_label as varchar) as territory_level_label,
        cast(t.territory_label as varchar) as territory_label,
        cast(t.comparison_group as varchar) as comparison_group,
        cast(t.is_configured_territory as boolean) as is_configured_territory,
        cast(t.territory_sort as integer) as territory_sort,
        cast(a.occupation_code as varchar) as occupation_code,
        cast(a.occupation_label as varchar) as occupation_label,
        cast(
            coalesce(sl.short_label, a.occupation_label)
            || case when a.suppressed_cells = a.cell_count then ' (secret)' else '' end
            as varchar
        ) as occupation_display,
        cast(coalesce(sl.short_label, a.occupation_label) as varchar) as occupation_short_label,
        cast(a.skill_domain_code as varchar) as skill_domain_code,
        cast(sd.skill_domain_label as varchar) as skill_domain_label,
        cast(a.level_band_code as varchar) as level_band_code,
        cast(
            {{ secret_aware_sum(
                'a.published_projects', 'a.cell_count - a.suppressed_cells', 'a.suppressed_cells'
            ) }}
            as integer
        ) as recruitment_projects,
        cast(a.difficult_projects as integer) as difficult_projects,
        cast(a.projects_with_known_difficulty as integer) as projects_with_known_difficulty,
        cast(a.cell_count as integer) as cell_count,
        cast(a.suppressed_cells as integer) as suppressed_cells,
        cast(a.suppressed_cells = a.cell_count as boolean) as is_all_secret,
        cast(case
            when a.suppressed_cells = a.cell_count then 'secret statistique'
            when a.suppressed_cells > 0
                then
                    'au moins ' || {{ fr_number('a.published_projects') }}
                    || ' ('
                    || a.suppressed_cells
                    || ' cellule'
                    || case when a.suppressed_cells > 1 then 's' else '' end
                    || ' sous secret)'
            else {{ fr_number('a.published_projects') }}
        end as varchar) as projects_display,
        cast(case
            when a.projects_with_known_difficulty is null and a.suppressed_cells > 0 then 'secret statistique'
            else {{ fr_number('coalesce(a.difficult_projects, 0)') }}
        end as varchar) as difficult_display,
        cast(a.source_vintage as varchar) as source_vintage
    from aggregated as a
    -- inner join: territories outside the scope and duplicated régions are left out
    inner join territories as t
        on
            a.territory_level = t.territory_level
            and a.territory_code = t.territory_code
    left join skill_domains as sd on a.skill_domain_code = sd.skill_domain_code
    left join short_labels as sl on a.occupation_code = sl.occupation_code
    left join periods as p on a.period = p.period
    cross join latest as l
)

select * from final
