{#-
    DARES / France Travail tension indicator (préconisation 4): the mean tension of the digital
    FAP métiers published for each département and région of the scope and for France entière.
    The imputed value is used where the file imputes one (small volumes in the DROM).
-#}

with

tensions as (
    select
        territory_level,
        territory_code,
        period,
        -- decimal, so the mean does not depend on the order of the rows
        cast(coalesce(tension_score_with_imputed, tension_score) as decimal(18, 6)) as tension,
        source_vintage
    from {{ ref('fct_labour_tension') }}
    where is_digital
),

final as (
    select
        'tensions_digital_tension' as indicator_code,
        territory_level,
        territory_code,
        period,
        avg(tension) as value,
        sum(tension) as numerator,
        cast(count(tension) as double precision) as denominator,
        count(*) - count(tension) as suppressed_count,
        max(source_vintage) as source_vintage,
        cast(null as varchar) as series_definition,
        cast(null as varchar) as value_note
    from tensions
    group by territory_level, territory_code, period
)

select * from final
