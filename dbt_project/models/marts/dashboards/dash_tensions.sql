{#-
    Labour-market tension of the digital métiers (DARES / France Travail), per year, territory
    (département, région, France) and FAP2021 métier, for the socle dashboard. The score is
    centred and reduced: above zero, the métier is tenser than the average métier. When the volume
    is too small, DARES imputes a value: tension_score is then NULL and the imputed score is kept
    apart in tension_score_with_imputed, flagged by is_imputed.
-#}

with

tensions as (
    select
        year,
        period,
        territory_level,
        territory_code,
        fap_code,
        fap_label,
        skill_domain_code,
        tension_score,
        tension_score_with_imputed,
        tension_class,
        source_vintage
    from {{ ref('fct_labour_tension') }}
    where is_digital
),

territories as (
    select
        territory_code,
        territory_level,
        territory_label,
        comparison_group,
        is_configured_territory,
        territory_sort
    from {{ ref('dash_territories') }}
),

skill_domains as (
    select
        skill_domain_code,
        skill_domain_label
    from {{ ref('dim_skill_domain') }}
),

-- short labels for chart axes; the official labels stay in fap_label
short_labels as (
    select
        occupation_code,
        short_label
    from {{ ref('digital_fap2021') }}
),

periods as (
    select
        period,
        period_start_date
    from {{ ref('dim_period') }}
),

latest as (
    select max(year) as latest_year
    from tensions
),

final as (
    select
        cast(s.year as integer) as year,
        cast(s.period as varchar) as period,
        cast(p.period_start_date as date) as period_date,
        cast(s.year = l.latest_year as boolean) as is_latest_period,
        cast(s.territory_code as varchar) as territory_code,
        cast(s.territory_level as varchar) as territory_level,
        cast(t.territory_label as varchar) as territory_label,
        cast(t.comparison_group as varchar) as comparison_group,
        cast(t.is_configured_territory as boolean) as is_configured_territory,
        cast(t.territory_sort as integer) as territory_sort,
        cast(s.fap_code as varchar) as fap_code,
        cast(s.fap_label as varchar) as fap_label,
        cast(coalesce(sl.short_label, s.fap_label) as varchar) as fap_short_label,
        cast(s.skill_domain_code as varchar) as skill_domain_code,
        cast(sd.skill_domain_label as varchar) as skill_domain_label,
        cast(s.tension_score as double precision) as tension_score,
        cast(s.tension_score_with_imputed as double precision) as tension_score_with_imputed,
        cast(s.tension_score is null and s.tension_score_with_imputed is not null as boolean) as is_imputed,
        cast(s.tension_class as integer) as tension_class,
        cast(s.source_vintage as varchar) as source_vintage
    from tensions as s
    inner join territories as t
        on
            s.territory_level = t.territory_level
            and s.territory_code = t.territory_code
    left join skill_domains as sd on s.skill_domain_code = sd.skill_domain_code
    left join short_labels as sl on s.fap_code = sl.occupation_code
    left join periods as p on s.period = p.period
    cross join latest as l
)

select * from final
