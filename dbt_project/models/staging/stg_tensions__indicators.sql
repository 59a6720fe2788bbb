with

source as (
    select * from {{ source('tensions', 'indicators') }}
),

renamed as (
    select
        cast(annee as integer) as tension_year,
        territory_level,
        territory_code,
        code_fap_228 as fap_code,
        libelle_fap_228 as fap_label,
        -- standardised scores (centred, reduced); a decimal comma is accepted. NULL when the
        -- crossing lacks volume: only the imputed tension is then published.
        cast(replace(tension, ',', '.') as double) as tension_score,
        cast(
            replace(tension_valeurs_imputees_volumetrie_insuffisante, ',', '.') as double
        ) as tension_score_with_imputed,
        cast(tension_discret as integer) as tension_class,
        cast(replace(intensite_d_embauches, ',', '.') as double) as hiring_intensity_score,
        cast(replace(lien_formation_emploi, ',', '.') as double) as training_job_link_score,
        cast(
            replace(manque_de_main_d_oeuvre_disponible, ',', '.') as double
        ) as labour_shortage_score,
        cast(
            replace(non_durabilite_de_l_emploi, ',', '.') as double
        ) as job_non_durability_score,
        cast(
            replace(conditions_de_travail_contraignantes, ',', '.') as double
        ) as working_conditions_score,
        cast(
            replace(inadequation_geographique, ',', '.') as double
        ) as geographic_mismatch_score,
        cast(
            replace(non_attractivite_salariale, ',', '.') as double
        ) as wage_unattractiveness_score,
        lower(croisement_ou_volumetrie_suffisante) in ('1', 'oui') as has_sufficient_volume,
        tension is null
        and tension_valeurs_imputees_volumetrie_insuffisante is not null as is_tension_imputed,
        sheet_name,
        {{ provenance_columns() }}
    from source
)

select * from renamed
