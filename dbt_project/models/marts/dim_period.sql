{#-
    Every period for which some source has data, for every territory loaded (facts are national:
    the scope is no longer the configured territory alone). Three grains, keyed by text:
    years ('2025'), quarters ('2025-T4', the ARCEP form) and months ('2025-11'). A month brings
    its quarter and year, a quarter its year, so that every fact can roll up.
-#}

-- quarter and month are column names of the published interface, like year
-- sqlfluff:rules:references.keywords:ignore_words:year,value,quarter,month

with

years as (
    -- BMO survey
    select survey_year as year
    from {{ ref('stg_bmo__recruitment_needs') }}
    union
    -- Urssaf establishments and headcount
    select year
    from {{ ref('stg_urssaf__establishments') }}
    union
    -- DARES / France Travail labour-market tensions
    select tension_year as year
    from {{ ref('stg_tensions__indicators') }}
    union
    -- company creations (Sirene): every creation year, since the creations indicator is
    -- published for all of them (the establishments still active were created as early as 1985)
    select year(created_date) as year
    from {{ ref('stg_sirene__establishments') }}
),

quarters as (
    -- ARCEP FttH deployments, end-of-quarter stocks
    select
        year,
        quarter_number as quarter
    from {{ ref('stg_arcep__ftth_quarterly') }}
),

months as (
    -- Mon Compte Formation catalogue extraction
    select extract_date as month_date
    from {{ ref('stg_mcf__training_offers') }}
    union
    -- RNCP / RS export (the vintage is the export day)
    select try_cast(source_vintage as date) as month_date
    from {{ ref('stg_rncp__certifications') }}
    union
    -- job offers: creation month and snapshot (fetch) month
    select created_date as month_date
    from {{ ref('stg_offers__job_offers') }}
    union
    select cast(fetched_at as date) as month_date
    from {{ ref('stg_offers__job_offers') }}
    union
    -- Sirene establishments: snapshot (fetch) month
    select cast(fetched_at as date) as month_date
    from {{ ref('stg_sirene__establishments') }}
),

month_keys as (
    select distinct
        year(month_date) as year,
        month(month_date) as month
    from months
    where month_date is not null
),

quarter_keys as (
    select distinct
        year,
        quarter
    from quarters
    where year is not null and quarter is not null
    union
    select distinct
        year,
        cast((month - 1) // 3 + 1 as integer) as quarter
    from month_keys
),

year_keys as (
    select year from years
    where year is not null
    union
    select year from quarter_keys
),

periods as (
    select
        cast(year as varchar) as period,
        cast(year as integer) as year,
        'year' as period_type,
        cast(null as integer) as quarter,
        cast(null as integer) as month,
        make_date(year, 1, 1) as period_start_date,
        make_date(year, 12, 31) as period_end_date,
        cast(year as varchar) as period_label
    from year_keys
    union all
    select
        year || '-T' || quarter as period,
        year,
        'quarter' as period_type,
        quarter,
        cast(null as integer) as month,
        make_date(year, quarter * 3 - 2, 1) as period_start_date,
        cast(make_date(year, quarter * 3, 1) + interval 1 month - interval 1 day as date) as period_end_date,
        'T' || quarter || ' ' || year as period_label
    from quarter_keys
    union all
    select
        year || '-' || lpad(cast(month as varchar), 2, '0') as period,
        year,
        'month' as period_type,
        cast((month - 1) // 3 + 1 as integer) as quarter,
        month,
        make_date(year, month, 1) as period_start_date,
        cast(make_date(year, month, 1) + interval 1 month - interval 1 day as date) as period_end_date,
        [
            'janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août',
            'septembre', 'octobre', 'novembre', 'décembre'
        ][month] || ' ' || year as period_label
    from month_keys
),

final as (
    select
        cast(period as varchar) as period,
        cast(year as integer) as year,
        cast(period_type as varchar) as period_type,
        cast(quarter as integer) as quarter,
        cast(month as integer) as month,
        cast(period_start_date as date) as period_start_date,
        cast(period_end_date as date) as period_end_date,
        cast(period_label as varchar) as period_label
    from periods
)

select * from final
