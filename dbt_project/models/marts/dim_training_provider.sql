{#-
    Training providers (organismes de formation) of the Mon Compte Formation catalogue, one row per
    SIRET, across every département loaded. The catalogue repeats an offer once per territory it
    is sold in, so offers are counted distinct. The name is the one the provider uses most often
    (catalogue entries are typed by hand); the département is the one with the most offers.
    Whether offers are digital is decided in fct_training_offer, not here.
-#}

with

offers as (
    select
        provider_siret,
        provider_name,
        training_offer_id,
        department_code,
        source_vintage
    from {{ ref('stg_mcf__training_offers') }}
    where provider_siret is not null
),

names as (
    select
        provider_siret,
        trim(provider_name) as provider_name,
        count(distinct training_offer_id) as offer_count
    from offers
    where nullif(trim(provider_name), '') is not null
    group by provider_siret, trim(provider_name)
),

ranked_names as (
    select
        provider_siret,
        provider_name,
        row_number() over (
            partition by provider_siret
            order by offer_count desc, provider_name asc
        ) as name_rank
    from names
),

departements as (
    select
        provider_siret,
        department_code,
        count(distinct training_offer_id) as offer_count
    from offers
    where department_code is not null
    group by provider_siret, department_code
),

ranked_departements as (
    select
        provider_siret,
        department_code,
        row_number() over (
            partition by provider_siret
            order by offer_count desc, department_code asc
        ) as department_rank
    from departements
),

totals as (
    select
        provider_siret,
        count(distinct training_offer_id) as training_offer_count,
        count(distinct department_code) as department_count,
        max(source_vintage) as source_vintage
    from offers
    group by provider_siret
),

final as (
    select
        cast(t.provider_siret as varchar) as provider_siret,
        cast(left(t.provider_siret, 9) as varchar) as provider_siren,
        cast(n.provider_name as varchar) as provider_name,
        cast(d.department_code as varchar) as department_code,
        cast(t.department_count as integer) as department_count,
        cast(t.training_offer_count as integer) as training_offer_count,
        cast(t.source_vintage as varchar) as source_vintage
    from totals as t
    left join ranked_names as n
        on
            t.provider_siret = n.provider_siret
            and n.name_rank = 1
    left join ranked_departements as d
        on
            t.provider_siret = d.provider_siret
            and d.department_rank = 1
)

select * from final
