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

# redis-cli as the stack's own Redis user (scripts/stack: `stack`, every
# command); the password goes by environment, never on a command line.
stack_redis_cli() {
    REDISCLI_AUTH=$(cat "$COUPON_STACK_DIR/secrets/redis-stack") \
        redis-cli --no-auth-warning --user stack -h 127.0.0.1 -p "${COUPON_STACK_REDIS_PORT:-6379}" "$@"
}

# The schema in the stack's MySQL (couponctl migrate, as the admin role), then
# the worker's and gateway's table privileges, which need the tables.
stack_schema() {
    local build=$1
    "$build/app/couponctl" --config "$COUPON_STACK_DIR/config/admin.ini" migrate >/dev/null
    "$COUPON_ROOT/scripts/stack" grant >/dev/null
}

# redis-benchmark as the same user (it takes a password only with -a).
stack_redis_benchmark() {
    redis-benchmark --user stack -a "$(cat "$COUPON_STACK_DIR/secrets/redis-stack")" "$@"
}

# The stack's coupon-worker and coupon-gateway for a script that needs them
# running: one already running (its pid file in $COUPON_STACK_DIR/run) is
# used; one started here is remembered in stack_started, and
# stack_stop_started stops those alone (call it from an EXIT trap).
stack_started=()
stack_service() {
    local tag=$1 name=$2; shift 2
    local run=$COUPON_STACK_DIR/run logs=$COUPON_STACK_DIR/logs
    if [[ -f $run/$name.pid ]] && kill -0 "$(cat "$run/$name.pid")" 2>/dev/null; then
        say "$tag: using the running $name (pid $(cat "$run/$name.pid"))"
        return
    fi
    (cd "$COUPON_STACK_DIR" && exec "$@" >>"$logs/$tag-$name.log" 2>&1 </dev/null) &
    stack_started+=($!)
    say "$tag: $name started (pid $!, log $logs/$tag-$name.log)"
}
stack_stop_started() {
    local pid
    for pid in "${stack_started[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${stack_started[@]}"; do
        while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
    done
}
