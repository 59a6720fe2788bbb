with

source as (
    select * from {{ source('geo', 'epci') }}
),

renamed as (
    select
        epci as epci_code,
        libepci as epci_name,
        nature_epci as epci_nature,
        cast(nb_com as integer) as commune_count,
        _source as source_name,
        _source_url as source_url,
        _file_sha256 as file_sha256,
        _vintage as source_vintage,
        _fetched_at as fetched_at,
        _run_id as load_run_id
    from source
    -- INSEE files communes outside any EPCI (a few islands) under the placeholder ZZZZZZZZZ:
    -- it is not an intercommunality.
    where epci != 'ZZZZZZZZZ'
)

select * from renamed
