#!/usr/bin/env bash
# Back up Accord's PostgreSQL database to one file (pg_dump custom format).
# Usage: DATABASE_URL=postgres://... scripts/backup.sh [FILE]
set -euo pipefail
: "${DATABASE_URL:?set DATABASE_URL to the database to back up}"
out=${1:-accord-$(date -u +%Y%m%dT%H%M%SZ).dump}
pg_dump --format=custom --no-owner --no-privileges --file="$out" "$DATABASE_URL"
# A dump that pg_restore cannot list is not a backup.
pg_restore --list "$out" > /dev/null
echo "$out"
