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
        {{ provenance_columns() }}
    from source
)

select * from renamed
