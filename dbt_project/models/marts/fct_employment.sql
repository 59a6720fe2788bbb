{#-
    Urssaf private-sector employer establishments and salaried headcount in the configured
    territory and the comparison départements, one row per commune x NAF code x year, with the
    digital perimeters the code belongs to. Blank cells stay NULL (flagged is_*_blank): unknown is not zero.
-#}

with

establishments as (
    select * from {{ ref('stg_urssaf__establishments') }}
),

departements as (
    select
        department_code,
        region_code
    from {{ ref('stg_geo__departements') }}
),

-- EPCI, zone, zone d'emploi and bassin from the current COG, not from Urssaf's frozen 2023 geography
communes as (
    select
        territory_code as commune_code,
        epci_code,
        zone_code,
        employment_zone_code,
        basin_code
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
        cast(e.year as integer) as year,
        cast(e.year as varchar) as period,
        cast(d.region_code as varchar) as region_code,
        cast(e.department_code as varchar) as department_code,
        cast(c.epci_code as varchar) as epci_code,
        cast(c.zone_code as varchar) as zone_code,
        cast(c.employment_zone_code as varchar) as employment_zone_code,
        cast(c.basin_code as varchar) as basin_code,
        cast(e.commune_code as varchar) as commune_code,
        cast(e.code_naf as varchar) as code_naf,
        cast(e.code_naf_compact as varchar) as code_naf_compact,
        cast(e.naf_label as varchar) as naf_label,
        cast(p.perimeter as varchar) as naf_perimeter,
        {{ naf_in_perimeter('p.perimeter', 'it_core') }} as is_it_core,
        {{ naf_in_perimeter('p.perimeter', 'ict_services') }} as is_ict_services,
        {{ naf_in_perimeter('p.perimeter', 'ict_oecd') }} as is_ict_oecd,
        cast(e.establishments as integer) as establishments,
        cast(e.headcount as integer) as headcount,
        e.establishments is null as is_establishments_blank,
        e.headcount is null as is_headcount_blank,
        cast(e.source_vintage as varchar) as source_vintage,
        cast({{ run_id_literal() }} as varchar) as run_id
    from establishments as e
    -- Urssaf's own région codes are not trusted to match the COG's: take the département's
    left join departements as d on e.department_code = d.department_code
    left join communes as c on e.commune_code = c.commune_code
    left join naf_perimeters as p on e.code_naf = p.code_naf
    where {{ in_scope('e.department_code', 'd.region_code') }}
)

select * from final
