# The benchmarks' own stack (unless told otherwise): source it before lib.sh.
# No other worker in group_1 drains what is measured there, and no developer
# data gets in the way.
# shellcheck shell=bash
bench_stack=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.stack-bench
export COUPON_STACK_DIR=${COUPON_STACK_DIR:-$bench_stack}
export COUPON_STACK_REDIS_PORT=${COUPON_STACK_REDIS_PORT:-26379}
export COUPON_STACK_MYSQL_PORT=${COUPON_STACK_MYSQL_PORT:-23306}
export COUPON_STACK_KAFKA_PORT=${COUPON_STACK_KAFKA_PORT:-29092}
export COUPON_STACK_KAFKA_CONTROLLER_PORT=${COUPON_STACK_KAFKA_CONTROLLER_PORT:-29093}
