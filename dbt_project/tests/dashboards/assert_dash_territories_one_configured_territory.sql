-- Exactly one territory is the configured one, and every label is unique (filters list names).
with

configured as (
    select count(*) as configured_rows
    from {{ ref('dash_territories') }}
    where is_configured_territory
),

labels as (
    select
        territory_label,
        count(*) as label_rows
    from {{ ref('dash_territories') }}
    group by territory_label
    having count(*) > 1
)

select
    'configured territory rows' as problem,
    cast(configured_rows as varchar) as detail
from configured
where configured_rows != 1
union all
select
    'duplicated label' as problem,
    territory_label as detail
from labels
