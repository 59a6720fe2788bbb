with

source as (
    select * from {{ source('arcep', 'ftth_communes') }}
),

renamed as (
    select
        commune_code,
        commune_name,
        department_code,
        -- ARCEP estimates premises with decimals (e.g. 250164,8755): kept as doubles, never rounded here
        cast(premises as double) as premises,
        premises_source,
        cast(premises_under_construction as double) as premises_under_construction,
        data_quarter,
        {{ provenance_columns() }}
    from source
)

select * from renamed
