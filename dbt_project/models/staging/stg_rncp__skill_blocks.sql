with

source as (
    select * from {{ source('rncp', 'skill_blocks') }}
),

renamed as (
    select
        numero_fiche as certification_id,
        bloc_competences_code as skill_block_code,
        -- block labels double apostrophes and may span several lines in the file
        trim(
            regexp_replace(replace(bloc_competences_libelle, '''''', ''''), '\s+', ' ', 'g')
        ) as skill_block_label,
        {{ provenance_columns() }}
    from source
)

select * from renamed
