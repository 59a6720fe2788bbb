{#-
    Use a model's custom schema as-is (`staging`, `marts`, `reference`) instead of dbt's default
    `<target_schema>_<custom_schema>` (`main_staging`): Superset datasets, the quality checks and
    analysts' SQL name these schemas directly, whatever the target.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {#- no custom schema configured: fall back to the target's own schema -#}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
