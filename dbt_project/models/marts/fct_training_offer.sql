{#-
    Mon Compte Formation training offers in the scope, one row per offer x département (the
    catalogue repeats an offer in every territory it is given in), with its digital skill domain:
    the first formacode of the offer that the seed formacode_skill_domains classifies, else the
    title's keywords (seed skill_domain_keywords), else its NSF group (seed nsf_skill_domains).
    An offer is digital when any of the three classifies it.
-#}

with

offers as (
    select * from {{ ref('stg_mcf__training_offers') }}
),

formacode_domains as (
    select
        formacode,
        skill_domain_code
    from {{ ref('formacode_skill_domains') }}
),

nsf_domains as (
    select
        nsf_code,
        skill_domain_code
    from {{ ref('nsf_skill_domains') }}
),

keywords as (
    select
        keyword_pattern,
        skill_domain_code,
        priority
    from {{ ref('skill_domain_keywords') }}
),

level_bands as (
    select
        exit_level_code,
        level_band_code
    from {{ ref('exit_level_bands') }}
),

emerging_domains as (
    select skill_domain_code
    from {{ ref('skill_domains') }}
    where is_emerging
),

offer_keys as (
    select distinct
        training_offer_id,
        department_code,
        training_title,
        formacode_1,
        formacode_2,
        formacode_3,
        formacode_4,
        formacode_5,
        nsf_code_1,
        nsf_code_2,
        nsf_code_3
    from offers
),

formacodes as (
    {%- for position in range(1, 6) %}
        select
            training_offer_id,
            department_code,
            {{ position }} as slot,
            formacode_{{ position }} as formacode
        from offer_keys
        {% if not loop.last -%} union all {%- endif %}
    {%- endfor %}
),

formacode_match as (
    select
        f.training_offer_id,
        f.department_code,
        d.skill_domain_code,
        row_number() over (
            partition by f.training_offer_id, f.department_code order by f.slot
        ) as match_rank
    from formacodes as f
    inner join formacode_domains as d on f.formacode = d.formacode
),

nsf_codes as (
    {%- for position in range(1, 4) %}
        select
            training_offer_id,
            department_code,
            {{ position }} as slot,
            nsf_code_{{ position }} as nsf_code
        from offer_keys
        {% if not loop.last -%} union all {%- endif %}
    {%- endfor %}
),

nsf_match as (
    select
        n.training_offer_id,
        n.department_code,
        d.skill_domain_code,
        row_number() over (
            partition by n.training_offer_id, n.department_code order by n.slot
        ) as match_rank
    from nsf_codes as n
    inner join nsf_domains as d on n.nsf_code = d.nsf_code
),

keyword_match as (
    select
        o.training_offer_id,
        o.department_code,
        k.skill_domain_code,
        row_number() over (
            partition by o.training_offer_id, o.department_code order by k.priority
        ) as match_rank
    from offer_keys as o
    inner join keywords as k
        on regexp_matches(lower(o.training_title), k.keyword_pattern)
),

-- a keyword only classifies an offer that a digital formacode or NSF already makes digital,
-- or that names an emerging domain (cybersecurity, data, AI) outright
classified as (
    select
        o.training_offer_id,
        o.department_code,
        case
            when f.skill_domain_code is not null and f.skill_domain_code != 'autre_numerique'
                then f.skill_domain_code
            when
                (f.skill_domain_code is not null or n.skill_domain_code is not null)
                and k.skill_domain_code is not null
                then k.skill_domain_code
            when k.skill_domain_code in (select e.skill_domain_code from emerging_domains as e)
                then k.skill_domain_code
            else coalesce(f.skill_domain_code, n.skill_domain_code)
        end as skill_domain_code
    from offer_keys as o
    left join formacode_match as f
        on
            o.training_offer_id = f.training_offer_id
            and o.department_code = f.department_code
            and f.match_rank = 1
    left join nsf_match as n
        on
            o.training_offer_id = n.training_offer_id
            and o.department_code = n.department_code
            and n.match_rank = 1
    left join keyword_match as k
        on
            o.training_offer_id = k.training_offer_id
            and o.department_code = k.department_code
            and k.match_rank = 1
),

final as (
    select
        cast(o.training_offer_id as varchar) as training_offer_id,
        cast(o.department_code as varchar) as department_code,
        cast(o.region_code as varchar) as region_code,
        cast(o.provider_siret as varchar) as provider_siret,
        cast(o.training_title as varchar) as training_title,
        cast(o.certification_id as varchar) as certification_id,
        o.certification_id is not null as is_certifying,
        cast(o.exit_level_code as varchar) as exit_level_code,
        cast(b.level_band_code as varchar) as level_band_code,
        c.skill_domain_code is not null as is_digital,
        cast(c.skill_domain_code as varchar) as skill_domain_code,
        coalesce(c.skill_domain_code in (select e.skill_domain_code from emerging_domains as e), false)
            as is_emerging,
        cast(o.action_count as integer) as action_count,
        cast(o.active_session_count as integer) as active_session_count,
        cast(o.remote_session_count as integer) as remote_session_count,
        coalesce(o.remote_session_count > 0, false) as has_remote_session,
        cast(o.hours_mean as double) as hours_mean,
        cast(o.price_eur_mean as double) as price_eur_mean,
        o.extract_date,
        cast(strftime(o.extract_date, '%Y-%m') as varchar) as snapshot_period,
        cast(o.source_vintage as varchar) as source_vintage,
        cast({{ run_id_literal() }} as varchar) as run_id
    from offers as o
    inner join classified as c
        on o.training_offer_id = c.training_offer_id and o.department_code = c.department_code
    left join level_bands as b on o.exit_level_code = b.exit_level_code
    where {{ in_scope('o.department_code', 'o.region_code') }}
)

select * from final
