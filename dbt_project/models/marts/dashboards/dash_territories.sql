{#-
    The territories the dashboards show, each once, with a French label a reader can pick in a
    filter: "Martinique", "Centre (zone)", "Sainte-Anne (commune, Guadeloupe)". A région made of a
    single département (the DROM) is the same place as its département: only one of the two rows
    is kept, the one at the configured territory's level for the configured territory, the
    département for a comparison peer. Partial territories are left out, as in mart_indicators.
-#}

with

territories as (
    select
        territory_code,
        territory_level,
        territory_name,
        department_code,
        region_code,
        epci_code,
        zone_code,
        comparison_group
    from {{ ref('dim_territory') }}
    where not is_partial
),

departements as (
    select
        territory_code as department_code,
        territory_name as department_name,
        region_code
    from territories
    where territory_level = 'departement'
),

-- régions with exactly one département in the table: the same place under two codes
single_departement_regions as (
    select region_code
    from departements
    group by region_code
    having count(*) = 1
),

flagged as (
    select
        t.*,
        t.territory_level = '{{ territory_kind() }}'
        and t.territory_code = '{{ territory_code() }}' as is_configured_territory,
        case
            when t.territory_level = 'region'
                then t.territory_code in (select s.region_code from single_departement_regions as s)
            when t.territory_level = 'departement'
                then t.region_code in (select s.region_code from single_departement_regions as s)
            else false
        end as is_single_departement_pair
    from territories as t
),

-- the configured territory's région code (its own code for a région), to know which pair it is
configured as (
    select region_code
    from flagged
    where is_configured_territory
),

deduplicated as (
    select f.*
    from flagged as f
    where
        not f.is_single_departement_pair
        or (
            -- the configured territory's pair keeps the row at the configured level
            f.region_code in (select c.region_code from configured as c)
            and f.territory_level = '{{ territory_kind() }}'
        )
        or (
            -- any other pair keeps its département
            f.region_code not in (select c.region_code from configured as c)
            and f.territory_level = 'departement'
        )
),

zones as (
    select
        territory_code as zone_code,
        territory_name as zone_name
    from territories
    where territory_level = 'zone'
),

labelled as (
    select
        d.territory_code,
        d.territory_level,
        case d.territory_level
            when 'commune' then 'commune'
            when 'epci' then 'intercommunalité'
            when 'zone' then 'zone'
            when 'zone_emploi' then 'zone d''emploi'
            when 'bassin_bmo' then 'bassin d''emploi'
            when 'departement' then 'département'
            when 'region' then 'région'
            when 'pays' then 'pays'
        end as territory_level_label,
        d.territory_name,
        d.department_code,
        dep.department_name,
        d.region_code,
        d.epci_code,
        d.zone_code,
        z.zone_name,
        d.comparison_group,
        d.is_configured_territory
    from deduplicated as d
    left join departements as dep on d.department_code = dep.department_code
    -- the zone a commune, an intercommunalité or a zone itself belongs to
    left join zones as z
        on
            d.zone_code = z.zone_code
            and d.territory_level in ('commune', 'epci', 'zone')
),

final as (
    select
        cast(territory_code as varchar) as territory_code,
        cast(territory_level as varchar) as territory_level,
        cast(territory_level_label as varchar) as territory_level_label,
        cast(territory_name as varchar) as territory_name,
        cast(case
            -- the configured territory, the départements and France need no qualifier
            when is_configured_territory or territory_level in ('departement', 'pays') then territory_name
            when territory_level = 'region' then territory_name || ' (région)'
            when comparison_group = 'territoire' then territory_name || ' (' || territory_level_label || ')'
            else territory_name || ' (' || territory_level_label || ', ' || department_name || ')'
        end as varchar) as territory_label,
        cast(department_code as varchar) as department_code,
        cast(department_name as varchar) as department_name,
        cast(region_code as varchar) as region_code,
        cast(epci_code as varchar) as epci_code,
        cast(zone_code as varchar) as zone_code,
        -- the zone filter of the dashboards narrows zones, intercommunalités and communes at once
        cast(case
            when zone_name is null then null
            when comparison_group = 'territoire' then zone_name
            else zone_name || ' (' || department_name || ')'
        end as varchar) as zone_label,
        cast(comparison_group as varchar) as comparison_group,
        cast(is_configured_territory as boolean) as is_configured_territory,
        -- filters list the configured territory first, then its parts, then the peers and France
        cast(case
            when is_configured_territory then 0
            when comparison_group = 'territoire' and territory_level = 'departement' then 5
            when comparison_group = 'territoire' and territory_level = 'zone' then 10
            when comparison_group = 'territoire' and territory_level = 'epci' then 20
            when comparison_group = 'territoire' and territory_level = 'zone_emploi' then 25
            when comparison_group = 'territoire' and territory_level = 'bassin_bmo' then 30
            when comparison_group = 'territoire' and territory_level = 'commune' then 40
            when comparison_group = 'comparaison' and territory_level in ('departement', 'region') then 80
            when comparison_group = 'france' then 90
            else 85
        end as integer) as territory_sort
    from labelled
)

select * from final
