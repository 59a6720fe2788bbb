{#-
    The configured territory, read from the vars the pipeline passes on every run
    (oref.dbt.dbt_vars). oref.config.Settings validated them: these macros do not check the codes
    again. A var that is missing fails the run (dbt: "Required var ... not found") instead of
    building some default territory; values are escaped because they end up inside SQL string
    literals.
-#}

{% macro territory_kind() -%}
    {{ return(var('territory_kind') | string | replace("'", "''")) }}
{%- endmacro %}


{% macro territory_code() -%}
    {{ return(var('territory_code') | string | replace("'", "''")) }}
{%- endmacro %}


{#-
    A boolean SQL expression: true when a row whose département and région codes are the given
    columns lies inside the configured territory.
-#}
{% macro in_territory(department_column, region_column) -%}
    {%- if territory_kind() == 'departement' -%}
        ({{ department_column }} = '{{ territory_code() }}')
    {%- elif territory_kind() == 'region' -%}
        ({{ region_column }} = '{{ territory_code() }}')
    {%- elif execute -%}
        {#- `dbt parse` renders without vars (var() is then none): only a real run must have one -#}
        {{ exceptions.raise_compiler_error(
            "var territory_kind is '" ~ territory_kind() ~ "', neither departement nor region"
        ) }}
    {%- endif -%}
{%- endmacro %}


{#- The pipeline's run identifier as a SQL string literal, stamped on fact rows for lineage. -#}
{% macro run_id_literal() -%}
    '{{ var('run_id') | string | replace("'", "''") }}'
{%- endmacro %}


{#-
    The comparison départements (var comparison_departements: a list, or a comma-separated string
    as sqlfluff passes it), possibly empty.
-#}
{% macro comparison_departements() -%}
    {#- none only while `dbt parse` renders without vars; a run without the var fails in var() -#}
    {%- set raw = var('comparison_departements') or [] -%}
    {%- if raw is string -%}
        {%- set raw = raw.split(',') -%}
    {%- endif -%}
    {%- set codes = [] -%}
    {%- for item in raw if item | string | trim -%}
        {%- do codes.append(item | string | trim | replace("'", "''")) -%}
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


{#-
    Where the run's source files came from (var source_mode): 'live' for the real open-data
    endpoints, 'snapshot' for the bundled snapshot served on loopback. Dashboards show it.
-#}
{% macro source_mode() -%}
    {%- set mode = var('source_mode') | string | trim | lower -%}
    {#- `dbt parse` renders without vars (var() is then none): only a real run must have one -#}
    {%- if execute and mode not in ['live', 'snapshot'] -%}
        {{ exceptions.raise_compiler_error("var source_mode must be 'live' or 'snapshot', got '" ~ mode ~ "'") }}
    {%- endif -%}
    {{ return(mode) }}
{%- endmacro %}
