{#-
    DARES / France Travail labour-market tension by FAP métier, territory and year: the scope's
    départements and régions and France entière (the file's national rows, territory_code 'FR').
-#}

with

tensions as (
    select * from {{ ref('stg_tensions__indicators') }}
),

digital_occupations as (
    select
        occupation_code,
        skill_domain_code
    from {{ ref('digital_fap2021') }}
),

located as (
    select
        t.*,
        case
            when t.territory_level = 'national' then 'pays'
            else t.territory_level
        end as published_level,
        case
            when t.territory_level = 'national' then 'FR'
            else t.territory_code
        end as published_code
    from tensions as t
),

final as (
    select
        cast(l.tension_year as integer) as year,
        cast(l.tension_year as varchar) as period,
        cast(l.published_level as varchar) as territory_level,
        cast(l.published_code as varchar) as territory_code,
        cast(l.fap_code as varchar) as fap_code,
        cast(l.fap_label as varchar) as fap_label,
        d.occupation_code is not null as is_digital,
        cast(d.skill_domain_code as varchar) as skill_domain_code,
        cast(l.tension_score as double) as tension_score,
        cast(l.tension_score_with_imputed as double) as tension_score_with_imputed,
        cast(l.tension_class as integer) as tension_class,
        cast(l.source_vintage as varchar) as source_vintage,
        cast({{ run_id_literal() }} as varchar) as run_id
    from located as l
    left join digital_occupations as d on l.fap_code = d.occupation_code
)

select * from final
