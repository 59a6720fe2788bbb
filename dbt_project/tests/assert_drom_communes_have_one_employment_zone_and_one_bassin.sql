{#-
    Every commune of the five DROM (971 Guadeloupe, 972 Martinique, 973 Guyane, 974 La Réunion,
    976 Mayotte) belongs to exactly one INSEE zone d'emploi 2020 and exactly one BMO bassin: the
    communes roll up to both levels, so a commune missing from either table would vanish from its
    zone's or bassin's totals, and one listed twice would count twice. Returns each offending
    commune with how many zones and bassins it has.
-#}

with

drom_communes as (
    select
        commune_code,
        department_code
    from {{ ref('stg_geo__communes') }}
    where department_code in ('971', '972', '973', '974', '976')
),

zone_memberships as (
    select
        commune_code,
        count(*) as zones
    from {{ ref('stg_geo__employment_zone_communes') }}
    group by commune_code
),

basin_memberships as (
    select
        commune_code,
        count(*) as basins
    from {{ ref('stg_geo__basin_communes') }}
    group by commune_code
)

select
    c.commune_code,
    c.department_code,
    coalesce(z.zones, 0) as zones,
    coalesce(b.basins, 0) as basins
from drom_communes as c
left join zone_memberships as z on c.commune_code = z.commune_code
left join basin_memberships as b on c.commune_code = b.commune_code
where coalesce(z.zones, 0) != 1 or coalesce(b.basins, 0) != 1
