{#-
    BMO recruitment projects for the whole of France (the file is national: the comparison
    territories and France entière are computed from it), one row per bassin x métier x survey
    year (x département, for the rare bassin that straddles two). Secret cells keep NULL counts
    with is_*_suppressed = true. Column names are a public interface (Superset).
-#}

with

bmo as (
    select * from {{ ref('stg_bmo__recruitment_needs') }}
),

-- the digital perimeter, mapped explicitly in each nomenclature BMO used: FAP2009 until the
-- 2023 survey, FAP2021 from 2024 (the two lists are not the same métiers)
digital_occupations as (
    select
        occupation_code,
        nomenclature_version,
        skill_domain_code
    from {{ ref('digital_fap2021') }}
    union all
    select
        occupation_code,
        nomenclature_version,
        skill_domain_code
    from {{ ref('digital_fap2009') }}
),

final as (
    select
        cast(b.survey_year as integer) as survey_year,
        cast(b.survey_year as varchar) as period,
        cast(b.region_code as varchar) as region_code,
        cast(b.department_code as varchar) as department_code,
        cast(b.basin_code as varchar) as basin_code,
        cast(b.basin_name as varchar) as basin_name,
        cast(b.occupation_code as varchar) as occupation_code,
        cast(b.occupation_label as varchar) as occupation_label,
        d.occupation_code is not null as is_digital,
        cast(d.skill_domain_code as varchar) as skill_domain_code,
        -- FAP2021 digital métiers: M1X.. are technicians (up to Bac+2), M2X.. engineers and
        -- managers (Bac+4/5): the level band used by mart_skills_gap
        cast(case
            when d.occupation_code is null then null
            when b.occupation_code like 'M2%' then 'niv7_plus'
            else 'niv5_moins'
        end as varchar) as level_band_code,
        cast(b.recruitment_projects as integer) as recruitment_projects,
        cast(b.difficult_projects as integer) as difficult_projects,
        cast(b.seasonal_projects as integer) as seasonal_projects,
        b.is_projects_suppressed,
        b.is_difficult_suppressed,
        b.is_seasonal_suppressed,
        cast(b.nomenclature_version as varchar) as nomenclature_version,
        cast(b.source_vintage as varchar) as source_vintage,
        cast({{ run_id_literal() }} as varchar) as run_id
    from bmo as b
    -- a code is digital in its own nomenclature only: a FAP2009 code is never read as FAP2021
    left join digital_occupations as d
        on
            b.occupation_code = d.occupation_code
            and b.nomenclature_version = d.nomenclature_version
)

select * from final
