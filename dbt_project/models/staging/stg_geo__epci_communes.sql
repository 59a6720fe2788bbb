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
        _source as source_name,
        _source_url as source_url,
        _file_sha256 as file_sha256,
        _vintage as source_vintage,
        _fetched_at as fetched_at,
        _run_id as load_run_id
    from source
)

select * from renamed
