{#-
    The préconisation scorecard: for every indicator of the catalogue and every département,
    région and France entière published in mart_indicators, the latest known value, the previous
    one, the trend and a status read against the indicator's direction and optional target,
    grouped by préconisation. "Latest" is the most recent period with a value (a period whose
    every cell is secret is skipped); "previous" is the one before it, of the same kind.
-#}

with

indicators as (
    select
        indicator_code,
        territory_code,
        territory_level,
        territory_name,
        comparison_group,
        period,
        value,
        suppressed_count,
        source_vintage
    from {{ ref('mart_indicators') }}
    where territory_level in ('departement', 'region', 'pays') and value is not null
),

catalogue as (
    select
        indicator_code,
        label_fr,
        unit,
        direction,
        preconisation_code,
        target_value,
        target_fr
    from {{ ref('indicator_catalogue') }}
),

preconisations as (
    select
        preconisation_code,
        title_fr
    from {{ ref('preconisations') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by indicator_code, territory_level, territory_code
            order by period desc
        ) as recency
    from indicators
),

latest as (
    select
        l.indicator_code,
        l.territory_code,
        l.territory_level,
        l.territory_name,
        l.comparison_group,
        l.period as latest_period,
        l.value as latest_value,
        l.suppressed_count,
        l.source_vintage,
        p.period as previous_period,
        p.value as previous_value
    from ranked as l
    left join ranked as p
        on
            l.indicator_code = p.indicator_code
            and l.territory_level = p.territory_level
            and l.territory_code = p.territory_code
            and p.recency = 2
    where l.recency = 1
),

trends as (
    select
        *,
        latest_value - previous_value as value_change,
        case
            when previous_value is null then 'non_disponible'
            -- below 1 % of the previous value (or of 1 for values near zero): stable
            when abs(latest_value - previous_value) <= 0.01 * greatest(abs(previous_value), 1e-9)
                then 'stable'
            when latest_value > previous_value then 'hausse'
            else 'baisse'
        end as trend
    from latest
),

final as (
    select
        cast(c.preconisation_code as integer) as preconisation_code,
        cast(pr.title_fr as varchar) as preconisation_title,
        cast(t.indicator_code as varchar) as indicator_code,
        cast(c.label_fr as varchar) as indicator_label,
        cast(c.unit as varchar) as unit,
        cast(c.direction as varchar) as direction,
        cast(t.territory_code as varchar) as territory_code,
        cast(t.territory_level as varchar) as territory_level,
        cast(t.territory_name as varchar) as territory_name,
        cast(t.comparison_group as varchar) as comparison_group,
        cast(t.latest_period as varchar) as latest_period,
        cast(t.latest_value as double precision) as latest_value,
        cast(t.previous_period as varchar) as previous_period,
        cast(t.previous_value as double precision) as previous_value,
        cast(t.value_change as double precision) as value_change,
        cast(t.trend as varchar) as trend,
        cast(c.target_value as double precision) as target_value,
        cast(c.target_fr as varchar) as target_label,
        cast(case
            when c.target_value is null then null
            when c.direction = 'baisse_favorable' and t.latest_value <= c.target_value then 'atteinte'
            when c.direction != 'baisse_favorable' and t.latest_value >= c.target_value then 'atteinte'
            else 'non_atteinte'
        end as varchar) as target_status,
        cast(case
            when
                c.target_value is not null
                and (
                    (c.direction = 'baisse_favorable' and t.latest_value <= c.target_value)
                    or (c.direction != 'baisse_favorable' and t.latest_value >= c.target_value)
                )
                then 'cible_atteinte'
            when c.direction = 'neutre' then 'contexte'
            when t.trend in ('non_disponible', 'stable') then t.trend
            when (c.direction = 'hausse_favorable') = (t.trend = 'hausse') then 'favorable'
            else 'defavorable'
        end as varchar) as status,
        cast(t.suppressed_count as integer) as suppressed_count,
        cast(t.source_vintage as varchar) as source_vintage,
        cast({{ run_id_literal() }} as varchar) as run_id
    from trends as t
    inner join catalogue as c on t.indicator_code = c.indicator_code
    inner join preconisations as pr on c.preconisation_code = pr.preconisation_code
)

select * from final
