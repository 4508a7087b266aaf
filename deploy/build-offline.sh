#!/usr/bin/env bash
# Build the image without any registry and check that it serves the HR example (docs/deployment.md,
# "What was verified"). For a machine that reaches Debian's mirror and PyPI but no container
# registry, with podman and root:
#
#   apt-get install -y podman runc debootstrap      # runc: crun refuses hybrid cgroups (v1 + v2)
#   sudo deploy/build-offline.sh                    # about 2 min; 1 more to make the base first
#
# 1. A base image from Debian's own packages: debootstrap bookworm with python3 and python3-venv,
#    imported as localhost/debian-python:bookworm (made once; REBUILD_BASE=1 makes it again). The
#    host's CA bundle goes into it, so that pip trusts what the host trusts (a TLS-intercepting
#    proxy in front of PyPI).
# 2. The Dockerfile, unchanged, with --build-arg PYTHON_IMAGE=localhost/debian-python:bookworm;
#    pip in the build stage fetches the dependencies from PyPI.
# 3. The image serving examples/hr/hr.map (mounted) on SQLite in a volume, read-only, no
#    capabilities: /readyz, a SCIM GET and POST with the token, a 401 without, the HEALTHCHECK,
#    the user, the mounted mapping, a clean stop on SIGTERM.
# 4. With PG_URL set (a PostgreSQL database holding examples/hr/schema.postgres.sql and its
#    sample data, reachable from the host): the same image against it, on the host's network.
#
# Variables: IMAGE (localhost/scim-sql-mapper:offline), BASE (localhost/debian-python:bookworm),
# MIRROR (Debian mirror, default the one apt uses), PORT (18080), PG_URL, REBUILD_BASE.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE="${IMAGE:-localhost/scim-sql-mapper:offline}"
BASE="${BASE:-localhost/debian-python:bookworm}"
PORT="${PORT:-18080}"
TOKEN="smoke-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
NAME="scim-smoke-$$"
VOLUME="$NAME-data"
HR=/usr/share/scim-sql-mapper/examples/hr

# crun (podman's default) stops at hybrid cgroups; runc does not. The ulimits stay under the
# host's hard limits: podman raises them to 1048576, which needs CAP_SYS_RESOURCE.
engine=(podman)
if command -v runc >/dev/null; then engine+=(--runtime runc); fi
limits=(--ulimit "nofile=4096:4096" --ulimit "nproc=4096:4096")

say() { printf '\n== %s\n' "$*"; }
fail() {
  echo "FAILED: $*" >&2
  "${engine[@]}" logs "$NAME" 2>&1 | tail -30 >&2 || true
  exit 1
}
cleanup() {
  # one at a time: podman removes none of the names when one is missing
  for container in "${NAME%-pg}" "${NAME%-pg}-pg"; do
    "${engine[@]}" rm -f "$container" >/dev/null 2>&1 || true
  done
  "${engine[@]}" volume rm -f "$VOLUME" >/dev/null 2>&1 || true
}
trap cleanup EXIT

if [ -n "${REBUILD_BASE:-}" ] || ! "${engine[@]}" image exists "$BASE"; then
  mirror="${MIRROR:-$(cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null |
    awk '$1 ~ /^(URIs:|deb)$/ && $2 ~ /\/debian\/?$/ { print $2; exit }' || true)}"
  mirror="${mirror:-http://deb.debian.org/debian}"
  say "base image $BASE from $mirror"
  rootfs="$(mktemp -d)"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$rootfs" "$mirror"
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | "${engine[@]}" import --change 'CMD ["python3"]' - "$BASE"
  rm -rf "$rootfs"
fi

say "build $IMAGE on $BASE"
# --format docker: podman's default (OCI) image format has no HEALTHCHECK and drops it
"${engine[@]}" build --format docker "${limits[@]}" --build-arg "PYTHON_IMAGE=$BASE" -t "$IMAGE" .

say "image configuration"
config="$("${engine[@]}" image inspect "$IMAGE" \
  --format '{{.Config.User}} {{json .Config.Entrypoint}} {{json .HealthCheck.Test}}')"
echo "$config"
[ "$config" = 'mapper:mapper ["mapper-entrypoint"] ["CMD","mapper-entrypoint","healthcheck"]' ] ||
  fail "image configuration: $config"

say "serve the HR example on SQLite (read-only, no capabilities)"
"${engine[@]}" run -d --name "$NAME" "${limits[@]}" -p "127.0.0.1:$PORT:8080" \
  -e "MAPPER_TOKEN=smoke:$TOKEN" \
  -v "$PWD/examples/hr/hr.map:/etc/mapper/mapping.map:ro" -v "$VOLUME:/var/lib/mapper" \
  --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges \
  "$IMAGE" serve --create-schema="$HR/schema.sql" --seed="$HR/sample-data.sql" >/dev/null
base="http://127.0.0.1:$PORT"
for _ in $(seq 120); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/readyz")" = 200 ] && break
  sleep 0.5
done
curl -sf "$base/readyz" || fail "/readyz never answered 200"
echo
auth=(-H "Authorization: Bearer $TOKEN")
users="$(curl -sf "${auth[@]}" "$base/scim/v2/Users?count=0")"
echo "$users"
case "$users" in *'"totalResults":20'*) ;; *) fail "GET /Users: $users" ;; esac
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/scim/v2/Users")" = 401 ] || fail "no 401 without the token"
created="$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" -H 'Content-Type: application/scim+json' \
  -d '{"userName": "smoke.test", "name": {"familyName": "Test"}}' "$base/scim/v2/Users")"
[ "$created" = 201 ] || fail "POST /Users answered $created (is the volume writable by uid 10001?)"
echo "POST /Users: 201"

say "health check, user, mapping"
"${engine[@]}" healthcheck run "$NAME" 2>/dev/null || fail "HEALTHCHECK is not healthy"
echo "healthcheck: healthy"
uid="$("${engine[@]}" exec "$NAME" id -u)"
pid1="$("${engine[@]}" exec "$NAME" sh -c 'stat -c %u /proc/1')"
[ "$uid" = 10001 ] && [ "$pid1" = 10001 ] || fail "runs as uid $uid (process 1: $pid1), not 10001"
echo "user: uid $uid (process 1 too)"
"${engine[@]}" exec "$NAME" cat /etc/mapper/mapping.map | cmp - examples/hr/hr.map || fail "mapping"
# the log in a variable first: grep -q ends early, and pipefail would count the writer's SIGPIPE
log="$("${engine[@]}" logs "$NAME" 2>&1)"
grep -q 'serving /etc/mapper/mapping.map at http://0.0.0.0:8080' <<<"$log" ||
  fail "the log does not name the mounted mapping"
echo "mapping: the mounted examples/hr/hr.map is served"
if "${engine[@]}" exec "$NAME" touch /opt/scim-sql-mapper/x 2>/dev/null; then fail "root file system writable"; fi

say "stop (SIGTERM)"
"${engine[@]}" stop -t 30 "$NAME" >/dev/null
code="$("${engine[@]}" inspect "$NAME" --format '{{.State.ExitCode}}')"
[ "$code" = 0 ] || fail "exit code $code after SIGTERM"
log="$("${engine[@]}" logs "$NAME" 2>&1)"
grep -q 'Application shutdown complete' <<<"$log" || fail "no clean shutdown"
echo "exit 0, shutdown complete"

say "an option the health check cannot see is named"
warning="$("${engine[@]}" run --rm "${limits[@]}" "$IMAGE" serve --port 9000 --help 2>&1 >/dev/null)"
case "$warning" in *"set MAPPER_PORT instead"*) echo "$warning" ;; *) fail "no warning: $warning" ;; esac

if [ -n "${PG_URL:-}" ]; then
  say "the HR example on PostgreSQL (PG_URL)"
  "${engine[@]}" rm "$NAME" >/dev/null 2>&1
  NAME="$NAME-pg"  # cleanup removes both
  "${engine[@]}" run -d --name "$NAME" "${limits[@]}" --network host \
    -e MAPPER_HOST=127.0.0.1 -e "MAPPER_PORT=$PORT" -e MAPPER_DIALECT=postgres \
    -e "MAPPER_TOKEN=smoke:$TOKEN" -e "HR_DATABASE_URL=$PG_URL" \
    -v "$PWD/examples/hr/hr.map:/etc/mapper/mapping.map:ro" \
    --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges "$IMAGE" >/dev/null
  for _ in $(seq 120); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/readyz")" = 200 ] && break
    sleep 0.5
  done
  groups="$(curl -sf "${auth[@]}" "$base/scim/v2/Groups?count=0")" || fail "PostgreSQL: not ready"
  echo "$groups"
  "${engine[@]}" healthcheck run "$NAME" 2>/dev/null || fail "PostgreSQL: HEALTHCHECK is not healthy"
  echo "healthcheck: healthy"
fi

say "all checks passed"
