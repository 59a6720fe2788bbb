-- The socle dashboard shows BMO digital projects twice: per métier (dash_recruitment) and as the
-- territory's total (dash_indicators). Both must agree, value and secret cells, for every
-- territory and survey year: a bar chart and a Big Number that disagree would mislead.
with

by_occupation as (
    select
        territory_level,
        territory_code,
        period,
        sum(recruitment_projects) as projects,
        sum(suppressed_cells) as suppressed_cells
    from {{ ref('dash_recruitment') }}
    group by territory_level, territory_code, period
),

indicator as (
    select
        territory_level,
        territory_code,
        period,
        value,
        suppressed_count
    from {{ ref('dash_indicators') }}
    where indicator_code = 'bmo_digital_recruitment_projects'
)

select
    coalesce(o.territory_level, i.territory_level) as territory_level,
    coalesce(o.territory_code, i.territory_code) as territory_code,
    coalesce(o.period, i.period) as period,
    o.projects,
    i.value,
    o.suppressed_cells,
    i.suppressed_count
from by_occupation as o
full outer join indicator as i
    on
        o.territory_level = i.territory_level
        and o.territory_code = i.territory_code
        and o.period = i.period
where
    -- a territory without any digital cell has no métier row and an indicator of 0
    (o.territory_code is null and (i.value != 0 or i.suppressed_count != 0))
    or (
        o.territory_code is not null
        and (o.projects is distinct from i.value or o.suppressed_cells is distinct from i.suppressed_count)
    )
