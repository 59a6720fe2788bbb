#!/usr/bin/env bash
# `make up`: Airflow (standalone, SQLite metadata) and Superset (gunicorn, SQLite metadata) on
# localhost, for a laptop. Generated state and local secrets stay under $OREF_DATA_DIR (never in
# git). Ctrl-C or `make down` stops both; nothing is left running.
set -euo pipefail
cd "$(dirname "$0")/.."
export OREF_DATA_DIR="${OREF_DATA_DIR:-$PWD/data}"
run_dir="$OREF_DATA_DIR/run"
mkdir -p "$OREF_DATA_DIR/secrets" "$OREF_DATA_DIR/logs" "$run_dir"
chmod 700 "$OREF_DATA_DIR/secrets"

# Superset refuses to start without a SECRET_KEY: take the environment's, else a local generated one.
if [ -z "${SUPERSET_SECRET_KEY:-}" ]; then
  key_file="$OREF_DATA_DIR/secrets/superset_secret_key"
  [ -s "$key_file" ] || (umask 077; .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(48))' > "$key_file")
  SUPERSET_SECRET_KEY="$(cat "$key_file")"
  export SUPERSET_SECRET_KEY
fi

# the published warehouse and dashboards (imports again if already there: idempotent)
.venv/bin/oref superset-import

airflow_pid=""
superset_pid=""
# Airflow and Superset each lead their own process group (setsid below), so that everything
# they start can be stopped at once: `airflow standalone` forks a scheduler, an API server,
# a triggerer and workers that outlive it when it is killed, and does not always stop them on
# SIGINT within seconds. Ctrl-C reaches this script only; this trap stops both, or make down
# sends it SIGTERM.
stop_group() {  # <leader pid> <first signal>: ask the leader, then the whole group, then force
  local pid="$1" sig="$2"
  [ -n "$pid" ] || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  kill -TERM -- "-$pid" 2>/dev/null || true
  sleep 2
  kill -KILL -- "-$pid" 2>/dev/null || true
}
stop() {
  trap - EXIT INT TERM
  echo "stopping Airflow and Superset ..."
  local started=$SECONDS
  # gunicorn's master stops its workers on SIGTERM (--graceful-timeout for running requests);
  # standalone stops its parts on SIGINT
  stop_group "$superset_pid" TERM &
  stop_group "$airflow_pid" INT &
  wait
  rm -f "$run_dir/up.pid" "$run_dir/airflow.pid"
  echo "stopped in $((SECONDS - started)) s"
}
# A signal that arrives during a foreground command (the import, airflow db migrate) is handled
# once that command ends: stop, then exit rather than go on starting things.
trap stop EXIT
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
echo $$ > "$run_dir/up.pid"

# `airflow standalone` starts its parts as a bare `airflow`: the venv must be on PATH
export PATH="$PWD/.venv/bin:$PATH"
export AIRFLOW_HOME="${AIRFLOW_HOME:-$OREF_DATA_DIR/airflow}"
export AIRFLOW__API__HOST=127.0.0.1
export AIRFLOW__CORE__DAGS_FOLDER="$PWD/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export OREF_SOURCE_MODE="${OREF_SOURCE_MODE:-live}"
echo "Airflow: http://127.0.0.1:8080 (standalone; its generated admin password is in $AIRFLOW_HOME/simple_auth_manager_passwords.json.generated)"
.venv/bin/airflow db migrate > "$OREF_DATA_DIR/logs/airflow-migrate.log" 2>&1
# the build and publish tasks wait on this one-slot pool forever if it does not exist
.venv/bin/airflow pools set oref_duckdb_writer 1 "oref: DuckDB has one writer" > /dev/null
setsid .venv/bin/airflow standalone > "$OREF_DATA_DIR/logs/airflow.log" 2>&1 &
airflow_pid=$!
echo "$airflow_pid" > "$run_dir/airflow.pid"

echo "Superset: http://127.0.0.1:8088/ (user in SUPERSET_ADMIN_USER or 'admin'; password in \$SUPERSET_ADMIN_PASSWORD or $OREF_DATA_DIR/secrets/superset_admin_password)"
# `oref superset-serve` execs gunicorn, so $! is gunicorn's master
setsid .venv/bin/oref superset-serve --host 127.0.0.1 --port 8088 --pidfile "$run_dir/superset.pid" \
  > "$OREF_DATA_DIR/logs/superset.log" 2>&1 &
superset_pid=$!
echo "logs in $OREF_DATA_DIR/logs; Ctrl-C (or make down) stops both"
wait
