{#-
    Establishments of digital companies (Sirene, via recherche-entreprises) in the scope, one row
    per establishment (SIRET) as known at extraction, active or closed, with the digital perimeter
    of its NAF code, its headcount band and its creation date.
-#}

with

establishments as (
    select * from {{ ref('stg_sirene__establishments') }}
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

naf_perimeters as (
    select
        code_naf,
        perimeter
    from {{ ref('naf_digital_perimeters') }}
),

final as (
    select
        cast(e.establishment_id as varchar) as establishment_id,
        cast(e.company_id as varchar) as company_id,
        cast(e.company_name as varchar) as company_name,
        cast(e.code_naf as varchar) as code_naf,
        cast(p.perimeter as varchar) as naf_perimeter,
        {{ naf_in_perimeter('p.perimeter', 'it_core') }} as is_it_core,
        {{ naf_in_perimeter('p.perimeter', 'ict_services') }} as is_ict_services,
        {{ naf_in_perimeter('p.perimeter', 'ict_oecd') }} as is_ict_oecd,
        cast(e.commune_code as varchar) as commune_code,
        cast(c.epci_code as varchar) as epci_code,
        cast(c.zone_code as varchar) as zone_code,
        cast(c.employment_zone_code as varchar) as employment_zone_code,
        cast(c.basin_code as varchar) as basin_code,
        cast(e.department_code as varchar) as department_code,
        cast(c.region_code as varchar) as region_code,
        cast(e.headcount_band_code as varchar) as headcount_band_code,
        -- Sirene bands: NN / empty = no employee, 00 = none at 31/12, 01 = 1-2, 02 = 3-5, 03 = 6-9
        coalesce(e.headcount_band_code, 'NN') in ('NN', '00', '01', '02', '03') as is_very_small,
        e.created_date,
        cast(year(e.created_date) as integer) as created_year,
        e.closed_date,
        cast(e.is_active as boolean) as is_active,
        cast(e.is_head_office as boolean) as is_head_office,
        cast(strftime(cast(e.fetched_at as date), '%Y-%m') as varchar) as snapshot_period,
        cast(year(cast(e.fetched_at as date)) as integer) as snapshot_year,
        cast(e.source_vintage as varchar) as source_vintage,
        cast({{ run_id_literal() }} as varchar) as run_id
    from establishments as e
    left join communes as c on e.commune_code = c.commune_code
    left join naf_perimeters as p on e.code_naf = p.code_naf
    where {{ in_scope('e.department_code', 'c.region_code') }}
)

select * from final
