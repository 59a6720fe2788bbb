"""Quality checks: GX landing suites, oref's own checks, dbt tests, recorded per run."""
