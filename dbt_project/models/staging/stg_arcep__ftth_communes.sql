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
        _source as source_name,
        _source_url as source_url,
        _file_sha256 as file_sha256,
        _vintage as source_vintage,
        _fetched_at as fetched_at,
        _run_id as load_run_id
    from source
)

select * from renamed
