{#-
    The serving table: one row per indicator x territory x period, in long form. Indicator
    codes and column names are a public interface (dashboards, open data): never rename them.
    Each family of indicators is computed in models/marts/indicators/ind_<family>.sql (the
    catalogue's column model names it); this model unions them, keeps the territories of
    dim_territory that are not partial (in-scope data alone would understate a partial one) and
    labels every row from the catalogue.
    data_origin says whether a row's figure is real: always in live mode; in snapshot mode (the
    demonstration data), only when every source of the indicator is real for that period and
    territory according to the seed snapshot_data_origin (the most precise rule wins).
-#}

with

catalogue as (
    select
        indicator_code,
        label_fr,
        unit,
        preconisation_code,
        source_codes
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

-- which départements a territory covers: one for a département and the levels below it, all
-- of its région's for a région, every one for France entière
departements as (
    select
        department_code,
        region_code
    from {{ ref('stg_geo__departements') }}
),

territory_departements as (
    select
        territory_level,
        territory_code,
        department_code
    from {{ ref('dim_territory') }}
    where department_code is not null and territory_level not in ('region', 'pays')
    union all
    select
        'region' as territory_level,
        region_code as territory_code,
        department_code
    from departements
    union all
    select
        'pays' as territory_level,
        'FR' as territory_code,
        department_code
    from departements
),

origin_rules as (
    select
        source_code,
        origin,
        note_fr,
        string_split(indicator_codes, ';') as indicator_codes,
        string_split(periods, ';') as periods,
        string_split(departements, ';') as departements,
        string_split(territory_levels, ';') as territory_levels,
        cast(indicator_codes is not null as integer) + cast(periods is not null as integer)
        + cast(departements is not null as integer) + cast(territory_levels is not null as integer)
            as rule_precision
    from {{ ref('snapshot_data_origin') }}
),

row_sources as (
    select distinct
        i.indicator_code,
        i.territory_level,
        i.territory_code,
        i.period,
        trim(s.source_code) as source_code
    from indicators as i
    inner join catalogue as c on i.indicator_code = c.indicator_code
    cross join unnest(string_split(c.source_codes, ';')) as s (source_code)
),

-- the rules that apply to a row's source: its indicator, period and level listed (or any), and
-- every département of its territory listed (or any)
matching_rules as (
    select
        rs.indicator_code,
        rs.territory_level,
        rs.territory_code,
        rs.period,
        rs.source_code,
        r.origin,
        r.note_fr,
        r.rule_precision
    from row_sources as rs
    inner join origin_rules as r
        on
            rs.source_code = r.source_code
            and (r.indicator_codes is null or list_contains(r.indicator_codes, rs.indicator_code))
            and (r.periods is null or list_contains(r.periods, rs.period))
            and (r.territory_levels is null or list_contains(r.territory_levels, rs.territory_level))
    left join territory_departements as td
        on
            rs.territory_level = td.territory_level
            and rs.territory_code = td.territory_code
    group by all
    having
        bool_and(r.departements is null or list_contains(r.departements, td.department_code))
        and (bool_and(r.departements is null) or count(td.department_code) > 0)
),

source_origins as (
    select
        indicator_code,
        territory_level,
        territory_code,
        period,
        source_code,
        origin,
        note_fr
    from matching_rules
    qualify row_number() over (
        partition by indicator_code, territory_level, territory_code, period, source_code
        order by rule_precision desc, origin asc
    ) = 1
),

row_origins as (
    select
        indicator_code,
        territory_level,
        territory_code,
        period,
        case when bool_and(origin = 'réel') then 'réel' else 'synthétique' end as data_origin,
        string_agg(
            source_code || ' : ' || note_fr, ' ; ' order by source_code
        ) filter (where origin = 'synthétique') as data_origin_note
    from source_origins
    group by indicator_code, territory_level, territory_code, period
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
        -- live mode: every figure is the published one; snapshot mode: as the seed says, and a
        -- row no rule covers is not vouched for (synthetic)
        cast(case
            when {{ var('source_mode') != 'snapshot' }} then 'réel'
            else coalesce(o.data_origin, 'synthétique')
        end as varchar) as data_origin,
        cast(case when {{ var('source_mode') == 'snapshot' }} then o.data_origin_note end as varchar)
            as data_origin_note,
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
    left join row_origins as o
        on
            i.indicator_code = o.indicator_code
            and i.territory_level = o.territory_level
            and i.territory_code = o.territory_code
            and i.period = o.period
)

select * from final
