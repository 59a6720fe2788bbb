with

source as (
    select * from {{ source('geo', 'regions') }}
),

renamed as (
    select
        reg as region_code,
        libelle as region_name,
        cheflieu as chief_town_code,
        tncc as name_type_code,
        ncc as region_name_upper,
        nccenr as region_name_rich,
        _source as source_name,
        _source_url as source_url,
        _file_sha256 as file_sha256,
        _vintage as source_vintage,
        _fetched_at as fetched_at,
        _run_id as load_run_id
    from source
)

select * from renamed
