{#-
    Every digital métier of the seed must be found, flagged digital, among the BMO occupations.
    If the survey renames its nomenclature (a new FAP, or a loader writing nomenclature_version
    differently), the digital join would match nothing and every digital indicator would drop
    to 0 without any other test noticing.
-#}

select s.occupation_code
from {{ ref('digital_fap2021') }} as s
left join {{ ref('dim_occupation') }} as o
    on s.occupation_code = o.occupation_code and o.is_digital
where o.occupation_code is null
