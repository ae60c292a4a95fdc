#!/bin/sh
# First start: initdb with POSTGRES_USER / POSTGRES_PASSWORD, run /docker-entrypoint-initdb.d/*.sql
# and *.sh against a server listening on its socket only, then serve. Later starts: serve.
set -eu
: "${POSTGRES_USER:=postgres}"
: "${PGDATA:=/var/lib/postgresql/data}"

if [ "${1:-}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ]; then
        echo "docker-entrypoint.sh: POSTGRES_PASSWORD is required to initialise $PGDATA" >&2
        exit 1
    fi
    mkdir -p "$PGDATA"
    chmod 0700 "$PGDATA"
    password_file=$(mktemp)
    printf '%s' "$POSTGRES_PASSWORD" >"$password_file"
    initdb --username="$POSTGRES_USER" --pwfile="$password_file" --auth-local=trust \
        --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$password_file"
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    pg_ctl --silent --wait --options="-c listen_addresses=''" start
    for script in /docker-entrypoint-initdb.d/*; do
        case "$script" in
            *.sql) echo "docker-entrypoint.sh: running $script"
                   psql --quiet --set ON_ERROR_STOP=1 --username="$POSTGRES_USER" --dbname=postgres --file="$script" ;;
            *.sh)  echo "docker-entrypoint.sh: running $script"; . "$script" ;;
        esac
    done
    pg_ctl --silent --wait --mode=fast stop
fi

if [ "${1:-}" = postgres ]; then
    shift
    exec postgres -c listen_addresses='*' "$@"
fi
exec "$@"
