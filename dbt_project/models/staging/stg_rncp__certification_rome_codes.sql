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
        {{ provenance_columns() }}
    from source
)

select * from renamed
