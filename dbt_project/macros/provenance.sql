{#-
    The provenance columns every raw table carries (oref.sources.base.provenance_select), renamed
    once for every staging model: the source, the URL and the sha256 of the landed file, its
    vintage, when it was fetched and the run that loaded it.
-#}
{% macro provenance_columns() -%}
    _source as source_name,
    _source_url as source_url,
    _file_sha256 as file_sha256,
    _vintage as source_vintage,
    _fetched_at as fetched_at,
    _run_id as load_run_id
{%- endmacro %}
