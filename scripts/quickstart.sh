#!/usr/bin/env bash
# See seatwatch work on this machine in one command (Debian/Ubuntu, as root or with sudo):
#   bash scripts/quickstart.sh [seatwatch demo options, e.g. --keep-running]
# Installs Mosquitto and InfluxDB from the distribution when they are missing, makes a virtual environment
# in .venv, installs seatwatch into it and runs `seatwatch demo`. Nothing is configured system-wide: the
# demo starts its own broker and database in a temporary folder, on 127.0.0.1 only, and stops them at the
# end. Running it again is harmless.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)

need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v influxd >/dev/null 2>&1 || need+=(influxdb)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]} (apt-get)"
  "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${need[@]}"
  # Debian starts both as system services on install; the demo runs its own and needs neither.
fi

python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "seatwatch needs Python 3.11 or newer; this python3 is $(python3 -V 2>&1)" >&2
  exit 2
}

if [ ! -x .venv/bin/seatwatch ] || [ pyproject.toml -nt .venv/bin/seatwatch ]; then
  echo "== creating .venv and installing seatwatch"
  python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e .
fi

# mosquitto lives in /usr/sbin, which a non-root PATH may lack.
PATH="$PATH:/usr/sbin" exec .venv/bin/seatwatch demo "$@"
