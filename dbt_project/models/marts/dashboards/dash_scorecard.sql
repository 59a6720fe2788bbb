{#-
    The préconisation scorecard as the dashboards show it: for the configured territory, its
    comparison départements and France, each indicator's latest and previous value written in
    French with its unit, the trend as an arrow, the target and the status, and the catalogue's
    definition, formula, source and vintage one click away: the indicator's name links to its
    catalogue page and shows them when hovered.
-#}

with

scorecard as (
    select
        preconisation_code,
        preconisation_title,
        indicator_code,
        indicator_label,
        unit,
        direction,
        territory_code,
        territory_level,
        latest_period,
        latest_value,
        previous_period,
        previous_value,
        value_change,
        trend,
        target_value,
        target_label,
        status,
        suppressed_count,
        source_vintage,
        series_note,
        data_origin,
        run_id
    from {{ ref('mart_preconisation_scorecard') }}
),

catalogue as (
    select
        indicator_code,
        definition_fr,
        formula_fr,
        source_fr,
        grain_fr
    from {{ ref('indicator_catalogue') }}
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

periods as (
    select
        period,
        period_label
    from {{ ref('dim_period') }}
),

joined as (
    select
        s.*,
        c.definition_fr,
        c.formula_fr,
        c.source_fr,
        c.grain_fr,
        t.territory_label,
        t.comparison_group,
        t.is_configured_territory,
        t.territory_sort,
        lp.period_label as latest_period_label,
        pp.period_label as previous_period_label
    from scorecard as s
    -- inner join: the duplicate of a single-département région is left out
    inner join territories as t
        on
            s.territory_level = t.territory_level
            and s.territory_code = t.territory_code
    left join catalogue as c on s.indicator_code = c.indicator_code
    left join periods as lp on s.latest_period = lp.period
    left join periods as pp on s.previous_period = pp.period
),

final as (
    select
        cast(preconisation_code as integer) as preconisation_code,
        cast(preconisation_code || '. ' || preconisation_title as varchar) as preconisation_label,
        cast(indicator_code as varchar) as indicator_code,
        cast(indicator_label as varchar) as indicator_label,
        -- the indicator's name links to its page in the catalogue (served by Superset at
        -- /oref/indicateurs), and hovering it shows the definition, formula, source and vintage
        cast(
            '<a href="/oref/indicateurs#' || indicator_code || '" target="_blank" title="'
            || replace({{ html_escape('definition_fr') }}, '"', '&quot;')
            || ' Formule : ' || replace({{ html_escape('formula_fr') }}, '"', '&quot;')
            || '. Source : ' || replace({{ html_escape('source_fr') }}, '"', '&quot;')
            || ', millésime '
            || replace({{ html_escape("coalesce(source_vintage, 'inconnu')") }}, '"', '&quot;')
            || coalesce('. Attention, ' || replace({{ html_escape('series_note') }}, '"', '&quot;'), '')
            || '.">' || {{ html_escape('indicator_label') }} || '</a>'
            -- a figure of the demonstration snapshot that is not the published one says so
            || case
                when data_origin = 'synthétique'
                    then
                        ' <span style="color:#8a5a00;font-size:85%" title="Jeu de démonstration : '
                        || 'chiffre généré dans la forme de la source, pas un chiffre officiel">'
                        || '· synthétique</span>'
                else ''
            end
            as varchar
        ) as indicator_html,
        cast(definition_fr as varchar) as definition,
        cast(unit as varchar) as unit,
        cast(direction as varchar) as direction,
        cast(territory_code as varchar) as territory_code,
        cast(territory_level as varchar) as territory_level,
        cast(territory_label as varchar) as territory_label,
        cast(comparison_group as varchar) as comparison_group,
        cast(is_configured_territory as boolean) as is_configured_territory,
        cast(territory_sort as integer) as territory_sort,
        cast(coalesce(latest_period_label, latest_period, '—') as varchar) as latest_period_label,
        cast(latest_value as double precision) as latest_value,
        cast({{ fr_value('latest_value', 'unit') }} as varchar) as latest_value_display,
        cast(coalesce(previous_period_label, previous_period, '—') as varchar) as previous_period_label,
        cast(coalesce({{ fr_value('previous_value', 'unit') }}, '—') as varchar) as previous_value_display,
        cast(case
            when value_change is null then '—'
            -- a share or a change moves in percentage points, not in percent
            when unit in ('part', 'variation')
                then
                    (case when value_change >= 0 then '+' else '−' end)
                    || {{ fr_number('abs(value_change) * 100', 1) }} || chr(160) || 'pt'
            else
                (case when value_change >= 0 then '+' else '−' end)
                || {{ fr_value('abs(value_change)', 'unit') }}
        end as varchar) as change_display,
        cast(trend as varchar) as trend,
        cast(case trend
            when 'hausse' then '↑ hausse'
            when 'baisse' then '↓ baisse'
            when 'stable' then '→ stable'
            else '— une seule période'
        end as varchar) as trend_label,
        cast(coalesce({{ fr_value('target_value', 'unit') }}, '—') as varchar) as target_display,
        cast(target_label as varchar) as target_label,
        cast(status as varchar) as status,
        cast(case status
            when 'cible_atteinte' then 'cible atteinte'
            when 'favorable' then 'favorable'
            when 'defavorable' then 'défavorable'
            when 'stable' then 'stable'
            when 'contexte' then 'contexte'
            else 'non évaluable'
        end as varchar) as status_label,
        cast(case status
            when 'cible_atteinte' then '<span style="color:#1a7f37">● cible atteinte</span>'
            when 'favorable' then '<span style="color:#1a7f37">● favorable</span>'
            when 'defavorable' then '<span style="color:#c62828">● défavorable</span>'
            when 'stable' then '<span style="color:#8a6d00">● stable</span>'
            when 'contexte' then '<span style="color:#555555">○ contexte</span>'
            else '<span style="color:#555555">○ non évaluable</span>'
        end as varchar) as status_html,
        cast(suppressed_count as integer) as suppressed_count,
        cast(1 as integer) as indicator_count,
        cast(source_vintage as varchar) as source_vintage,
        cast(data_origin as varchar) as data_origin,
        cast(run_id as varchar) as run_id
    from joined
)

select * from final
