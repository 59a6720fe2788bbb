{#-
    The indicator catalogue as a dimension of the marts: each indicator's French label,
    definition, formula, unit, direction, sources, grain and target, with its préconisation.
    Analysts find it in SQL Lab beside the facts (the seeds' reference schema is not served), and
    Superset's catalogue page (/oref/indicateurs) reads it.
-#}

with

catalogue as (
    select
        indicator_code,
        label_fr,
        definition_fr,
        formula_fr,
        unit,
        direction,
        source_fr,
        source_codes,
        grain_fr,
        preconisation_code,
        target_value,
        target_fr
    from {{ ref('indicator_catalogue') }}
),

preconisations as (
    select
        preconisation_code,
        title_fr
    from {{ ref('preconisations') }}
),

final as (
    select
        cast(c.indicator_code as varchar) as indicator_code,
        cast(c.label_fr as varchar) as indicator_label,
        cast(c.preconisation_code as integer) as preconisation_code,
        cast(p.title_fr as varchar) as preconisation_title,
        cast(c.definition_fr as varchar) as definition,
        cast(c.formula_fr as varchar) as formula,
        cast(c.unit as varchar) as unit,
        cast(c.direction as varchar) as direction,
        cast(c.source_fr as varchar) as source_label,
        cast(c.source_codes as varchar) as source_codes,
        cast(c.grain_fr as varchar) as grain,
        cast(c.target_value as double precision) as target_value,
        cast(c.target_fr as varchar) as target_label
    from catalogue as c
    left join preconisations as p on c.preconisation_code = p.preconisation_code
)

select * from final
