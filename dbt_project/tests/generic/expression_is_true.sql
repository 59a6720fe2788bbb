{#-
    Fails on every row where `expression` is not true. Written here rather than taken from
    dbt_utils because the project builds offline, with no `dbt deps`.
-#}
{% test expression_is_true(model, expression) %}

select *
from {{ model }}
where not coalesce({{ expression }}, false)

{% endtest %}
