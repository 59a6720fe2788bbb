{#-
    Occupations (métiers) of three nomenclatures, national, not filtered to the territory:
    - FAP2021 and FAP2009: the métiers named in the BMO survey files (FAP2009 until the 2023
      survey, FAP2021 since 2024: not comparable), flagged digital from the seeds digital_fap2021
      and digital_fap2009;
    - ROME4: the fiches of the ROME 4.0 referential, with their V3 parent, digital when the
      referential tags them (transition_num) or the seed rome_digital_occupations lists them, and
      classified into a skill domain by that seed.
    The key is (nomenclature_version, occupation_code).
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
            partition by nomenclature_version, occupation_code
            order by survey_year desc, occupation_label asc
        ) as label_rank
    from {{ ref('stg_bmo__recruitment_needs') }}
),

digital_fap as (
    select
        occupation_code,
        nomenclature_version,
        skill_domain_code
    from {{ ref('digital_fap2021') }}
    union all
    select
        occupation_code,
        nomenclature_version,
        skill_domain_code
    from {{ ref('digital_fap2009') }}
),

rome_occupations as (
    select
        rome_code,
        rome_label,
        rome_parent_code,
        is_digital,
        -- one referential version is loaded at a time; should two be, the latest wins
        row_number() over (
            partition by rome_code
            order by source_vintage desc
        ) as version_rank
    from {{ ref('stg_rome__occupations') }}
),

rome_digital as (
    select
        rome_code,
        skill_domain_code,
        is_core_digital
    from {{ ref('rome_digital_occupations') }}
),

skill_domains as (
    select
        skill_domain_code,
        skill_domain_label
    from {{ ref('skill_domains') }}
),

fap_rows as (
    select
        o.occupation_code,
        o.occupation_label,
        o.nomenclature_version,
        o.family_code,
        o.family_label,
        cast(null as varchar) as rome_parent_code,
        cast(null as boolean) as has_digital_transition_flag,
        d.occupation_code is not null as is_digital,
        -- every digital FAP métier is an IT or telecom occupation
        d.occupation_code is not null as is_core_digital,
        d.skill_domain_code
    from bmo_occupations as o
    -- the join is on the nomenclature too: a FAP2009 code is never read as a FAP2021 one
    left join digital_fap as d
        on
            o.occupation_code = d.occupation_code
            and o.nomenclature_version = d.nomenclature_version
    where o.label_rank = 1
),

rome_rows as (
    select
        r.rome_code as occupation_code,
        r.rome_label as occupation_label,
        'ROME4' as nomenclature_version,
        -- the ROME "domaine professionnel" (letter and two digits, e.g. M18); its label is not loaded
        left(r.rome_code, 3) as family_code,
        cast(null as varchar) as family_label,
        r.rome_parent_code,
        r.is_digital as has_digital_transition_flag,
        r.is_digital or d.rome_code is not null as is_digital,
        coalesce(d.is_core_digital, false) as is_core_digital,
        -- a fiche newly tagged by a later referential, not yet in the seed: digital, unclassified
        -- (the test assert_dim_occupation_digital_rome_classified names it)
        case
            when r.is_digital or d.rome_code is not null
                then coalesce(d.skill_domain_code, 'autre_numerique')
        end as skill_domain_code
    from rome_occupations as r
    left join rome_digital as d
        on r.rome_code = d.rome_code
    where r.version_rank = 1
),

occupations as (
    select * from fap_rows
    union all
    select * from rome_rows
),

final as (
    select
        cast(o.occupation_code as varchar) as occupation_code,
        cast(o.occupation_label as varchar) as occupation_label,
        cast(o.nomenclature_version as varchar) as nomenclature_version,
        cast(o.family_code as varchar) as family_code,
        cast(o.family_label as varchar) as family_label,
        cast(o.rome_parent_code as varchar) as rome_parent_code,
        cast(o.is_digital as boolean) as is_digital,
        cast(o.is_core_digital as boolean) as is_core_digital,
        cast(o.has_digital_transition_flag as boolean) as has_digital_transition_flag,
        cast(o.skill_domain_code as varchar) as skill_domain_code,
        cast(sd.skill_domain_label as varchar) as skill_domain_label
    from occupations as o
    left join skill_domains as sd
        on o.skill_domain_code = sd.skill_domain_code
)

select * from final
