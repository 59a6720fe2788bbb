{#-
    A `relationships` test on a composite key: every combination of `columns` in the model with
    no NULL must exist as `to_columns` in `to` (optionally restricted by `to_where`). Needed for
    territories, which are identified by level and code together: a bassin code and a
    département code can both be three digits. With `child_in_scope`, only the child rows inside
    the published scope (configured territory and comparison départements) are checked: national
    facts also hold rows of territories that dim_territory does not list.
-#}
{% test relationships_multi(model, columns, to, to_columns, to_where=none, child_in_scope=false) %}

select child.*
from {{ model }} as child
where
    {% if child_in_scope -%}
        {{ in_scope('child.department_code', 'child.region_code') }} and
    {% endif -%}
    {% for column in columns -%}
        child.{{ column }} is not null and
    {% endfor -%}
    not exists (
        select 1
        from {{ to }} as parent
        where
            {% for column in columns -%}
                parent.{{ to_columns[loop.index0] }} = child.{{ column }} and
            {% endfor -%}
            {{ to_where if to_where else 'true' }}
    )

{% endtest %}
