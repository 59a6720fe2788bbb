with

source as (
    select * from {{ source('rome', 'appellations') }}
),

renamed as (
    select
        code_ogr as ogr_code,
        libelle_appellation_long as appellation_label,
        libelle_appellation_court as appellation_short_label,
        code_rome as rome_code,
        code_rome_parent as rome_parent_code,
        classification as appellation_type,
        origine as appellation_origin,
        transition_eco as ecological_transition_category,
        coalesce(transition_num = 'O', false) as is_digital,
        case emploi_reglemente when 'O' then true when 'N' then false end as is_regulated,
        case emploi_cadre when 'O' then true when 'N' then false end as is_executive,
        coalesce(peu_usite = 'O', false) as is_rarely_used,
        rome_version,
        {{ provenance_columns() }}
    from source
)

select * from renamed
