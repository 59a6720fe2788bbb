{#-
    Mon Compte Formation indicators (préconisations 2 and 5) for every département and région of
    the scope, at the catalogue's extraction month: digital training offers, their active
    sessions, the shares leading to a certification, reachable remotely and at Bac+4/5, the
    digital certifications reachable, and the same for the emerging domains.
-#}

with

offers as (
    select
        department_code,
        region_code,
        snapshot_period,
        is_digital,
        is_emerging,
        is_certifying,
        has_remote_session,
        level_band_code,
        active_session_count,
        source_vintage
    from {{ ref('fct_training_offer') }}
),

certifications as (
    select
        department_code,
        region_code,
        snapshot_period,
        certification_id,
        is_digital
    from {{ ref('fct_certifications') }}
),

offers_by_territory as (
    {{ union_territory_levels('offers', department_levels(), [
        'snapshot_period', 'is_digital', 'is_emerging', 'is_certifying', 'has_remote_session',
        'level_band_code', 'active_session_count', 'source_vintage',
    ]) }}
),

certifications_by_territory as (
    {{ union_territory_levels('certifications', department_levels(), [
        'snapshot_period', 'certification_id', 'is_digital',
    ]) }}
),

aggregates as (
    select
        territory_level,
        territory_code,
        snapshot_period as period,
        count(case when is_digital then 1 end) as digital_offers,
        sum(case when is_digital then coalesce(active_session_count, 0) else 0 end) as digital_sessions,
        count(case when is_digital and is_certifying then 1 end) as digital_certifying,
        count(case when is_digital and has_remote_session then 1 end) as digital_remote,
        count(case when is_digital and level_band_code is not null then 1 end) as digital_known_level,
        count(case when is_digital and level_band_code = 'niv7_plus' then 1 end) as digital_niv7,
        count(case when is_emerging then 1 end) as emerging_offers,
        count(case when is_emerging and level_band_code is not null then 1 end) as emerging_known_level,
        count(case when is_emerging and level_band_code = 'niv7_plus' then 1 end) as emerging_niv7,
        max(source_vintage) as source_vintage
    from offers_by_territory
    group by territory_level, territory_code, snapshot_period
),

certification_counts as (
    select
        territory_level,
        territory_code,
        snapshot_period as period,
        count(distinct case when is_digital then certification_id end) as digital_certifications
    from certifications_by_territory
    group by territory_level, territory_code, snapshot_period
),

measures as (
    select
        a.*,
        coalesce(c.digital_certifications, 0) as digital_certifications
    from aggregates as a
    left join certification_counts as c
        on
            a.territory_level = c.territory_level
            and a.territory_code = c.territory_code
            and a.period = c.period
),

final as (
    {%- for code, column in [
        ('mcf_digital_training_offers', 'digital_offers'),
        ('mcf_digital_active_sessions', 'digital_sessions'),
        ('mcf_emerging_training_offers', 'emerging_offers'),
        ('mcf_digital_certifications', 'digital_certifications'),
    ] %}
        {{ indicator_rows(code, 'measures', value=column) }}
        union all
    {%- endfor %}
    {%- for code, numerator, denominator in [
        ('mcf_digital_certifying_share', 'digital_certifying', 'digital_offers'),
        ('mcf_digital_remote_share', 'digital_remote', 'digital_offers'),
        ('mcf_digital_offers_niv7_share', 'digital_niv7', 'digital_known_level'),
        ('mcf_emerging_offers_niv7_share', 'emerging_niv7', 'emerging_known_level'),
    ] %}
        {{ indicator_rows(code, 'measures', numerator=numerator, denominator=denominator) }}
        {% if not loop.last -%} union all {%- endif %}
    {%- endfor %}
)

select * from final
