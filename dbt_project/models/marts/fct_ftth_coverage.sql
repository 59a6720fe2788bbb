{#-
    FttH deployment by commune and quarter (ARCEP): premises and FttH-connectable premises, in the
    scope. The premises count is the latest one ARCEP publishes for the commune (one value for
    every quarter); the coverage rate is capped at 1 because ARCEP's premises estimate can lag
    behind the connectable count.
-#}

with

communes_static as (
    select
        commune_code,
        department_code,
        premises,
        source_vintage
    from {{ ref('stg_arcep__ftth_communes') }}
),

quarterly as (
    select
        commune_code,
        period_quarter,
        year,
        quarter_number,
        quarter_end_date,
        ftth_connectable_premises
    from {{ ref('stg_arcep__ftth_quarterly') }}
),

communes as (
    select
        territory_code as commune_code,
        epci_code,
        zone_code,
        employment_zone_code,
        basin_code,
        region_code
    from {{ ref('dim_territory') }}
    where territory_level = 'commune'
),

final as (
    select
        cast(q.commune_code as varchar) as commune_code,
        cast(c.epci_code as varchar) as epci_code,
        cast(c.zone_code as varchar) as zone_code,
        cast(c.employment_zone_code as varchar) as employment_zone_code,
        cast(c.basin_code as varchar) as basin_code,
        cast(s.department_code as varchar) as department_code,
        cast(c.region_code as varchar) as region_code,
        cast(q.period_quarter as varchar) as period,
        cast(q.year as integer) as year,
        cast(q.quarter_number as integer) as quarter_number,
        q.quarter_end_date,
        cast(s.premises as double) as premises,
        cast(q.ftth_connectable_premises as double) as ftth_connectable_premises,
        cast(case
            when s.premises > 0 then least(q.ftth_connectable_premises / s.premises, 1.0)
        end as double) as ftth_coverage_rate,
        cast(s.source_vintage as varchar) as source_vintage,
        cast({{ run_id_literal() }} as varchar) as run_id
    from quarterly as q
    inner join communes_static as s on q.commune_code = s.commune_code
    left join communes as c on q.commune_code = c.commune_code
    where {{ in_scope('s.department_code', 'c.region_code') }}
)

select * from final
