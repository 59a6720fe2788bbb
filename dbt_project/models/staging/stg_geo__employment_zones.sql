with

source as (
    select * from {{ source('geo', 'employment_zones') }}
),

renamed as (
    select
        ze2020 as employment_zone_code,
        libze2020 as employment_zone_name,
        cast(nb_com as integer) as commune_count,
        _source as source_name,
        _source_url as source_url,
        _file_sha256 as file_sha256,
        _vintage as source_vintage,
        _fetched_at as fetched_at,
        _run_id as load_run_id
    from source
)

select * from renamed
