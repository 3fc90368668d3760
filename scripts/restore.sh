#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into an EMPTY database.
# Usage: DATABASE_URL=postgres://.../accord_restored scripts/restore.sh FILE
set -euo pipefail
: "${DATABASE_URL:?set DATABASE_URL to the (empty) database to restore into}"
file=${1:?give the backup file}
tables=$(psql "$DATABASE_URL" -tAc "select count(*) from pg_tables where schemaname = 'public'")
if [ "$tables" != "0" ]; then
  echo "refusing to restore: the target database already has $tables tables" >&2
  exit 1
fi
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction \
  --dbname="$DATABASE_URL" "$file"
echo "restored $file"
