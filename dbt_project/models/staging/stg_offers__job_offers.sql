with

source as (
    select * from {{ source('offers', 'job_offers') }}
),

renamed as (
    select
        offer_id,
        title as offer_title,
        rome_code,
        rome_label,
        appellation_label,
        -- the API writes UTC instants (2026-09-14T08:12:45.000Z): dropping the Z keeps them in UTC
        -- whatever the session time zone, where a timestamptz cast would shift them
        try_cast(replace(created_at, 'Z', '') as timestamp) as created_at,
        try_cast(replace(updated_at, 'Z', '') as timestamp) as updated_at,
        cast(try_cast(replace(created_at, 'Z', '') as timestamp) as date) as created_date,
        workplace_label,
        commune_code,
        postal_code,
        department_code,
        contract_type as contract_type_code,
        contract_nature,
        experience_required as experience_code,
        qualification_code,
        naf_code as code_naf,
        sector_label,
        company_name,
        salary_label,
        coalesce(is_short_of_candidates, false) as is_short_of_candidates,
        {{ provenance_columns() }}
    from source
)

select * from renamed
