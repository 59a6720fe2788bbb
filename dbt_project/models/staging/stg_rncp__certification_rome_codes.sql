with

source as (
    select * from {{ source('rncp', 'certification_rome_codes') }}
),

renamed as (
    select
        numero_fiche as certification_id,
        codes_rome_code as rome_code,
        -- the export still uses ROME V3 codes and labels (532 fiches), not ROME 4.0
        'V3' as rome_version,
        -- labels double their apostrophes (d''information): repaired here
        trim(
            regexp_replace(replace(codes_rome_libelle, '''''', ''''), '\s+', ' ', 'g')
        ) as rome_label,
        _source as source_name,
        _source_url as source_url,
        _file_sha256 as file_sha256,
        _vintage as source_vintage,
        _fetched_at as fetched_at,
        _run_id as load_run_id
    from source
)

select * from renamed
