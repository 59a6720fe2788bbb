with

source as (
    select * from {{ source('arcep', 'ftth_quarterly') }}
),

renamed as (
    select
        commune_code,
        quarter as period_quarter,
        cast(substr(quarter, 1, 4) as integer) as year,
        cast(substr(quarter, 7, 1) as integer) as quarter_number,
        -- last day of the quarter: the counts are stocks at the end of each quarter
        cast(
            make_date(cast(substr(quarter, 1, 4) as integer), cast(substr(quarter, 7, 1) as integer) * 3, 1)
            + interval 1 month - interval 1 day as date
        ) as quarter_end_date,
        cast(connectable as double) as ftth_connectable_premises,
        _source as source_name,
        _source_url as source_url,
        _file_sha256 as file_sha256,
        _vintage as source_vintage,
        _fetched_at as fetched_at,
        _run_id as load_run_id
    from source
)

select * from renamed
