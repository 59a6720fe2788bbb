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
        {{ provenance_columns() }}
    from source
    -- INSEE files communes outside any EPCI (a few islands) under the placeholder ZZZZZZZZZ:
    -- it is not an intercommunality.
    where epci != 'ZZZZZZZZZ'
)

select * from renamed
