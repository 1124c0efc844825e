#!/bin/sh
# Entry point of the project's images: every NAME_FILE variable that points into the secrets
# folder (/run/secrets, where Compose and Kubernetes mount secret files) becomes NAME with the
# file's content, then the command runs in place of this shell. Other *_FILE variables
# (SSL_CERT_FILE, …) are left alone. A named file that cannot be read stops the container.
set -eu

secrets_dir="${SECRETS_DIR:-/run/secrets}"
for variable in $(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)_FILE=.*/\1/p'); do
  file=$(printenv "${variable}_FILE")
  case "$file" in
    "$secrets_dir"/*) ;;
    *) continue ;;
  esac
  if [ ! -r "$file" ]; then
    echo "entrypoint: ${variable}_FILE names $file, which cannot be read" >&2
    exit 1
  fi
  value=$(cat "$file")
  export "$variable=$value"
  unset "${variable}_FILE"
done
exec "$@"
