{#-
    One row saying what the dashboards show: which territory, which run built the warehouse, and
    whether its data came from the real open-data endpoints (live) or from the bundled snapshot,
    part of which is synthetic. Every dashboard's header reads it, so a figure is never shown
    without its territory and provenance.
-#}

with

territories as (
    select
        territory_code,
        territory_level,
        territory_level_label,
        territory_name,
        territory_label,
        comparison_group,
        is_configured_territory,
        territory_sort
    from {{ ref('dash_territories') }}
),

configured as (
    select
        territory_code,
        territory_level,
        territory_level_label,
        territory_name
    from territories
    where is_configured_territory
),

peers as (
    select string_agg(territory_label, ', ' order by territory_label) as comparison_labels
    from territories
    where comparison_group = 'comparaison' and territory_level in ('departement', 'region')
),

described as (
    select
        cast(c.territory_code as varchar) as territory_code,
        cast(c.territory_level as varchar) as territory_level,
        cast(c.territory_name as varchar) as territory_name,
        cast(c.territory_name || ' (' || c.territory_level_label || ' ' || c.territory_code || ')' as varchar)
            as territory_title,
        cast(coalesce(p.comparison_labels, 'aucun') as varchar) as comparison_labels,
        cast({{ run_id_literal() }} as varchar) as run_id,
        cast('{{ source_mode() }}' as varchar) as source_mode,
        cast(case '{{ source_mode() }}'
            when 'live' then 'données ouvertes officielles, téléchargées auprès de leurs producteurs.'
            else
                'instantané de démonstration embarqué, dont une partie est synthétique '
                || '(voir data/snapshot/MANIFEST.json) : '
                || 'ces chiffres ne sont pas des statistiques officielles.'
        end as varchar) as source_mode_label,
        cast(current_timestamp as timestamp) as built_at,
        cast(strftime(current_timestamp at time zone 'UTC', '%d/%m/%Y à %H:%M UTC') as varchar)
            as built_at_label,
        -- yellow warns that the figures are a demonstration, blue is the official data
        cast(case '{{ source_mode() }}' when 'live' then '#e8f1f8' else '#fff4ce' end as varchar)
            as banner_color
    from configured as c
    cross join peers as p
),

-- the header every dashboard shows, as one HTML cell (Superset renders it in a table)
final as (
    select
        *,
        cast(
            '<div style="background:'
            || banner_color
            || ';padding:6px 12px;border-radius:4px;line-height:1.5">'
            || '<b>Territoire : ' || {{ html_escape('territory_title') }} || '</b> — comparaison : '
            || {{ html_escape('comparison_labels') }}
            || '<br><b>Données ' || source_mode || ' :</b> ' || {{ html_escape('source_mode_label') }}
            || '<br>Entrepôt construit le ' || built_at_label || ' par l''exécution <code>'
            || {{ html_escape('run_id') }} || '</code></div>'
            as varchar
        ) as header_html
    from described
)

select * from final
