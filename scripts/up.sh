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

airflow_port="${OREF_AIRFLOW_PORT:-8080}"
superset_port="${OREF_SUPERSET_PORT:-8088}"

# the published warehouse and dashboards (imports again if already there: idempotent); a fresh
# data directory has nothing to show yet: Superset and Airflow start anyway (the first run of the
# DAG publishes, and its oref_superset_refresh DAG imports the dashboards)
if [ -f "$OREF_DATA_DIR/warehouse/oref.duckdb" ] || [ -f "$OREF_DATA_DIR/warehouse/serving.duckdb" ]; then
  .venv/bin/oref superset-import
else
  echo "no published warehouse in $OREF_DATA_DIR yet: dashboards not imported (make run, or trigger the DAG)"
fi

airflow_pid=""
superset_pid=""
# Airflow and Superset each lead their own session (setsid below), so that everything they start
# can be stopped at once: `airflow standalone` forks a scheduler, an API server, a dag-processor,
# a triggerer and task processes (each task in a process group of its own, in the same session)
# that outlive it when it is killed. Ctrl-C reaches this script only; this trap stops both, or
# make down sends it SIGTERM.
in_session() {  # <session id>: the pids of that session's processes, if any
  ps -e -o pid= -o sid= 2>/dev/null | awk -v s="$1" '$2 == s { print $1 }'
}
stop_group() {  # <leader pid> <first signal>: ask the leader, then the whole session, then force
  local pid="$1" sig="$2" left
  [ -n "$pid" ] || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do [ -n "$(in_session "$pid")" ] || return 0; sleep 1; done
  left="$(in_session "$pid")"
  [ -z "$left" ] || kill -TERM $left 2>/dev/null || true
  for _ in $(seq 1 5); do [ -n "$(in_session "$pid")" ] || return 0; sleep 1; done
  left="$(in_session "$pid")"
  [ -z "$left" ] || kill -KILL $left 2>/dev/null || true
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
export AIRFLOW__API__PORT="$airflow_port"
# the task processes reach the Execution API here (else http://localhost:8080)
export AIRFLOW__API__BASE_URL="${AIRFLOW__API__BASE_URL:-http://127.0.0.1:$airflow_port}"
export AIRFLOW__CORE__DAGS_FOLDER="$PWD/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
# LocalExecutor forks this many workers at start (32 by default): four run the fetches in turn
export AIRFLOW__CORE__PARALLELISM="${AIRFLOW__CORE__PARALLELISM:-4}"
export OREF_SOURCE_MODE="${OREF_SOURCE_MODE:-live}"
echo "Airflow: http://127.0.0.1:$airflow_port (standalone; its generated admin password is in $AIRFLOW_HOME/simple_auth_manager_passwords.json.generated)"
.venv/bin/airflow db migrate > "$OREF_DATA_DIR/logs/airflow-migrate.log" 2>&1
# the build and publish tasks wait on this one-slot pool forever if it does not exist
.venv/bin/airflow pools set oref_duckdb_writer 1 "oref: DuckDB has one writer" > /dev/null
# A background command of a script starts with SIGINT ignored, and Python then never raises
# KeyboardInterrupt: standalone would ignore the SIGINT on which it stops its components. The
# wrapper gives it SIGINT's default back before exec.
setsid .venv/bin/python -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])' \
  .venv/bin/airflow standalone > "$OREF_DATA_DIR/logs/airflow.log" 2>&1 &
airflow_pid=$!
echo "$airflow_pid" > "$run_dir/airflow.pid"

echo "Superset: http://127.0.0.1:$superset_port/ (user in SUPERSET_ADMIN_USER or 'admin'; password in \$SUPERSET_ADMIN_PASSWORD or $OREF_DATA_DIR/secrets/superset_admin_password)"
# `oref superset-serve` execs gunicorn, so $! is gunicorn's master
setsid .venv/bin/oref superset-serve --host 127.0.0.1 --port "$superset_port" --workers "${OREF_SUPERSET_WORKERS:-2}" --pidfile "$run_dir/superset.pid" \
  > "$OREF_DATA_DIR/logs/superset.log" 2>&1 &
superset_pid=$!
echo "logs in $OREF_DATA_DIR/logs; Ctrl-C (or make down) stops both"
wait
