-- dash_indicators relabels mart_indicators; it may only drop the duplicate région of a
-- single-département région (dash_territories), never a row of a territory it shows.
select
    m.indicator_code,
    m.territory_level,
    m.territory_code,
    m.period
from {{ ref('mart_indicators') }} as m
inner join {{ ref('dash_territories') }} as t
    on
        m.territory_level = t.territory_level
        and m.territory_code = t.territory_code
left join {{ ref('dash_indicators') }} as d
    on
        m.indicator_code = d.indicator_code
        and m.territory_level = d.territory_level
        and m.territory_code = d.territory_code
        and m.period = d.period
where d.indicator_code is null
