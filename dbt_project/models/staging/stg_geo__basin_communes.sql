with

source as (
    select * from {{ source('geo', 'basin_communes') }}
),

-- The file is a re-export that lost the leading zeros of numeric codes (codgeo 1001 for 01001,
-- reg 1 for 01) and writes dep 97 for every DROM: the commune code gets its zero back and the
-- département is read from it (the loader refused any other shape).
cleaned as (
    select
        case
            when regexp_full_match(trim(codgeo), '[0-9]{4}') then '0' || trim(codgeo)
            else upper(trim(codgeo))
        end as commune_code,
        trim(codbe) as basin_code,
        trim(libbe) as basin_name,
        *
    from source
),

renamed as (
    select
        commune_code,
        basin_code,
        basin_name,
        case
            when commune_code like '97%' then left(commune_code, 3)
            else left(commune_code, 2)
        end as department_code,
        {{ provenance_columns() }}
    from cleaned
)

select * from renamed
