{#-
    The layers read downward only: staging (the only place source() appears) -> intermediate ->
    marts. In marts, the facts and dimensions are read by the indicator models
    (marts/indicators/ind_*), which mart_indicators unions for the serving marts. A model never
    reads a layer above its own folder's. Lists each offending (model, what it reads) pair.
-#}

{%- set rank = {'staging': 1, 'intermediate': 2, 'marts': 3} -%}
{%- set offences = [] -%}
{%- if execute -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.package_name == project_name -%}
        {%- set layer = node.fqn[1] -%}
        {%- for dependency in node.depends_on.nodes -%}
            {%- if dependency.startswith('source.') and layer != 'staging' -%}
                {%- do offences.append((node.name, dependency)) -%}
            {%- elif dependency.startswith('model.') -%}
                {%- set read = graph.nodes[dependency] -%}
                {%- if rank.get(read.fqn[1], 99) > rank.get(layer, 0) -%}
                    {%- do offences.append((node.name, read.name)) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endif %}

select
    model_name,
    reads
from (
    select
        cast(null as varchar) as model_name,
        cast(null as varchar) as reads
    {%- for model_name, reads in offences %}
        union all
        select
            '{{ model_name }}',
            '{{ reads }}'
    {%- endfor %}
) as offences
where model_name is not null
