{#-
    The data sources of the warehouse (seed sources: title, publisher, licence, cadence) with what
    the current build loaded from each: latest vintage, latest fetch, files and staging rows.
    Every staging model is listed below; the test assert_dim_source_covers_every_staging_model
    fails when a new one is not.
-#}

{%- set staging_models = [
    'stg_arcep__ftth_communes',
    'stg_arcep__ftth_quarterly',
    'stg_bmo__recruitment_needs',
    'stg_geo__basin_communes',
    'stg_geo__communes',
    'stg_geo__departements',
    'stg_geo__employment_zone_communes',
    'stg_geo__employment_zones',
    'stg_geo__epci',
    'stg_geo__epci_communes',
    'stg_geo__populations',
    'stg_geo__regions',
    'stg_mcf__training_offers',
    'stg_offers__job_offers',
    'stg_rncp__certification_formacodes',
    'stg_rncp__certification_nsf_codes',
    'stg_rncp__certification_rome_codes',
    'stg_rncp__certifications',
    'stg_rncp__skill_blocks',
    'stg_rome__appellations',
    'stg_rome__occupations',
    'stg_sirene__establishments',
    'stg_tensions__indicators',
    'stg_urssaf__establishments',
] %}

with

catalogue as (
    select
        source_code,
        title_fr,
        publisher,
        licence_code,
        licence_label,
        licence_url,
        homepage_url,
        cadence_fr
    from {{ ref('sources') }}
),

loaded_files as (
    {%- for model in staging_models %}
        select
            source_name,
            cast(source_vintage as varchar) as source_vintage,
            -- some loaders stamp fetched_at with a time zone, others in naive UTC: epoch_us reads
            -- both as the same instant, whatever the session time zone
            make_timestamp(epoch_us(fetched_at)) as fetched_at_utc,
            file_sha256,
            count(*) as row_count
        from {{ ref(model) }}
        group by source_name, source_vintage, fetched_at, file_sha256
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

loaded as (
    select
        source_name,
        max(source_vintage) as source_vintage,
        max(fetched_at_utc) as fetched_at_utc,
        -- the file fetched last (ties broken by hash, for a stable answer)
        arg_max(file_sha256, (fetched_at_utc, file_sha256)) as file_sha256,
        count(distinct file_sha256) as file_count,
        sum(row_count) as row_count
    from loaded_files
    group by source_name
),

final as (
    select
        -- a full join: a source loaded but missing from the seed shows up with an empty title,
        -- which the not_null test on title_fr reports
        cast(coalesce(c.source_code, l.source_name) as varchar) as source_code,
        cast(c.title_fr as varchar) as title_fr,
        cast(c.publisher as varchar) as publisher,
        cast(c.licence_code as varchar) as licence_code,
        cast(c.licence_label as varchar) as licence_label,
        cast(c.licence_url as varchar) as licence_url,
        cast(c.homepage_url as varchar) as homepage_url,
        cast(c.cadence_fr as varchar) as cadence_fr,
        cast(l.source_vintage as varchar) as source_vintage,
        cast(l.fetched_at_utc as timestamp) as fetched_at,
        cast(l.file_sha256 as varchar) as file_sha256,
        cast(coalesce(l.file_count, 0) as integer) as file_count,
        cast(coalesce(l.row_count, 0) as bigint) as row_count,
        l.source_name is not null as is_loaded
    from catalogue as c
    full outer join loaded as l
        on c.source_code = l.source_name
)

select * from final
