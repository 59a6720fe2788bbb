{#-
    The FAP seeds repeat the skill domain label for readability; it must be the label of
    skill_domains (the one dim_occupation publishes), or a reader of the seed would see a
    different name than the dashboards.
-#}

with

seed_labels as (
    select
        occupation_code,
        nomenclature_version,
        skill_domain_code,
        skill_domain_label
    from {{ ref('digital_fap2021') }}
    union all
    select
        occupation_code,
        nomenclature_version,
        skill_domain_code,
        skill_domain_label
    from {{ ref('digital_fap2009') }}
)

select
    s.occupation_code,
    s.nomenclature_version,
    s.skill_domain_label as seed_label,
    d.skill_domain_label as reference_label
from seed_labels as s
left join {{ ref('skill_domains') }} as d
    on s.skill_domain_code = d.skill_domain_code
where s.skill_domain_label is distinct from d.skill_domain_label
