with

source as (
    select * from {{ source('geo', 'employment_zones') }}
),

renamed as (
    select
        ze2020 as employment_zone_code,
        libze2020 as employment_zone_name,
        cast(nb_com as integer) as commune_count,
        {{ provenance_columns() }}
    from source
)

select * from renamed
