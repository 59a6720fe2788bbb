{#-
    The digital NAF perimeters are nested: it_core ⊂ ict_services ⊂ ict_oecd.
    The seed `naf_digital_perimeters` stores each code once, under the smallest perimeter that
    contains it; membership of the wider perimeters is expanded here, in one place, so that a
    code added to the seed is counted in every perimeter that includes it.
-#}

{#- narrowest first -#}
{% macro naf_perimeters() -%}
    {{ return(['it_core', 'ict_services', 'ict_oecd']) }}
{%- endmacro %}


{#- true when `perimeter_column` (the seed's smallest perimeter) is inside `perimeter` -#}
{% macro naf_in_perimeter(perimeter_column, perimeter) -%}
    {%- set order = naf_perimeters() -%}
    {%- if perimeter not in order -%}
        {{ exceptions.raise_compiler_error("unknown NAF perimeter '" ~ perimeter ~ "'") }}
    {%- endif -%}
    {%- set included = order[:order.index(perimeter) + 1] -%}
    coalesce({{ perimeter_column }} in ('{{ included | join("', '") }}'), false)
{%- endmacro %}
