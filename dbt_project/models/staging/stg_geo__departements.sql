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
        {{ provenance_columns() }}
    from source
)

select * from renamed
