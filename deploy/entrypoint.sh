#!/bin/sh
# The container's entrypoint (Dockerfile), also usable on a host: `mapper serve`, or the health
# check the image's HEALTHCHECK runs.
#
#   entrypoint.sh [serve] [mapper serve options]   serve the mapping (the default command)
#   entrypoint.sh healthcheck                      exit 0 when /readyz answers 200, else 1
#                                                  (asks MAPPER_HOST, or 127.0.0.1 when that is
#                                                  every interface, at MAPPER_PORT)
#   entrypoint.sh mapper lint ... | any command    run it as given (lint, compile, simulate...)
#
# mapper serve reads every option from a MAPPER_* variable too (docs/gateway.md, Options): the
# mapping from MAPPER_MAPPING, the port from MAPPER_PORT, TLS from MAPPER_CERTFILE and
# MAPPER_KEYFILE, tokens from MAPPER_TOKEN or MAPPER_TOKEN_FILE, and so on; options on the command
# line win over them. This script only gives a container's defaults: the mapping at
# /etc/mapper/mapping.map, listening on every interface, port 8080.
set -eu

export MAPPER_MAPPING="${MAPPER_MAPPING:-/etc/mapper/mapping.map}"
export MAPPER_HOST="${MAPPER_HOST:-0.0.0.0}"
export MAPPER_PORT="${MAPPER_PORT:-8080}"

command="${1:-serve}"
case "$command" in
  healthcheck)
    scheme=http
    [ -n "${MAPPER_CERTFILE:-}" ] && scheme=https
    # the loopback interface when serving on every interface, else the address served on
    case "$MAPPER_HOST" in
      0.0.0.0 | :: | "[::]") host=127.0.0.1 ;;
      \[*) host="$MAPPER_HOST" ;;
      *:*) host="[$MAPPER_HOST]" ;;
      *) host="$MAPPER_HOST" ;;
    esac
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
' "$scheme://$host:$MAPPER_PORT/readyz"
    ;;
  serve | -*)
    if [ $# -gt 0 ] && [ "$1" = serve ]; then shift; fi
    # the health check is another process, started with the image's environment: it sees the
    # MAPPER_ variables, never this command line
    for arg in "$@"; do
      case "$arg" in
        --port | --port=* | --host | --host=* | --certfile | --certfile=*)
          option="${arg%%=*}"
          variable="MAPPER_$(printf %s "${option#--}" | tr '[:lower:]' '[:upper:]')"
          echo "mapper-entrypoint: warning: the health check cannot see $option on the command line;" \
            "set $variable instead, or the container is reported unhealthy" >&2
          ;;
      esac
    done
    exec mapper serve "$@"
    ;;
  *)
    exec "$@"
    ;;
esac
