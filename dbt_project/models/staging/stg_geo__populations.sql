with

source as (
    select * from {{ source('geo', 'populations') }}
),

renamed as (
    select
        -- built at load from DEP + CODCOM (2-character number in the DROM: 972 + 09 = 97209)
        commune_code,
        com as commune_name,
        dep as department_code,
        reg as region_code,
        codcom as commune_number,
        pmun as municipal_population,
        pcap as population_counted_apart,
        ptot as total_population,
        _vintage as population_year,
        {{ provenance_columns() }}
    from source
)

select * from renamed
