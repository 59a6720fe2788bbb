{#- The periods for which the configured territory has data, from every source. Yearly for now. -#}

with

recruitment_years as (
    select distinct survey_year as year
    from {{ ref('stg_france_travail__bmo') }}
    where {{ in_territory('department_code', 'region_code') }}
),

employment_years as (
    select distinct e.year
    from {{ ref('stg_urssaf__establishments') }} as e
    -- Urssaf's own région codes are not trusted to match the COG's: take the département's
    left join {{ ref('stg_insee__departements') }} as d
        on e.department_code = d.department_code
    where {{ in_territory('e.department_code', 'd.region_code') }}
),

years as (
    select year from recruitment_years
    union
    select year from employment_years
),

final as (
    select
        cast(year as varchar) as period,
        cast(year as integer) as year,
        cast('year' as varchar) as period_type,
        make_date(year, 1, 1) as period_start_date,
        make_date(year, 12, 31) as period_end_date
    from years
)

select * from final
