{{ config(severity='warn') }}
{#-
    Every ROME fiche the referential tags digital (transition_num = O) should be classified by the
    seed rome_digital_occupations. A new ROME version that tags new fiches passes them through as
    "autre_numerique" (digital, unclassified): this warning names them so that the seed gets
    their skill domain and core/transition status.
-#}

select
    o.occupation_code,
    o.occupation_label,
    o.rome_parent_code
from {{ ref('dim_occupation') }} as o
left join {{ ref('rome_digital_occupations') }} as s
    on o.occupation_code = s.rome_code
where
    o.nomenclature_version = 'ROME4'
    and o.has_digital_transition_flag
    and s.rome_code is null
