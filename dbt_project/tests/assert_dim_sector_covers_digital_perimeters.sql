{#-
    Every code of the seed naf_digital_perimeters must be in dim_sector with its smallest
    perimeter and the nested flags expanded from it (it_core ⊂ ict_services ⊂ ict_oecd), and no
    code outside the seed may be flagged digital. A mismatch would move establishments in or out
    of the digital indicators.
-#}

with

seed as (
    select
        code_naf,
        perimeter,
        perimeter = 'it_core' as is_it_core,
        perimeter in ('it_core', 'ict_services') as is_ict_services,
        true as is_ict_oecd
    from {{ ref('naf_digital_perimeters') }}
),

sectors as (
    select
        code_naf,
        digital_perimeter,
        is_it_core,
        is_ict_services,
        is_ict_oecd
    from {{ ref('dim_sector') }}
)

select
    coalesce(s.code_naf, d.code_naf) as code_naf,
    s.perimeter as seed_perimeter,
    d.digital_perimeter as dim_perimeter
from seed as s
full outer join sectors as d
    on s.code_naf = d.code_naf
where
    (s.code_naf is null and (d.is_ict_oecd or d.digital_perimeter is not null))
    or (
        s.code_naf is not null
        and (
            d.code_naf is null
            or s.perimeter is distinct from d.digital_perimeter
            or s.is_it_core is distinct from d.is_it_core
            or s.is_ict_services is distinct from d.is_ict_services
            or s.is_ict_oecd is distinct from d.is_ict_oecd
        )
    )
