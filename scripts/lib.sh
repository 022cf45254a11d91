# Shared by the scripts in this folder; source it, don't run it.
# shellcheck shell=bash

COUPON_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COUPON_DEPS_DIR=${COUPON_DEPS_DIR:-$COUPON_ROOT/.deps}
COUPON_STACK_DIR=${COUPON_STACK_DIR:-$COUPON_ROOT/.stack}
KAFKA_LIBS=$COUPON_DEPS_DIR/kafka/libs

say() { printf '%s\n' "$*" >&2; }
die() { printf '%s: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# The Java entry points of the resolved broker jars.
kafka_java() {
    local main=$1; shift
    java -Xms64m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        -Dlog4j2.configurationFile="$COUPON_ROOT/scripts/kafka/log4j2-tools.properties" \
        -cp "$KAFKA_LIBS/*" "$main" "$@"
}
