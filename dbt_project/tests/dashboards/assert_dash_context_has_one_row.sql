-- The dashboards' header reads exactly one row: the configured territory, found once.
select count(*) as context_rows
from {{ ref('dash_context') }}
having count(*) != 1
