{#-
    Occupations (métiers) as named in the BMO survey, flagged digital from the seed
    digital_fap2021. The nomenclature is national, so it is not filtered to the territory.
-#}

with

bmo_occupations as (
    select
        occupation_code,
        occupation_label,
        family_code,
        family_label,
        nomenclature_version,
        -- labels are reworded between surveys: keep the latest survey's wording
        row_number() over (
            partition by occupation_code
            order by survey_year desc, occupation_label asc
        ) as label_rank
    from {{ ref('stg_france_travail__bmo') }}
),

digital_occupations as (
    select
        occupation_code,
        nomenclature_version,
        skill_domain,
        skill_domain_label
    from {{ ref('digital_fap2021') }}
),

final as (
    select
        cast(o.occupation_code as varchar) as occupation_code,
        cast(o.occupation_label as varchar) as occupation_label,
        cast(o.family_code as varchar) as family_code,
        cast(o.family_label as varchar) as family_label,
        cast(o.nomenclature_version as varchar) as nomenclature_version,
        d.occupation_code is not null as is_digital,
        cast(d.skill_domain as varchar) as skill_domain,
        cast(d.skill_domain_label as varchar) as skill_domain_label
    from bmo_occupations as o
    -- FAP2009 codes (surveys before 2024) are a different nomenclature: never digital by code
    left join digital_occupations as d
        on
            o.occupation_code = d.occupation_code
            and o.nomenclature_version = d.nomenclature_version
    where o.label_rank = 1
)

select * from final
