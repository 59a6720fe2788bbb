{#-
    Indicators are computed for every territory level a fact row belongs to: each row is repeated
    once per level, with that level's code as territory_code. A row without a code at a level is
    left out there; mart_indicators then keeps the territories of dim_territory only.
-#}

{#- (level, column) pairs of the territorial geography of a commune-grain fact -#}
{% macro commune_levels() -%}
    {{ return([
        ('commune', 'commune_code'),
        ('epci', 'epci_code'),
        ('zone', 'zone_code'),
        ('zone_emploi', 'employment_zone_code'),
        ('bassin_bmo', 'basin_code'),
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
    Communes grouped by a code (EPCI, zone d'emploi, bassin): one row per code with the département
    (and its région) holding most of the group's communes, the lowest code on a tie, whether any
    commune is in the scope (has_communes_in_scope) and whether some lie outside it (is_partial).
    `relation` has commune_code, department_code, region_code, is_in_scope and the code column.
-#}
{% macro communes_grouped_by(relation, code) -%}
    select
        {{ code }},
        department_code,
        region_code,
        bool_or(bool_or(is_in_scope)) over (partition by {{ code }}) as has_communes_in_scope,
        not bool_and(bool_and(is_in_scope)) over (partition by {{ code }}) as is_partial
    from {{ relation }}
    where {{ code }} is not null
    group by {{ code }}, department_code, region_code
    qualify row_number() over (partition by {{ code }} order by count(*) desc, department_code asc) = 1
{%- endmacro %}
