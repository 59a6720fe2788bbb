{#- The digital skill domains (seed skill_domains), one row each: the conformed dimension every
    occupation, formacode, NSF speciality, training offer and job offer is classified into. -#}

with

skill_domains as (
    select
        skill_domain_code,
        skill_domain_label,
        description_fr,
        is_emerging,
        sort_order
    from {{ ref('skill_domains') }}
),

final as (
    select
        cast(skill_domain_code as varchar) as skill_domain_code,
        cast(skill_domain_label as varchar) as skill_domain_label,
        cast(description_fr as varchar) as description_fr,
        cast(is_emerging as boolean) as is_emerging,
        cast(sort_order as integer) as sort_order
    from skill_domains
)

select * from final
