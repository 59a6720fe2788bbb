# Superset 6.1.0 (official image) with what oref's dashboards need. Built by docker-compose.yml
# with the repository root as context: docker build -f docker/superset.Dockerfile .
FROM apache/superset:6.1.0

# The official image is "lean": no database drivers. Superset lives in the virtualenv /app/.venv.
#   duckdb          MUST equal the pin in pyproject.toml (the writer): a newer reader can open an
#                   older file, an older reader refuses a newer storage format (tests check it)
#   duckdb-engine   the SQLAlchemy dialect for duckdb:/// URIs
#   rich, cachetools  imported by Superset 6.1.0 but not declared by it
#   flask-caching<2.4  2.4 breaks Superset 6.1.0 at start-up
#   psycopg2-binary PostgreSQL metadata database;  redis  the cache backend
USER root
RUN . /app/.venv/bin/activate \
 && uv pip install --no-cache \
      duckdb==1.4.4 \
      duckdb-engine \
      rich \
      "flask-caching<2.4" \
      cachetools \
      psycopg2-binary \
      redis
USER superset
