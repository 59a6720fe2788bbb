{#-
    The configured territory, read from the vars `territory_kind` and `territory_code`.
    Both are validated here because they end up inside SQL string literals.
-#}

{% macro territory_kind() -%}
    {%- set kind = var('territory_kind') | string | trim | lower -%}
    {%- if kind not in ['departement', 'region'] -%}
        {{ exceptions.raise_compiler_error(
            "var territory_kind must be 'departement' or 'region', got '" ~ kind ~ "'"
        ) }}
    {%- endif -%}
    {{ return(kind) }}
{%- endmacro %}


{% macro territory_code() -%}
    {%- set code = var('territory_code') | string | trim | upper -%}
    {#- an unquoted YAML var turns "02" into the integer 2: put the leading zero back -#}
    {%- if code | length == 1 -%}
        {%- set code = '0' ~ code -%}
    {%- endif -%}
    {#- INSEE codes: two digits (région, metropolitan département), 2A/2B (Corsica), three digits (DROM) -#}
    {%- if not modules.re.fullmatch('[0-9]{2,3}|2[AB]', code) -%}
        {{ exceptions.raise_compiler_error(
            "var territory_code must be an INSEE département or région code such as '972' or '02', got '"
            ~ code ~ "'"
        ) }}
    {%- endif -%}
    {{ return(code) }}
{%- endmacro %}


{#-
    A boolean SQL expression: true when a row whose département and région codes are the given
    columns lies inside the configured territory.
-#}
{% macro in_territory(department_column, region_column) -%}
    {%- if territory_kind() == 'departement' -%}
        ({{ department_column }} = '{{ territory_code() }}')
    {%- else -%}
        ({{ region_column }} = '{{ territory_code() }}')
    {%- endif -%}
{%- endmacro %}


{#- The pipeline's run identifier as a SQL string literal, stamped on fact rows for lineage. -#}
{% macro run_id_literal() -%}
    '{{ var('run_id') | string | replace("'", "''") }}'
{%- endmacro %}


{#-
    The comparison départements (var comparison_departements, the DROM by default) as a list of
    validated codes: they end up inside SQL string literals.
-#}
{% macro comparison_departements() -%}
    {%- set raw = var('comparison_departements', ['971', '972', '973', '974', '976']) -%}
    {%- if raw is string -%}
        {%- set raw = raw.split(',') -%}
    {%- endif -%}
    {%- set codes = [] -%}
    {%- for item in raw -%}
        {%- set code = item | string | trim | upper -%}
        {%- if code -%}
            {%- if not modules.re.fullmatch('[0-9]{2,3}|2[AB]', code) -%}
                {{ exceptions.raise_compiler_error("var comparison_departements: invalid code '" ~ code ~ "'") }}
            {%- endif -%}
            {%- do codes.append(code) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(codes) }}
{%- endmacro %}


{#-
    True when a row lies in the scope the warehouse publishes: the configured territory or one of
    the comparison départements.
-#}
{% macro in_scope(department_column, region_column) -%}
    {%- set peers = comparison_departements() -%}
    {%- if peers -%}
        ({{ in_territory(department_column, region_column) }}
        or {{ department_column }} in ('{{ peers | join("', '") }}'))
    {%- else -%}
        {{ in_territory(department_column, region_column) }}
    {%- endif -%}
{%- endmacro %}
