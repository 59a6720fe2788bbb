{#-
    mart_indicators as the dashboards read it: each territory once with its French label
    (dash_territories), the period as a date for time axes and as a French label, the value as
    French text beside the number ("67,9 %", "secret statistique"), and a flag for the latest
    period of each indicator.
-#}

with

indicators as (
    select
        indicator_code,
        indicator_label,
        territory_code,
        territory_level,
        period,
        value,
        numerator,
        denominator,
        suppressed_count,
        unit,
        source_vintage,
        preconisation_code,
        run_id
    from {{ ref('mart_indicators') }}
),

territories as (
    select
        territory_code,
        territory_level,
        territory_level_label,
        territory_name,
        territory_label,
        department_code,
        zone_code,
        zone_label,
        comparison_group,
        is_configured_territory,
        territory_sort
    from {{ ref('dash_territories') }}
),

periods as (
    select
        period,
        period_type,
        period_start_date,
        period_end_date,
        period_label
    from {{ ref('dim_period') }}
),

latest as (
    select
        indicator_code,
        max(period) as latest_period
    from indicators
    group by indicator_code
),

final as (
    select
        cast(i.indicator_code as varchar) as indicator_code,
        cast(i.indicator_label as varchar) as indicator_label,
        cast(i.preconisation_code as integer) as preconisation_code,
        cast(i.unit as varchar) as unit,
        cast(i.territory_code as varchar) as territory_code,
        cast(i.territory_level as varchar) as territory_level,
        cast(t.territory_level_label as varchar) as territory_level_label,
        cast(t.territory_name as varchar) as territory_name,
        cast(t.territory_label as varchar) as territory_label,
        cast(t.department_code as varchar) as department_code,
        cast(t.zone_code as varchar) as zone_code,
        cast(t.zone_label as varchar) as zone_label,
        cast(t.comparison_group as varchar) as comparison_group,
        cast(t.is_configured_territory as boolean) as is_configured_territory,
        cast(t.territory_sort as integer) as territory_sort,
        cast(i.period as varchar) as period,
        cast(p.period_type as varchar) as period_type,
        cast(p.period_start_date as date) as period_date,
        cast(p.period_end_date as date) as period_end_date,
        cast(p.period_label as varchar) as period_label,
        cast(i.period = l.latest_period as boolean) as is_latest_period,
        cast(i.value as double precision) as value,
        cast(i.numerator as double precision) as numerator,
        cast(i.denominator as double precision) as denominator,
        cast(i.suppressed_count as integer) as suppressed_count,
        cast(case
            when i.value is null and i.suppressed_count > 0 then 'secret statistique'
            when i.value is null then 'non disponible'
            else {{ fr_value('i.value', 'i.unit') }}
        end as varchar) as value_display,
        cast(i.source_vintage as varchar) as source_vintage,
        cast(i.run_id as varchar) as run_id
    from indicators as i
    -- inner join: the duplicate of a single-département région is left out
    inner join territories as t
        on
            i.territory_level = t.territory_level
            and i.territory_code = t.territory_code
    -- left join: a period missing from dim_period fails the not_null test on period_date
    left join periods as p on i.period = p.period
    inner join latest as l on i.indicator_code = l.indicator_code
)

select * from final
