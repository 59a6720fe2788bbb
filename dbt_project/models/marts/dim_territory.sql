{#-
    Every territory an indicator can be published for: the configured territory (vars
    territory_kind / territory_code) and the comparison départements (var comparison_departements,
    the DROM by default) — their communes, EPCIs, zones, INSEE zones d'emploi 2020, BMO bassins,
    départements and régions — plus France entière (territory_code 'FR'). A territory that extends
    beyond the scope (an EPCI straddling two départements, the région of one département among
    several) is kept, flagged is_partial: figures computed from in-scope data alone would
    understate it, so mart_indicators skips it. A bassin is known from the commune -> bassin table
    (France Travail's 2021 bassins) and from the BMO survey rows, which carry their own codes: both
    are one territory when the codes agree (Martinique: 201-204), two when a survey renumbered a
    bassin (Guadeloupe: Marie-Galante is 103 in the table and in BMO 2024, 116 in BMO 2025).
-#}

with

communes as (
    select
        commune_code,
        commune_name,
        department_code,
        region_code
    from {{ ref('stg_geo__communes') }}
),

epci_communes as (
    select
        commune_code,
        epci_code
    from {{ ref('stg_geo__epci_communes') }}
    where epci_code is not null
),

epcis as (
    select
        epci_code,
        epci_name
    from {{ ref('stg_geo__epci') }}
),

epci_zones as (
    select
        epci_code,
        zone_code,
        zone_name
    from {{ ref('epci_zone') }}
),

employment_zone_communes as (
    select
        commune_code,
        employment_zone_code
    from {{ ref('stg_geo__employment_zone_communes') }}
),

employment_zones as (
    select
        employment_zone_code,
        employment_zone_name
    from {{ ref('stg_geo__employment_zones') }}
),

basin_communes as (
    select
        commune_code,
        basin_code,
        basin_name
    from {{ ref('stg_geo__basin_communes') }}
),

departements as (
    select
        department_code,
        department_name,
        region_code
    from {{ ref('stg_geo__departements') }}
),

regions as (
    select
        region_code,
        region_name
    from {{ ref('stg_geo__regions') }}
),

basin_cells as (
    select
        basin_code,
        basin_name,
        department_code,
        region_code,
        survey_year
    from {{ ref('stg_bmo__recruitment_needs') }}
),

-- every commune of France, with its EPCI, zone, zone d'emploi and bassin, flagged when inside
-- the configured territory
communes_located as (
    select
        c.commune_code,
        c.commune_name,
        c.department_code,
        c.region_code,
        ec.epci_code,
        ez.zone_code,
        zc.employment_zone_code,
        bc.basin_code,
        {{ in_scope('c.department_code', 'c.region_code') }} as is_in_scope
    from communes as c
    left join epci_communes as ec on c.commune_code = ec.commune_code
    left join epci_zones as ez on ec.epci_code = ez.epci_code
    left join employment_zone_communes as zc on c.commune_code = zc.commune_code
    left join basin_communes as bc on c.commune_code = bc.commune_code
),

commune_rows as (
    select
        commune_code as territory_code,
        'commune' as territory_level,
        commune_name as territory_name,
        department_code,
        region_code,
        epci_code,
        zone_code,
        employment_zone_code,
        basin_code,
        false as is_partial
    from communes_located
    where is_in_scope
),

-- An EPCI can straddle départements: it is attached to the one holding most of its communes.
epci_groups as (
    {{ communes_grouped_by('communes_located', 'epci_code') }}
),

epci_rows as (
    select
        es.epci_code as territory_code,
        'epci' as territory_level,
        coalesce(e.epci_name, es.epci_code) as territory_name,
        es.department_code,
        es.region_code,
        es.epci_code,
        ez.zone_code,
        cast(null as varchar) as employment_zone_code,
        cast(null as varchar) as basin_code,
        es.is_partial
    from epci_groups as es
    left join epcis as e on es.epci_code = e.epci_code
    left join epci_zones as ez on es.epci_code = ez.epci_code
    where es.has_communes_in_scope
),

-- A zone is partial when one of its EPCIs is partial or lies wholly outside the territory.
zone_rows as (
    select
        ez.zone_code as territory_code,
        'zone' as territory_level,
        ez.zone_name as territory_name,
        min(er.department_code) as department_code,
        min(er.region_code) as region_code,
        cast(null as varchar) as epci_code,
        ez.zone_code,
        cast(null as varchar) as employment_zone_code,
        cast(null as varchar) as basin_code,
        bool_or(er.territory_code is null or er.is_partial) as is_partial
    from epci_zones as ez
    left join epci_rows as er on ez.epci_code = er.territory_code
    group by ez.zone_code, ez.zone_name
    having bool_or(er.territory_code is not null)
),

-- INSEE's zones d'emploi 2020 partition the communes; a zone is attached to the département
-- holding most of its communes, and is partial when some of them lie outside the scope.
employment_zone_groups as (
    {{ communes_grouped_by('communes_located', 'employment_zone_code') }}
),

employment_zone_rows as (
    select
        zs.employment_zone_code as territory_code,
        'zone_emploi' as territory_level,
        coalesce(z.employment_zone_name, zs.employment_zone_code) as territory_name,
        zs.department_code,
        zs.region_code,
        cast(null as varchar) as epci_code,
        cast(null as varchar) as zone_code,
        zs.employment_zone_code,
        cast(null as varchar) as basin_code,
        zs.is_partial
    from employment_zone_groups as zs
    left join employment_zones as z on zs.employment_zone_code = z.employment_zone_code
    where zs.has_communes_in_scope
),

-- BMO publishes bassin x métier x département rows: a bassin is attached to the département
-- with most rows, and is partial when it also has rows outside the territory.
basin_departements as (
    select
        basin_code,
        department_code,
        region_code,
        {{ in_scope('department_code', 'region_code') }} as is_in_scope,
        row_number() over (
            partition by basin_code
            order by count(*) desc, department_code asc
        ) as department_rank
    from basin_cells
    group by basin_code, department_code, region_code
),

-- bassins are redrawn and renumbered between survey years (Guadeloupe's Marie-Galante is 103 in
-- 2024, 116 in 2025): name them as in the latest survey that has them, and say which survey when
-- it is not the latest, so that two codes never share a name
basin_names as (
    select
        basin_code,
        case
            when survey_year < max(survey_year) over ()
                then basin_name || ' (découpage ' || survey_year || ')'
            else basin_name
        end as basin_name,
        row_number() over (
            partition by basin_code
            order by survey_year desc, basin_name asc
        ) as name_rank
    from basin_cells
),

survey_basins as (
    select
        bd.basin_code,
        bn.basin_name,
        min(case when bd.department_rank = 1 then bd.department_code end) as department_code,
        min(case when bd.department_rank = 1 then bd.region_code end) as region_code,
        bool_or(bd.is_in_scope) as has_rows_in_scope,
        not bool_and(bd.is_in_scope) as is_partial
    from basin_departements as bd
    inner join basin_names as bn
        on bd.basin_code = bn.basin_code and bn.name_rank = 1
    group by bd.basin_code, bn.basin_name
),

-- the bassins of the commune -> bassin table: attached to the département holding most of their
-- communes, partial when some of them lie outside the scope; named by their most frequent label
-- (the table spells one code two ways now and then)
commune_basin_groups as (
    {{ communes_grouped_by('communes_located', 'basin_code') }}
),

commune_basin_names as (
    select
        basin_code,
        basin_name,
        row_number() over (
            partition by basin_code
            order by count(*) desc, basin_name asc
        ) as name_rank
    from basin_communes
    group by basin_code, basin_name
),

commune_basins as (
    select
        bg.basin_code,
        bn.basin_name,
        bg.department_code,
        bg.region_code,
        bg.has_communes_in_scope,
        bg.is_partial
    from commune_basin_groups as bg
    left join commune_basin_names as bn on bg.basin_code = bn.basin_code and bn.name_rank = 1
),

-- one bassin per code: the survey's name and département when it has rows, partial when either
-- its survey rows or its communes reach beyond the scope
basin_rows as (
    select
        coalesce(sb.basin_code, cb.basin_code) as territory_code,
        'bassin_bmo' as territory_level,
        coalesce(sb.basin_name, cb.basin_name, sb.basin_code, cb.basin_code) as territory_name,
        coalesce(sb.department_code, cb.department_code) as department_code,
        coalesce(sb.region_code, cb.region_code) as region_code,
        cast(null as varchar) as epci_code,
        cast(null as varchar) as zone_code,
        cast(null as varchar) as employment_zone_code,
        coalesce(sb.basin_code, cb.basin_code) as basin_code,
        coalesce(sb.is_partial, false) or coalesce(cb.is_partial, false) as is_partial
    from survey_basins as sb
    full outer join commune_basins as cb on sb.basin_code = cb.basin_code
    where coalesce(sb.has_rows_in_scope, false) or coalesce(cb.has_communes_in_scope, false)
),

departement_rows as (
    select
        department_code as territory_code,
        'departement' as territory_level,
        department_name as territory_name,
        department_code,
        region_code,
        cast(null as varchar) as epci_code,
        cast(null as varchar) as zone_code,
        cast(null as varchar) as employment_zone_code,
        cast(null as varchar) as basin_code,
        false as is_partial
    from departements
    where {{ in_scope('department_code', 'region_code') }}
),

-- a région is partial when the territory is one of several départements in it
region_scope as (
    select
        region_code,
        bool_or({{ in_scope('department_code', 'region_code') }}) as has_departements_in_scope,
        not bool_and({{ in_scope('department_code', 'region_code') }}) as is_partial
    from departements
    group by region_code
),

region_rows as (
    select
        r.region_code as territory_code,
        'region' as territory_level,
        r.region_name as territory_name,
        cast(null as varchar) as department_code,
        r.region_code,
        cast(null as varchar) as epci_code,
        cast(null as varchar) as zone_code,
        cast(null as varchar) as employment_zone_code,
        cast(null as varchar) as basin_code,
        rs.is_partial
    from regions as r
    inner join region_scope as rs on r.region_code = rs.region_code
    where rs.has_departements_in_scope
),

-- France entière: computed from the national files only (BMO, tensions)
france_row as (
    select
        'FR' as territory_code,
        'pays' as territory_level,
        'France entière' as territory_name,
        cast(null as varchar) as department_code,
        cast(null as varchar) as region_code,
        cast(null as varchar) as epci_code,
        cast(null as varchar) as zone_code,
        cast(null as varchar) as employment_zone_code,
        cast(null as varchar) as basin_code,
        false as is_partial
),

configured_regions as (
    select distinct region_code
    from departements
    where {{ in_territory('department_code', 'region_code') }}
),

territories as (
    select * from commune_rows
    union all
    select * from epci_rows
    union all
    select * from zone_rows
    union all
    select * from employment_zone_rows
    union all
    select * from basin_rows
    union all
    select * from departement_rows
    union all
    select * from region_rows
    union all
    select * from france_row
),

final as (
    select
        cast(territory_code as varchar) as territory_code,
        cast(territory_level as varchar) as territory_level,
        cast(territory_name as varchar) as territory_name,
        cast(department_code as varchar) as department_code,
        cast(region_code as varchar) as region_code,
        cast(epci_code as varchar) as epci_code,
        cast(zone_code as varchar) as zone_code,
        cast(employment_zone_code as varchar) as employment_zone_code,
        cast(basin_code as varchar) as basin_code,
        cast(is_partial as boolean) as is_partial,
        cast(case
            when territory_level = 'pays' then 'france'
            when
                territory_level = 'region'
                and region_code in (select cr.region_code from configured_regions as cr)
                then 'territoire'
            when territory_level != 'region' and {{ in_territory('department_code', 'region_code') }}
                then 'territoire'
            else 'comparaison'
        end as varchar) as comparison_group
    from territories
)

select * from final
