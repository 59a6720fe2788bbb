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
        {{ provenance_columns() }}
    from source
)

select * from renamed
