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
        {{ provenance_columns() }}
    from source
)

select * from renamed
