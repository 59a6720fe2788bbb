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
        _source as source_name,
        _source_url as source_url,
        _file_sha256 as file_sha256,
        _vintage as source_vintage,
        _fetched_at as fetched_at,
        _run_id as load_run_id
    from source
)

select * from renamed
