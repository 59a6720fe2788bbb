with

source as (
    select * from {{ source('rncp', 'certification_nsf_codes') }}
),

renamed as (
    select
        numero_fiche as certification_id,
        nsf_code,
        -- the three-digit group (326 for 326t, 326n, 326r): the code Mon Compte Formation uses
        left(nsf_code, 3) as nsf_group_code,
        trim(
            regexp_replace(replace(nsf_intitule, '''''', ''''), '\s+', ' ', 'g')
        ) as nsf_label,
        {{ provenance_columns() }}
    from source
)

select * from renamed
