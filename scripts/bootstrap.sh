#!/usr/bin/env bash
# Set up everything the app needs on a Debian or Ubuntu machine, idempotently:
# system packages (GDAL, PostGIS, PostgreSQL, Redis; Chromium for the browser tests), running
# PostgreSQL and Redis, the virtual environment, the database with PostGIS, migrations, reference data
# and, unless SEED_DEMO=0, the synthetic demo data.
#   scripts/bootstrap.sh            set-up for make run
#   scripts/bootstrap.sh --test     the same plus test tools (Chromium)
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_TEST_TOOLS=0
[[ "${1:-}" == "--test" ]] && WITH_TEST_TOOLS=1
VENV=.venv
PY=$VENV/bin/python
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root (or sudo) to run: $*" >&2; return 1; fi
}

# --- 1. System packages, only those missing ---------------------------------------------------
missing=()
need() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed" || missing+=("$1"); }
need gdal-bin; need libgdal-dev; need libgeos-dev; need libproj-dev; need binutils
need python3-venv; need postgresql-contrib; need gettext
command -v pg_ctlcluster >/dev/null || need postgresql
command -v redis-server >/dev/null || need redis-server
if [[ $WITH_TEST_TOOLS -eq 1 ]]; then need chromium; fi
if command -v pg_lsclusters >/dev/null && pg_lsclusters -h | grep -q .; then
  PG_VERSION=$(pg_lsclusters -h | awk 'NR==1 {print $1}')
else
  PG_VERSION=""
fi
if [[ -n $PG_VERSION ]]; then need "postgresql-$PG_VERSION-postgis-3"; else need postgis; fi
if (( ${#missing[@]} )); then
  say "Installing system packages: ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  if [[ -z $PG_VERSION ]] && command -v pg_lsclusters >/dev/null; then
    PG_VERSION=$(pg_lsclusters -h | awk 'NR==1 {print $1}')
    dpkg-query -W "postgresql-$PG_VERSION-postgis-3" >/dev/null 2>&1 ||
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "postgresql-$PG_VERSION-postgis-3"
  fi
fi

# --- 2. Services: start PostgreSQL and Redis when they are not answering -----------------------
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  say "Starting PostgreSQL $PG_VERSION"
  as_root pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  say "Starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi

# A fresh Debian/Ubuntu PostgreSQL asks for a password on 127.0.0.1: give the postgres role one
# and remember it in .env (read by the Makefile) so the default DATABASE_URL works.
if [[ -z ${DATABASE_URL:-} ]] && ! psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
  say "Setting a local password for the postgres role (stored in .env)"
  as_root su postgres -c "psql -qc \"ALTER ROLE postgres PASSWORD 'postgres'\""
  echo "DATABASE_URL=postgis://postgres:postgres@127.0.0.1:5432/ceasefire_monitor" >> .env
  export DATABASE_URL=postgis://postgres:postgres@127.0.0.1:5432/ceasefire_monitor
fi

# --- 3. Virtual environment, reinstalled only when requirements change --------------------------
if [[ ! -x $PY ]]; then
  say "Creating the virtual environment"
  python3 -m venv "$VENV"
fi
stamp=$VENV/.requirements.sha256
want=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [[ ! -f $stamp || "$(cat "$stamp")" != "$want" ]]; then
  say "Installing Python packages"
  "$PY" -m pip install -q --upgrade pip
  "$PY" -m pip install -q -r requirements-dev.txt
  echo "$want" > "$stamp"
fi

# --- 4. Database, migrations, reference and demo data ------------------------------------------
say "Preparing the database"
"$PY" manage.py ensure_database
"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py sealing_keys ensure
"$PY" manage.py load_reference_data
if [[ ${SEED_DEMO:-1} == 1 ]]; then
  "$PY" manage.py seed_demo --if-empty
  "$PY" manage.py rebuild_zone_stats
  "$PY" manage.py build_daily_brief --days 7
fi
"$PY" manage.py compilemessages -v 0 --ignore=.venv
"$PY" manage.py collectstatic --noinput -v 0
say "Set-up done"
