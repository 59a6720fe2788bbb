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
        _source as source_name,
        _source_url as source_url,
        _file_sha256 as file_sha256,
        _vintage as source_vintage,
        _fetched_at as fetched_at,
        _run_id as load_run_id
    from source
)

select * from renamed
