with

source as (
    select * from {{ source('geo', 'epci_communes') }}
),

renamed as (
    select
        codgeo as commune_code,
        libgeo as commune_name,
        -- INSEE's placeholder ZZZZZZZZZ means "no EPCI": keep the commune, without an EPCI
        nullif(epci, 'ZZZZZZZZZ') as epci_code,
        case when epci != 'ZZZZZZZZZ' then libepci end as epci_name,
        dep as department_code,
        reg as region_code,
        {{ provenance_columns() }}
    from source
)

select * from renamed
