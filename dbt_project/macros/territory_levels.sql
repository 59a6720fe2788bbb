{#-
    Indicators are computed for every territory level a fact row belongs to: each row is repeated
    once per level, with that level's code as territory_code (NULL codes are dropped later, when
    mart_indicators joins dim_territory).
-#}

{#- (level, column) pairs of the territorial geography of a commune-grain fact -#}
{% macro commune_levels() -%}
    {{ return([
        ('commune', 'commune_code'),
        ('epci', 'epci_code'),
        ('zone', 'zone_code'),
        ('departement', 'department_code'),
        ('region', 'region_code'),
    ]) }}
{%- endmacro %}


{#- (level, column) pairs of a département-grain fact -#}
{% macro department_levels() -%}
    {{ return([
        ('departement', 'department_code'),
        ('region', 'region_code'),
    ]) }}
{%- endmacro %}


{#-
    select `columns` from `relation` once per (level, column) pair, as territory_level /
    territory_code; a row without a code at a level (a commune outside any zone) is left out there
-#}
{% macro union_territory_levels(relation, levels, columns) -%}
    {%- for level, column in levels %}
        select
            '{{ level }}' as territory_level,
            {{ column }} as territory_code,
            {{ columns | join(',\n            ') }}
        from {{ relation }}
        where {{ column }} is not null
        {% if not loop.last -%} union all {%- endif %}
    {%- endfor %}
{%- endmacro %}


{#-
    One indicator's rows in the shape every int_indicators__* model returns (indicator_code,
    territory_level, territory_code, period, value, numerator, denominator, suppressed_count,
    source_vintage), read from `relation`. `value` is a SQL expression; with `ratio`, value is
    numerator / denominator (NULL when the denominator is 0) and both are published beside it.
-#}
{% macro indicator_rows(code, relation, value=none, numerator=none, denominator=none,
                        suppressed_count='0', where=none) -%}
    select
        '{{ code }}' as indicator_code,
        territory_level,
        territory_code,
        period,
        {%- if value is none %}
        cast({{ numerator }} as double precision) / nullif({{ denominator }}, 0) as value,
        {%- else %}
        cast({{ value }} as double precision) as value,
        {%- endif %}
        cast({{ numerator if numerator is not none else 'null' }} as double precision) as numerator,
        cast({{ denominator if denominator is not none else 'null' }} as double precision) as denominator,
        {{ suppressed_count }} as suppressed_count,
        source_vintage
    from {{ relation }}
    {%- if where %}
    where {{ where }}
    {%- endif %}
{%- endmacro %}


{#-
    A sum over cells some of which are secret (BMO "*", Urssaf blanks): the sum of the published
    cells, NULL (unknown) when every cell is secret, 0 only when there is no cell at all.
-#}
{% macro published_sum(total, published_cells, secret_cells) -%}
    case
        when {{ published_cells }} > 0 then {{ total }}
        when {{ secret_cells }} = 0 then 0
    end
{%- endmacro %}
