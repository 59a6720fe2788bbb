with

source as (
    select * from {{ source('geo', 'communes') }}
),

renamed as (
    select
        com as commune_code,
        libelle as commune_name,
        dep as department_code,
        reg as region_code,
        ctcd as collectivity_code,
        arr as arrondissement_code,
        can as canton_code,
        tncc as name_type_code,
        ncc as commune_name_upper,
        nccenr as commune_name_rich,
        {{ provenance_columns() }}
    from source
    -- The COG also lists delegated and associated communes and the municipal arrondissements of
    -- Paris, Lyon and Marseille (COMD, COMA, ARM): only current communes (COM) belong to an EPCI
    -- and are the unit other sources publish at.
    where typecom = 'COM'
)

select * from renamed
