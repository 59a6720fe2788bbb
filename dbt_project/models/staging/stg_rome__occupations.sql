with

source as (
    select * from {{ source('rome', 'occupations') }}
),

renamed as (
    select
        code_rome as rome_code,
        code_fiche_metier as rome_sheet_number,
        code_ogr as ogr_code,
        libelle_rome as rome_label,
        -- ROME 4.0 adds finer "emploi" fiches with new codes (M1855...); the V3 ancestor is the
        -- stable key for time series and for V3-based sources (RNCP, DARES FAP tables).
        code_rome_parent as rome_parent_code,
        transition_eco as ecological_transition_category,
        -- "O" tags a digital fiche; empty means not tagged, hence false rather than NULL.
        coalesce(transition_num = 'O', false) as is_digital,
        -- the other flags are O / N or empty (not assessed): empty stays NULL.
        case transition_demo when 'O' then true when 'N' then false end as is_demographic_transition,
        case emploi_reglemente when 'O' then true when 'N' then false end as is_regulated,
        case emploi_cadre when 'O' then true when 'N' then false end as is_executive,
        code_rome = code_rome_parent as is_v3_sheet,
        rome_version,
        {{ provenance_columns() }}
    from source
)

select * from renamed
