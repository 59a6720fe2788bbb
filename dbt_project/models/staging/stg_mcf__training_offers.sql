{#- Text fields of the catalogue carry HTML: tags become spaces, the entities the catalogue uses are
    decoded (&amp; last, so that "&amp;lt;" stays the text "&lt;"), whitespace and line breaks are
    collapsed. -#}
{%- set html_columns = {
    'intitule_formation': 'training_title',
    'objectif_formation': 'objective_text',
    'contenu_formation': 'content_text',
    'points_forts': 'strengths_text',
} -%}

with

source as (
    select * from {{ source('mcf', 'training_offers') }}
),

renamed as (
    select
        numero_formation as training_offer_id,
        cast(date_extract as date) as extract_date,
        nom_of as provider_name,
        siret as provider_siret,
        {%- for column, alias in html_columns.items() %}
            nullif(trim(regexp_replace(
                replace(
                    replace(
                        replace(
                            replace(
                                replace(
                                    replace(regexp_replace({{ column }}, '<[^>]*>', ' ', 'g'), '&nbsp;', ' '),
                                    '&lt;', '<'
                                ),
                                '&gt;', '>'
                            ),
                            '&quot;', '"'
                        ),
                        '&#39;', ''''
                    ),
                    '&amp;', '&'
                ),
                '\s+', ' ', 'g'
            )), '') as {{ alias }},
        {%- endfor %}
        -- empty for offers without certification (bilan de compétences, VAE support)
        nullif(type_referentiel, '') as certification_register,
        nullif(code_rncp, '') as rncp_number,
        nullif(code_inventaire, '') as rs_number,
        -- Mon Compte Formation writes the bare number, the RNCP export the prefixed one: the
        -- prefixed form is the join key to stg_rncp__certifications.
        case
            when nullif(code_rncp, '') is not null then 'RNCP' || code_rncp
            when nullif(code_inventaire, '') is not null then 'RS' || code_inventaire
        end as certification_id,
        nullif(intitule_certification, '') as certification_label,
        nullif(code_certifinfo, '') as certifinfo_code,
        libelle_niveau_sortie_formation as exit_level_label,
        -- "Niveau 6 (BAC+3 et 4)" -> NIV6, the code of the RNCP export; no level -> NULL
        case
            when regexp_matches(libelle_niveau_sortie_formation, '^Niveau [3-8]\b')
                then 'NIV' || regexp_extract(libelle_niveau_sortie_formation, '^Niveau ([3-8])', 1)
        end as exit_level_code,
        nullif(code_formacode_1, '') as formacode_1,
        nullif(code_formacode_2, '') as formacode_2,
        nullif(code_formacode_3, '') as formacode_3,
        nullif(code_formacode_4, '') as formacode_4,
        nullif(code_formacode_5, '') as formacode_5,
        nullif(libelle_code_formacode_principal, '') as formacode_1_label,
        nullif(code_nsf_1, '') as nsf_code_1,
        nullif(code_nsf_2, '') as nsf_code_2,
        nullif(code_nsf_3, '') as nsf_code_3,
        nullif(libelle_nsf_1, '') as nsf_label_1,
        nullif(libelle_nsf_2, '') as nsf_label_2,
        nullif(libelle_nsf_3, '') as nsf_label_3,
        '326' in (code_nsf_1, code_nsf_2, code_nsf_3) as has_nsf_326,
        -- counts arrive as decimals ("4.0"): cast through double so "4.0" is 4, not an error
        cast(cast(nb_action as double) as integer) as action_count,
        cast(cast(nb_session_active as double) as integer) as active_session_count,
        cast(cast(nb_session_a_distance as double) as integer) as remote_session_count,
        coalesce(
            cast(nb_session_active as double) > 0
            and cast(nb_session_a_distance as double) = cast(nb_session_active as double),
            false
        ) as is_remote_only,
        cast(nombre_heures_total_min as double) as hours_min,
        cast(nombre_heures_total_max as double) as hours_max,
        cast(nombre_heures_total_mean as double) as hours_mean,
        cast(frais_ttc_tot_min as double) as price_eur_min,
        cast(frais_ttc_tot_max as double) as price_eur_max,
        cast(frais_ttc_tot_mean as double) as price_eur_mean,
        nom_region as region_name,
        code_region as region_code,
        nom_departement as department_name,
        code_departement as department_code,
        {{ provenance_columns() }}
    from source
)

select * from renamed
