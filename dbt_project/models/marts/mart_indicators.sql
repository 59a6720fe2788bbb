{#-
    The serving table: one row per indicator x territory x period, in long form. Indicator
    codes and column names are a public interface (dashboards, open data): never rename them.
    Each family of indicators is computed in models/marts/indicators/ind_<family>.sql (the
    catalogue's column model names it); this model unions them, keeps the territories of
    dim_territory that are not partial (in-scope data alone would understate a partial one) and
    labels every row from the catalogue.
-#}

with

catalogue as (
    select
        indicator_code,
        label_fr,
        unit,
        preconisation_code
    from {{ ref('indicator_catalogue') }}
),

territories as (
    select
        territory_code,
        territory_level,
        territory_name,
        comparison_group
    from {{ ref('dim_territory') }}
    where not is_partial
),

indicators as (
    {%- for family in indicator_models() %}
        select
            indicator_code,
            territory_level,
            territory_code,
            period,
            value,
            numerator,
            denominator,
            suppressed_count,
            source_vintage,
            series_definition,
            value_note
        from {{ ref(family) }}
        {% if not loop.last -%} union all {%- endif %}
    {%- endfor %}
),

final as (
    select
        cast(i.indicator_code as varchar) as indicator_code,
        cast(c.label_fr as varchar) as indicator_label,
        cast(i.territory_code as varchar) as territory_code,
        cast(i.territory_level as varchar) as territory_level,
        cast(t.territory_name as varchar) as territory_name,
        cast(i.period as varchar) as period,
        cast(i.value as double precision) as value,
        cast(i.numerator as double precision) as numerator,
        cast(i.denominator as double precision) as denominator,
        cast(i.suppressed_count as integer) as suppressed_count,
        cast(c.unit as varchar) as unit,
        cast(i.source_vintage as varchar) as source_vintage,
        cast(i.series_definition as varchar) as series_definition,
        cast(i.value_note as varchar) as value_note,
        cast(c.preconisation_code as integer) as preconisation_code,
        cast(t.comparison_group as varchar) as comparison_group,
        cast({{ run_id_literal() }} as varchar) as run_id
    from indicators as i
    -- inner join: drops partial territories and cells without a code at that level
    -- (a commune outside any EPCI, an EPCI outside any zone)
    inner join territories as t
        on
            i.territory_level = t.territory_level
            and i.territory_code = t.territory_code
    -- left join: an indicator missing from the catalogue fails the not_null test on its label
    -- instead of vanishing
    left join catalogue as c on i.indicator_code = c.indicator_code
)

select * from final
