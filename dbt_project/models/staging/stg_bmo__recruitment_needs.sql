with

source as (
    select * from {{ source('bmo', 'recruitment_needs') }}
),

renamed as (
    select
        cast(survey_year as integer) as survey_year,
        occupation_code,
        occupation_label,
        family_code,
        family_label,
        region_code,
        region_name,
        department_code,
        department_name,
        basin_code,
        basin_name,
        -- Counts arrive as the file's text. "*" is statistical secrecy (too few answers to
        -- publish): it becomes NULL plus a flag, never 0, so sums stay sums of published cells.
        -- Anything else that is not an integer makes the cast, hence the build, fail loudly.
        case
            when trim(met) = '*' then null
            else cast(trim(met) as integer)
        end as recruitment_projects,
        case
            when trim(xmet) = '*' then null
            else cast(trim(xmet) as integer)
        end as difficult_projects,
        case
            when trim(smet) = '*' then null
            else cast(trim(smet) as integer)
        end as seasonal_projects,
        coalesce(trim(met) = '*', false) as is_projects_suppressed,
        coalesce(trim(xmet) = '*', false) as is_difficult_suppressed,
        coalesce(trim(smet) = '*', false) as is_seasonal_suppressed,
        nomenclature_version,
        basin_column,
        {{ provenance_columns() }}
    from source
)

select * from renamed
