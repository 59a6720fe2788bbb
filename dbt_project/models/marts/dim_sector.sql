{#-
    Activity sectors (NAF rév. 2 sub-classes), one row per code seen in the Urssaf or Sirene data
    of any département, plus every code of the digital perimeters seed. The label is Urssaf's
    (latest vintage), else the seed's. Each code carries its smallest digital perimeter and the
    three nested membership flags, expanded once by the macro naf_in_perimeter.
-#}

with

urssaf_codes as (
    select
        code_naf,
        naf_label,
        year
    from {{ ref('stg_urssaf__establishments') }}
),

sirene_codes as (
    select distinct code_naf
    from {{ ref('stg_sirene__establishments') }}
),

perimeters as (
    select
        code_naf,
        label,
        perimeter,
        description_fr
    from {{ ref('naf_digital_perimeters') }}
),

all_codes as (
    select code_naf from urssaf_codes
    union
    select code_naf from sirene_codes
    union
    select code_naf from perimeters
),

-- labels are reworded between vintages: keep the latest year's wording
urssaf_labels as (
    select
        code_naf,
        -- Urssaf prefixes the label with the APE code ("6201Z Programmation informatique")
        trim(regexp_replace(naf_label, '^[0-9]{4}[A-Z]\s+', '')) as naf_label,
        row_number() over (
            partition by code_naf
            order by year desc, naf_label asc
        ) as label_rank
    from urssaf_codes
    where nullif(trim(naf_label), '') is not null
),

final as (
    select
        cast(c.code_naf as varchar) as code_naf,
        cast(replace(c.code_naf, '.', '') as varchar) as code_naf_compact,
        cast(coalesce(u.naf_label, p.label) as varchar) as naf_label,
        cast(left(c.code_naf, 2) as varchar) as naf_division_code,
        cast(p.perimeter as varchar) as digital_perimeter,
        {{ naf_in_perimeter('p.perimeter', 'it_core') }} as is_it_core,
        {{ naf_in_perimeter('p.perimeter', 'ict_services') }} as is_ict_services,
        {{ naf_in_perimeter('p.perimeter', 'ict_oecd') }} as is_ict_oecd,
        cast(p.description_fr as varchar) as description_fr
    from all_codes as c
    left join urssaf_labels as u
        on
            c.code_naf = u.code_naf
            and u.label_rank = 1
    left join perimeters as p
        on c.code_naf = p.code_naf
    -- only NAF rév. 2 sub-classes (NN.NNX); Sirene's future NAF 2025 codes would need their own
    -- nomenclature version
    where regexp_full_match(c.code_naf, '[0-9]{2}\.[0-9]{2}[A-Z]')
)

select * from final
