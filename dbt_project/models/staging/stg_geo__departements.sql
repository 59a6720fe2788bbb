with

source as (
    select * from {{ source('geo', 'departements') }}
),

renamed as (
    select
        dep as department_code,
        reg as region_code,
        libelle as department_name,
        cheflieu as chief_town_code,
        tncc as name_type_code,
        ncc as department_name_upper,
        nccenr as department_name_rich,
        _source as source_name,
        _source_url as source_url,
        _file_sha256 as file_sha256,
        _vintage as source_vintage,
        _fetched_at as fetched_at,
        _run_id as load_run_id
    from source
)

select * from renamed
