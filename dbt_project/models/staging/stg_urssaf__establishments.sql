with

source as (
    select * from {{ source('urssaf', 'establishments') }}
),

renamed as (
    select
        code_commune as commune_code,
        intitule_commune as commune_label,
        code_departement as department_code,
        departement as department_label,
        code_region as region_code,
        region as region_label,
        -- Urssaf freezes its geography (EPCI as of 1 January 2023, 2020 employment zones): these
        -- are kept for reference only, the marts take EPCIs from the current COG.
        code_epci as urssaf_epci_code,
        epci as urssaf_epci_label,
        code_zone_d_emploi as employment_zone_code,
        zone_d_emploi as employment_zone_label,
        code_ape as code_naf_compact,
        -- Urssaf writes APE codes without the dot (6201Z), Sirene with it (62.01Z): normalise once,
        -- here, so every mart joins on the dotted form.
        case
            when length(code_ape) = 5 and position('.' in code_ape) = 0
                then substr(code_ape, 1, 2) || '.' || substr(code_ape, 3, 3)
            else code_ape
        end as code_naf,
        ape as naf_label,
        secteur_na88 as sector_na88,
        grand_secteur_d_activite as broad_sector,
        cast(year as integer) as year,
        -- a blank cell in the file stays NULL: unknown, not zero
        cast(establishments as integer) as establishments,
        cast(headcount as integer) as headcount,
        {{ provenance_columns() }}
    from source
)

select * from renamed
