with

source as (
    select * from {{ source('sirene', 'establishments') }}
),

renamed as (
    select
        siret as establishment_id,
        siren as company_id,
        company_name,
        company_naf as company_code_naf,
        company_category,
        legal_form as legal_form_code,
        naf_code as code_naf,
        commune_code,
        -- overseas départements have three-digit codes (972), the others two (75, 2A)
        case
            when commune_code like '97%' then substr(commune_code, 1, 3)
            else substr(commune_code, 1, 2)
        end as department_code,
        commune_label,
        postal_code,
        -- 'NN' or missing: no salaried headcount known, kept NULL rather than zero
        nullif(tranche_effectif_salarie, 'NN') as headcount_band_code,
        try_cast(tranche_effectif_year as integer) as headcount_band_year,
        try_cast(date_creation as date) as created_date,
        try_cast(date_fermeture as date) as closed_date,
        etat_administratif as administrative_status,
        etat_administratif = 'A' as is_active,
        is_siege as is_head_office,
        siege_commune_code as head_office_commune_code,
        {{ provenance_columns() }}
    from source
)

select * from renamed
