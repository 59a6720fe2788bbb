{#-
    The catalogue and the indicator models agree, both ways: every code of the catalogue is
    produced by the model its row names, and every code an indicator model produces is in the
    catalogue under that model. mart_indicators unions exactly these models (indicator_models()),
    so no published code escapes the catalogue, and docs/indicators.md, which links each code to
    the catalogue's model, points to where it is computed.
-#}

with

catalogue as (
    select
        indicator_code,
        model
    from {{ ref('indicator_catalogue') }}
),

produced as (
    {%- for model in indicator_models() %}
        select distinct
            indicator_code,
            '{{ model }}' as model
        from {{ ref(model) }}
        {% if not loop.last -%} union all {%- endif %}
    {%- endfor %}
),

mismatches as (
    select
        coalesce(c.indicator_code, p.indicator_code) as indicator_code,
        c.model as catalogue_model,
        p.model as producing_model
    from catalogue as c
    full outer join produced as p
        on
            c.indicator_code = p.indicator_code
            and c.model = p.model
    where c.indicator_code is null or p.indicator_code is null
)

select * from mismatches
