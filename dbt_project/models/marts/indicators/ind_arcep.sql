{#-
    ARCEP FttH indicators (préconisation 3): the coverage rate of every commune, EPCI, zone, zone
    d'emploi, bassin, département and région of the scope, each quarter; the share of communes
    covered at 80 %; the gap between the best and the worst covered zone of a département (or
    région).
-#}

with

coverage as (
    select
        commune_code,
        epci_code,
        zone_code,
        employment_zone_code,
        basin_code,
        department_code,
        region_code,
        period,
        premises,
        ftth_connectable_premises,
        ftth_coverage_rate,
        source_vintage
    from {{ ref('fct_ftth_coverage') }}
),

by_territory as (
    {{ union_territory_levels('coverage', commune_levels(), [
        'period', 'premises', 'ftth_connectable_premises', 'ftth_coverage_rate', 'source_vintage',
    ]) }}
),

aggregates as (
    select
        territory_level,
        territory_code,
        period,
        -- capped per commune, like the commune rate, so a territory never exceeds 100 %
        -- summed as decimals: a double sum depends on the order of the rows, so two builds of
        -- the same files would publish values differing in the last bit
        sum(cast(least(ftth_connectable_premises, premises) as decimal(18, 4))) as connectable,
        sum(cast(premises as decimal(18, 4))) as premises,
        count(case when ftth_coverage_rate >= 0.8 then 1 end) as communes_80,
        count(*) as communes,
        max(source_vintage) as source_vintage
    from by_territory
    group by territory_level, territory_code, period
),

zone_rates as (
    select
        z.territory_code as zone_code,
        z.period,
        z.connectable / nullif(z.premises, 0) as rate
    from aggregates as z
    where z.territory_level = 'zone'
),

zone_parents as (
    select distinct
        zone_code,
        department_code,
        region_code
    from coverage
    where zone_code is not null
),

zone_gaps as (
    {{ union_territory_levels('zone_parents', department_levels(), ['zone_code']) }}
),

gaps as (
    select
        g.territory_level,
        g.territory_code,
        r.period,
        100 * (max(r.rate) - min(r.rate)) as gap_points,
        count(*) as zones
    from zone_gaps as g
    inner join zone_rates as r on g.zone_code = r.zone_code
    group by g.territory_level, g.territory_code, r.period
),

gap_rows as (
    select
        g.*,
        a.source_vintage
    from gaps as g
    inner join aggregates as a
        on
            g.territory_level = a.territory_level
            and g.territory_code = a.territory_code
            and g.period = a.period
),

final as (
    {{ indicator_rows('arcep_ftth_coverage', 'aggregates',
        numerator='connectable', denominator='premises') }}
    union all
    {{ indicator_rows('arcep_communes_ftth_80_share', 'aggregates',
        numerator='communes_80', denominator='communes', where="territory_level != 'commune'") }}
    union all
    -- a gap needs at least two zones
    {{ indicator_rows('arcep_ftth_zone_gap', 'gap_rows', value='gap_points', where='zones >= 2') }}
)

select * from final
