{#-
    France Travail job offers online at extraction in the scope, one row per offer, with the
    digital skill domain of its ROME code (seed rome_digital_occupations) or, failing a finer
    one, of the keywords of its title (seed skill_domain_keywords), and a level band read from
    the offer's qualification (cadre -> Bac+4/5, agent de maîtrise -> Bac+3, otherwise Bac+2 and
    below: an approximation, the API gives no diploma level). An offer is digital when its ROME
    code is a core digital occupation, unless its title names another trade that a partner site
    filed under that code by a homonym (seed offer_title_exclusions: a restaurant "serveur" filed
    as a server administrator, M1843); title keywords only refine the domain of a digital offer.
-#}

with

offers as (
    select * from {{ ref('stg_offers__job_offers') }}
),

rome_domains as (
    select
        rome_code,
        skill_domain_code,
        is_core_digital
    from {{ ref('rome_digital_occupations') }}
),

keywords as (
    select
        keyword_pattern,
        skill_domain_code,
        priority
    from {{ ref('skill_domain_keywords') }}
),

title_exclusions as (
    select
        title_pattern,
        unless_pattern
    from {{ ref('offer_title_exclusions') }}
),

-- offers whose title contradicts their digital ROME code
misfiled_offers as (
    select distinct o.offer_id
    from offers as o
    inner join title_exclusions as x
        on
            regexp_matches(lower(o.offer_title), x.title_pattern)
            and (
                x.unless_pattern is null
                or not regexp_matches(lower(o.offer_title), x.unless_pattern)
            )
),

emerging_domains as (
    select skill_domain_code
    from {{ ref('skill_domains') }}
    where is_emerging
),

-- the first keyword rule (lowest priority number) matching the title
title_domains as (
    select
        o.offer_id,
        k.skill_domain_code,
        row_number() over (partition by o.offer_id order by k.priority) as rule_rank
    from offers as o
    inner join keywords as k
        on regexp_matches(lower(o.offer_title), k.keyword_pattern)
),

communes as (
    select
        territory_code as commune_code,
        epci_code,
        zone_code,
        employment_zone_code,
        basin_code
    from {{ ref('dim_territory') }}
    where territory_level = 'commune'
),

departements as (
    select
        department_code,
        region_code
    from {{ ref('stg_geo__departements') }}
),

classified as (
    select
        o.*,
        coalesce(r.is_core_digital, false) and m.offer_id is null as is_digital,
        -- a ROME code with a specific domain wins; a generic one ("autre_numerique") or a
        -- keyword-only match takes the title's domain; a misfiled offer has none
        case
            when m.offer_id is not null then null
            when r.skill_domain_code is not null and r.skill_domain_code != 'autre_numerique'
                then r.skill_domain_code
            when r.is_core_digital then coalesce(t.skill_domain_code, r.skill_domain_code)
        end as skill_domain_code,
        t.skill_domain_code as title_skill_domain_code
    from offers as o
    left join rome_domains as r on o.rome_code = r.rome_code
    left join title_domains as t on o.offer_id = t.offer_id and t.rule_rank = 1
    left join misfiled_offers as m on o.offer_id = m.offer_id
),

final as (
    select
        cast(o.offer_id as varchar) as offer_id,
        cast(o.offer_title as varchar) as offer_title,
        cast(o.rome_code as varchar) as rome_code,
        cast(o.rome_label as varchar) as rome_label,
        o.created_date,
        cast(o.commune_code as varchar) as commune_code,
        cast(c.epci_code as varchar) as epci_code,
        cast(c.zone_code as varchar) as zone_code,
        cast(c.employment_zone_code as varchar) as employment_zone_code,
        cast(c.basin_code as varchar) as basin_code,
        cast(o.department_code as varchar) as department_code,
        cast(d.region_code as varchar) as region_code,
        cast(o.contract_type_code as varchar) as contract_type_code,
        cast(o.qualification_code as varchar) as qualification_code,
        cast(case
            when o.qualification_code = '9' then 'niv7_plus'
            when o.qualification_code = '8' then 'niv6'
            else 'niv5_moins'
        end as varchar) as level_band_code,
        cast(o.is_digital as boolean) as is_digital,
        cast(o.skill_domain_code as varchar) as skill_domain_code,
        coalesce(o.skill_domain_code in (select e.skill_domain_code from emerging_domains as e), false)
            as is_emerging,
        cast(o.is_short_of_candidates as boolean) as is_short_of_candidates,
        cast(strftime(cast(o.fetched_at as date), '%Y-%m') as varchar) as snapshot_period,
        cast(o.source_vintage as varchar) as source_vintage,
        cast({{ run_id_literal() }} as varchar) as run_id
    from classified as o
    left join communes as c on o.commune_code = c.commune_code
    left join departements as d on o.department_code = d.department_code
    where {{ in_scope('o.department_code', 'd.region_code') }}
)

select * from final
