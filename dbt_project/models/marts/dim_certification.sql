{#-
    Certifications of the national registers (RNCP and Répertoire spécifique), one row per fiche
    of the latest France compétences export, with their exit level, level band and digital skill
    domain. A certification is digital when one of its formacodes is a digital formacode, one of
    its ROME codes a core digital occupation, or one of its NSF specialities in group 326. Its
    domain comes from the first rule that classifies it: formacodes, then ROME codes, then NSF
    specialities; within a rule, a specific domain beats "autre_numerique", an emerging domain
    (the most specific signal) beats the others, the narrowest emerging domain wins (AI, then
    cybersecurity, then data), and the others follow the display order.
-#}

with

certifications as (
    select
        certification_id,
        certification_register,
        certification_title,
        eqf_level_code,
        is_active,
        registration_end_date,
        source_vintage,
        -- one export is loaded at a time; should two be, the latest wins
        row_number() over (
            partition by certification_id
            order by source_vintage desc
        ) as vintage_rank
    from {{ ref('stg_rncp__certifications') }}
),

latest_certifications as (
    select * from certifications
    where vintage_rank = 1
),

level_bands as (
    select
        exit_level_code,
        eqf_level,
        level_band_code
    from {{ ref('exit_level_bands') }}
),

skill_domains as (
    select
        skill_domain_code,
        is_emerging,
        sort_order
    from {{ ref('skill_domains') }}
),

formacode_domains as (
    select distinct
        f.certification_id,
        d.skill_domain_code,
        1 as rule_order,
        'formacode' as rule_name
    from {{ ref('stg_rncp__certification_formacodes') }} as f
    inner join {{ ref('formacode_skill_domains') }} as d
        on f.formacode = d.formacode
),

rome_domains as (
    select distinct
        r.certification_id,
        d.skill_domain_code,
        2 as rule_order,
        'rome' as rule_name
    from {{ ref('stg_rncp__certification_rome_codes') }} as r
    inner join {{ ref('rome_digital_occupations') }} as d
        on r.rome_code = d.rome_code
    -- occupations merely touched by the digital transition (communication, HR...) do not make a
    -- certification digital
    where d.is_core_digital
),

nsf_domains as (
    select distinct
        n.certification_id,
        -- a 326 speciality missing from the seed (326m, 326u) falls back to the group 326
        coalesce(exact.skill_domain_code, grp.skill_domain_code) as skill_domain_code,
        3 as rule_order,
        'nsf' as rule_name
    from {{ ref('stg_rncp__certification_nsf_codes') }} as n
    left join {{ ref('nsf_skill_domains') }} as exact
        on n.nsf_code = exact.nsf_code
    left join {{ ref('nsf_skill_domains') }} as grp
        on grp.nsf_code = '326'
    where n.nsf_group_code = '326'
),

candidate_domains as (
    select * from formacode_domains
    union all
    select * from rome_domains
    union all
    select * from nsf_domains
),

ranked_domains as (
    select
        c.certification_id,
        c.skill_domain_code,
        c.rule_name,
        row_number() over (
            partition by c.certification_id
            order by
                c.rule_order asc,
                c.skill_domain_code = 'autre_numerique' asc,
                sd.is_emerging desc,
                -- among the emerging domains the narrowest wins (AI, then cybersecurity, then
                -- data: data science accompanies most AI certifications); the others follow the
                -- display order
                case when sd.is_emerging then -sd.sort_order else sd.sort_order end asc
        ) as domain_rank
    from candidate_domains as c
    inner join skill_domains as sd
        on c.skill_domain_code = sd.skill_domain_code
),

final as (
    select
        cast(c.certification_id as varchar) as certification_id,
        cast(c.certification_register as varchar) as certification_register,
        cast(c.certification_title as varchar) as certification_title,
        -- REPRISE (registered without a level) and the RS fiches have no exit level
        cast(lb.exit_level_code as varchar) as exit_level_code,
        cast(lb.eqf_level as integer) as eqf_level,
        cast(lb.level_band_code as varchar) as level_band_code,
        cast(c.is_active as boolean) as is_active,
        cast(c.registration_end_date as date) as registration_end_date,
        d.certification_id is not null as is_digital,
        cast(d.skill_domain_code as varchar) as skill_domain_code,
        cast(d.rule_name as varchar) as skill_domain_basis,
        cast(c.source_vintage as varchar) as source_vintage
    from latest_certifications as c
    left join level_bands as lb
        on c.eqf_level_code = lb.exit_level_code
    left join ranked_domains as d
        on
            c.certification_id = d.certification_id
            and d.domain_rank = 1
)

select * from final
