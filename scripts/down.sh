#!/usr/bin/env bash
# `make down`: stop what `make up` started (its Airflow and its Superset), from another terminal.
set -uo pipefail
cd "$(dirname "$0")/.."
run_dir="${OREF_DATA_DIR:-$PWD/data}/run"
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }
read_pid() { [ -s "$1" ] && tr -dc '0-9' < "$1" || true; }

up_pid="$(read_pid "$run_dir/up.pid")"
if alive "$up_pid"; then
  kill -TERM "$up_pid"  # its trap stops Airflow and Superset, then it exits
  for _ in $(seq 1 40); do alive "$up_pid" || break; sleep 1; done
fi
# Left by an up.sh that was killed outright: gunicorn's master, and Airflow's process group.
superset_pid="$(read_pid "$run_dir/superset.pid")"
if alive "$superset_pid"; then
  kill -TERM "$superset_pid"
  for _ in $(seq 1 20); do alive "$superset_pid" || break; sleep 1; done
  alive "$superset_pid" && kill -KILL -- "-$superset_pid" 2>/dev/null
fi
airflow_pid="$(read_pid "$run_dir/airflow.pid")"
if alive "$airflow_pid"; then
  kill -INT "$airflow_pid"
  for _ in $(seq 1 20); do alive "$airflow_pid" || break; sleep 1; done
  kill -TERM -- "-$airflow_pid" 2>/dev/null; sleep 2; kill -KILL -- "-$airflow_pid" 2>/dev/null
fi
rm -f "$run_dir/up.pid" "$run_dir/airflow.pid"
echo "stopped"
