#!/bin/sh
# The container's entrypoint (Dockerfile), also usable on a host: `mapper serve` on a mounted
# mapping, its options from the environment, or the health check the image's HEALTHCHECK runs.
#
#   entrypoint.sh [serve] [more mapper serve options]   serve MAPPER_MAPPING (the default command)
#   entrypoint.sh healthcheck                           exit 0 when /readyz answers 200, else 1
#   entrypoint.sh mapper lint ... | any command         run it as given (lint, compile, simulate...)
#
# Environment (every one optional; options given on the command line come after and win):
#   MAPPER_MAPPING             the mapping file (default /etc/mapper/mapping.map)
#   MAPPER_HOST, MAPPER_PORT   where to listen (default 0.0.0.0 and 8080)
#   MAPPER_CERTFILE, MAPPER_KEYFILE   TLS certificate and key (PEM): serve HTTPS
#   MAPPER_TOKEN_FILE          file of bearer tokens (MAPPER_TOKEN is read by mapper itself)
#   MAPPER_METRICS_TOKEN_FILE  file of tokens that open /metrics only (or MAPPER_METRICS_TOKEN)
#   MAPPER_DIALECT             override the mapping's dialect (the HR example says sqlite)
#   MAPPER_LOG_LEVEL           critical, error, warning, info (default), debug
set -eu

mapping="${MAPPER_MAPPING:-/etc/mapper/mapping.map}"
host="${MAPPER_HOST:-0.0.0.0}"
port="${MAPPER_PORT:-8080}"
scheme=http
[ -n "${MAPPER_CERTFILE:-}" ] && scheme=https

command="${1:-serve}"
case "$command" in
  healthcheck)
    # the certificate names the public host, not 127.0.0.1: the check does not verify it
    exec python3 -c '
import ssl, sys, urllib.request
url = sys.argv[1]
context = ssl._create_unverified_context() if url.startswith("https:") else None
try:
    with urllib.request.urlopen(url, timeout=3, context=context) as answer:
        sys.exit(0 if answer.status == 200 else 1)
except Exception as error:
    print(f"not ready: {error}", file=sys.stderr)
    sys.exit(1)
' "$scheme://127.0.0.1:$port/readyz"
    ;;
  serve | -*)
    [ "$command" = serve ] && shift
    # the environment's options go first, the command line's last: mapper takes the last of each
    [ -n "${MAPPER_CERTFILE:-}" ] && set -- --certfile "$MAPPER_CERTFILE" "$@"
    [ -n "${MAPPER_KEYFILE:-}" ] && set -- --keyfile "$MAPPER_KEYFILE" "$@"
    [ -n "${MAPPER_TOKEN_FILE:-}" ] && set -- --token-file "$MAPPER_TOKEN_FILE" "$@"
    [ -n "${MAPPER_METRICS_TOKEN_FILE:-}" ] && set -- --metrics-token-file "$MAPPER_METRICS_TOKEN_FILE" "$@"
    [ -n "${MAPPER_DIALECT:-}" ] && set -- --dialect "$MAPPER_DIALECT" "$@"
    [ -n "${MAPPER_LOG_LEVEL:-}" ] && set -- --log-level "$MAPPER_LOG_LEVEL" "$@"
    exec mapper serve "$mapping" --host "$host" --port "$port" "$@"
    ;;
  *)
    exec "$@"
    ;;
esac
