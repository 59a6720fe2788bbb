{#-
    Numbers written as a French reader expects them in the dashboards' text columns: a no-break
    space between thousands and a decimal comma (1 234 ; 67,9 %). Charts format their numeric
    columns themselves (Superset's French d3 locale); these macros serve the columns that mix
    units in one table, such as the scorecard. chr(160) is U+00A0, the no-break space the charts
    use too (the narrow one, U+202F, is too thin to read at a Big Number's size).
-#}

{% macro fr_number(expression, decimals=0) -%}
    replace(replace(format('{:,.{{ decimals }}f}', cast({{ expression }} as double)), ',', chr(160)), '.', ',')
{%- endmacro %}


{#-
    A value with its unit, as text: shares as percentages (0,679 -> 67,9 %), changes as signed
    percentages (-0,052 -> −5,2 %, with the minus sign U+2212), points and ratios with their
    decimals, counts as integers. NULL stays NULL: the caller says why a value is missing.
-#}
{% macro fr_value(value, unit) -%}
    case
        when {{ value }} is null then null
        when {{ unit }} = 'part' then {{ fr_number(value ~ ' * 100', 1) }} || chr(160) || '%'
        when {{ unit }} = 'variation'
            then
                (case when round({{ value }} * 100, 1) < 0 then '−' else '+' end)
                || {{ fr_number('abs(' ~ value ~ ') * 100', 1) }} || chr(160) || '%'
        when {{ unit }} = 'points' then {{ fr_number(value, 1) }} || chr(160) || 'pts'
        when {{ unit }} in ('ratio', 'indice') then {{ fr_number(value, 2) }}
        else {{ fr_number(value, 0) }}
    end
{%- endmacro %}


{#- Text made safe for the HTML cells of a Superset table (the catalogue's French prose). -#}
{% macro html_escape(expression) -%}
    replace(replace(replace({{ expression }}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')
{%- endmacro %}
