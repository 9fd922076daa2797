#!/usr/bin/env bash
# See seatwatch work on this machine in one command (Debian/Ubuntu, as root or with sudo):
#   bash scripts/quickstart.sh [seatwatch demo options, e.g. --keep-running]
# Installs what the demo needs from the distribution when it is missing (the list is
# seatwatch/demo/prerequisites.py: Mosquitto, InfluxDB, and Pango, fontconfig's fc-list and a Chinese
# font for report.pdf),
# makes a virtual environment in .venv,
# installs seatwatch into it and runs `seatwatch demo`. Nothing is configured system-wide: the
# demo starts its own broker and database in a temporary folder, on 127.0.0.1 only, and stops them at the
# end. Running it again is harmless.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)

python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "seatwatch needs Python 3.11 or newer; this python3 is $(python3 -V 2>&1)" >&2
  exit 2
}

# The demo's own list of prerequisites (standard library only, so it runs before .venv exists).
mapfile -t need < <(python3 -m seatwatch.demo.prerequisites --missing)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]} (apt-get)"
  "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${need[@]}"
  # Debian starts both as system services on install; the demo runs its own and needs neither.
fi

if [ ! -x .venv/bin/seatwatch ] || [ pyproject.toml -nt .venv/bin/seatwatch ]; then
  echo "== creating .venv and installing seatwatch"
  python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  # Not quiet: downloading numpy and scipy takes a while on a slow line; show that it is moving.
  .venv/bin/python -m pip install --progress-bar on -e .
fi

# mosquitto lives in /usr/sbin, which a non-root PATH may lack.
PATH="$PATH:/usr/sbin" exec .venv/bin/seatwatch demo "$@"
