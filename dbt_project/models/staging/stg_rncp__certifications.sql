with

source as (
    select * from {{ source('rncp', 'certifications') }}
),

renamed as (
    select
        numero_fiche as certification_id,
        cast(id_fiche as integer) as fiche_id,
        -- the register is the prefix of the number: RNCP37674 or RS5843
        regexp_extract(numero_fiche, '^(RNCP|RS)', 1) as certification_register,
        -- the bare number, as Mon Compte Formation writes it (code_rncp, code_inventaire)
        regexp_extract(numero_fiche, '[0-9]+$') as certification_number,
        -- France compétences doubles apostrophes (d''analyse) and breaks long titles over lines
        trim(
            regexp_replace(replace(intitule, '''''', ''''), '\s+', ' ', 'g')
        ) as certification_title,
        nullif(abrege_libelle, '') as short_label,
        nullif(replace(abrege_intitule, '''''', ''''), '') as short_title,
        -- NIV3..NIV8, REPRISE (registered without level) or empty (RS fiches)
        nullif(nomenclature_europe_niveau, '') as eqf_level_code,
        case
            when regexp_matches(nomenclature_europe_niveau, '^NIV[1-8]$')
                then cast(right(nomenclature_europe_niveau, 1) as integer)
        end as eqf_level,
        nullif(nomenclature_europe_intitule, '') as eqf_level_label,
        accessible_nouvelle_caledonie = 'Oui' as is_open_in_new_caledonia,
        accessible_polynesie_francaise = 'Oui' as is_open_in_french_polynesia,
        cast(strptime(nullif(date_dernier_jo, ''), '%d/%m/%Y') as date) as last_official_journal_date,
        cast(strptime(nullif(date_decision, ''), '%d/%m/%Y') as date) as decision_date,
        cast(strptime(nullif(date_fin_enregistrement, ''), '%d/%m/%Y') as date) as registration_end_date,
        cast(strptime(nullif(date_effet, ''), '%d/%m/%Y') as date) as effective_date,
        nullif(type_enregistrement, '') as registration_type,
        case nullif(validation_partielle, '')
            when 'Oui' then true
            when 'Non' then false
        end as has_partial_validation,
        actif = 'ACTIVE' as is_active,
        {{ provenance_columns() }}
    from source
)

select * from renamed
