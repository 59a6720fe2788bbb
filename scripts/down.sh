#!/usr/bin/env bash
# `make down`: stop what `make up` started (its Airflow and its Superset), from another terminal.
set -uo pipefail
cd "$(dirname "$0")/.."
run_dir="${OREF_DATA_DIR:-$PWD/data}/run"
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }
read_pid() { [ -s "$1" ] && tr -dc '0-9' < "$1" || true; }
in_session() {  # <session id>: the pids of that session's processes, if any
  ps -e -o pid= -o sid= 2>/dev/null | awk -v s="$1" '$2 == s { print $1 }'
}

up_pid="$(read_pid "$run_dir/up.pid")"
if alive "$up_pid"; then
  kill -TERM "$up_pid"  # its trap stops Airflow and Superset, then it exits
  for _ in $(seq 1 60); do alive "$up_pid" || break; sleep 1; done
fi
# Left by an up.sh that was killed outright: Superset's and Airflow's sessions (each was started
# with setsid, so its leader's pid is the session id of everything it started).
for leader in "$(read_pid "$run_dir/superset.pid")" "$(read_pid "$run_dir/airflow.pid")"; do
  [ -n "$leader" ] || continue
  left="$(in_session "$leader")"
  [ -n "$left" ] || continue
  kill -INT "$leader" 2>/dev/null  # standalone stops its parts on SIGINT; gunicorn quits at once
  for _ in $(seq 1 20); do [ -n "$(in_session "$leader")" ] || break; sleep 1; done
  left="$(in_session "$leader")"
  [ -z "$left" ] || { kill -TERM $left 2>/dev/null; sleep 3; }
  left="$(in_session "$leader")"
  [ -z "$left" ] || kill -KILL $left 2>/dev/null
done
rm -f "$run_dir/up.pid" "$run_dir/airflow.pid"
echo "stopped"
