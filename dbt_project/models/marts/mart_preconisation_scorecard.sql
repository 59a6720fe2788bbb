{#-
    The préconisation scorecard: for every indicator of the catalogue and every département,
    région and France entière published in mart_indicators, the latest known value, the previous
    one, the trend and a status read against the indicator's direction and optional target,
    grouped by préconisation. "Latest" is the most recent period with a value (a period whose
    every cell is secret is skipped); "previous" is the one before it, of the same kind and of the
    same definition (series_definition: BMO's FAP2009 and FAP2021 never compare). When older
    periods exist under another definition only, series_note says the series breaks there.
    A year-on-year change (unit variation, model ind_growth) gets its status from its own sign
    (growth is favorable when the direction is hausse_favorable), its trend from the change before.
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
        source_vintage,
        data_origin,
        coalesce(series_definition, '') as series_definition
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
        ) as recency,
        row_number() over (
            partition by indicator_code, territory_level, territory_code, series_definition
            order by period desc
        ) as recency_in_definition
    from indicators
),

-- the periods computed under another definition than the latest one, per series
other_definitions as (
    select
        l.indicator_code,
        l.territory_level,
        l.territory_code,
        max(o.period) as last_period,
        max(o.series_definition) as definition
    from ranked as l
    inner join ranked as o
        on
            l.indicator_code = o.indicator_code
            and l.territory_level = o.territory_level
            and l.territory_code = o.territory_code
            and l.series_definition != o.series_definition
    where l.recency = 1
    group by l.indicator_code, l.territory_level, l.territory_code
),

-- the first period of each definition of a series
definition_starts as (
    select
        indicator_code,
        territory_level,
        territory_code,
        series_definition,
        min(period) as first_period
    from ranked
    group by indicator_code, territory_level, territory_code, series_definition
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
        l.series_definition,
        l.data_origin,
        p.period as previous_period,
        p.value as previous_value,
        case
            when o.last_period is not null
                then
                    'rupture de série : ' || l.series_definition || ' depuis '
                    || min_period.first_period || ', ' || o.definition || ' jusqu''en '
                    || o.last_period || ' ; les deux définitions ne se comparent pas'
        end as series_note
    from ranked as l
    left join ranked as p
        on
            l.indicator_code = p.indicator_code
            and l.territory_level = p.territory_level
            and l.territory_code = p.territory_code
            and l.series_definition = p.series_definition
            and p.recency_in_definition = 2
    left join other_definitions as o
        on
            l.indicator_code = o.indicator_code
            and l.territory_level = o.territory_level
            and l.territory_code = o.territory_code
    left join definition_starts as min_period
        on
            l.indicator_code = min_period.indicator_code
            and l.territory_level = min_period.territory_level
            and l.territory_code = min_period.territory_code
            and l.series_definition = min_period.series_definition
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
        cast(nullif(t.series_definition, '') as varchar) as series_definition,
        cast(t.series_note as varchar) as series_note,
        cast(t.data_origin as varchar) as data_origin,
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
            -- a change (unit variation) is read by its own sign, not by its trend: +3 % after +5 %
            -- is still growth; within 1 % of zero it is stable, like a trend
            when c.unit = 'variation' and abs(t.latest_value) <= 0.01 then 'stable'
            when c.unit = 'variation'
                then case
                    when (c.direction = 'hausse_favorable') = (t.latest_value > 0) then 'favorable'
                    else 'defavorable'
                end
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
