with

source as (
    select * from {{ source('rncp', 'certification_formacodes') }}
),

renamed as (
    select
        numero_fiche as certification_id,
        formacode_code as formacode,
        trim(
            regexp_replace(replace(formacode_libelle, '''''', ''''), '\s+', ' ', 'g')
        ) as formacode_label,
        _source as source_name,
        _source_url as source_url,
        _file_sha256 as file_sha256,
        _vintage as source_vintage,
        _fetched_at as fetched_at,
        _run_id as load_run_id
    from source
)

select * from renamed
