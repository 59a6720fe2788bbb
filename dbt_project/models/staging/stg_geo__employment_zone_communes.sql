with

source as (
    select * from {{ source('geo', 'employment_zone_communes') }}
),

renamed as (
    select
        codgeo as commune_code,
        libgeo as commune_name,
        ze2020 as employment_zone_code,
        libze2020 as employment_zone_name,
        -- filled only for the few zones that straddle two régions: the région's part of the zone
        ze2020_partie_reg as employment_zone_regional_part_code,
        dep as department_code,
        reg as region_code,
        {{ provenance_columns() }}
    from source
)

select * from renamed
