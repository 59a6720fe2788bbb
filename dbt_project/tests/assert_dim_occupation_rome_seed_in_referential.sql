{{ config(severity='warn') }}
{#-
    Every fiche of the seed rome_digital_occupations should exist in the loaded ROME referential.
    A code that a new ROME version removed or renumbered would silently stop classifying job
    offers; this warning names it. Nothing is reported when no referential is loaded.
-#}

with

referential as (
    select occupation_code
    from {{ ref('dim_occupation') }}
    where nomenclature_version = 'ROME4'
)

select
    s.rome_code,
    s.rome_label
from {{ ref('rome_digital_occupations') }} as s
where
    exists (select 1 from referential)
    and s.rome_code not in (select r.occupation_code from referential as r)
