#include "gateway/metrics.h"

#include <algorithm>

namespace coupon::gateway {

void Metrics::answer(Route route, http::Responder &responder, http::Response response, qint64 startedNs)
{
    const int status = std::clamp(response.status, 0, 599);
    ++m_byStatus[size_t(route)][size_t(status)];
    if (route == Route::Apply) {
        const double seconds = double(now() - startedNs) / 1e9;
        size_t bucket = 0;
        while (bucket < kBuckets.size() && seconds > kBuckets[bucket])
            ++bucket;
        ++m_latency[bucket];
        m_latencySum += seconds;
        ++m_latencyCount;
    }
    responder.respond(std::move(response));
}

QByteArray Metrics::text(const MetricsGauges &gauges) const
{
    QByteArray out;
    out.reserve(4096);
    out += "# HELP coupon_gateway_requests_total HTTP requests by route and status code.\n"
           "# TYPE coupon_gateway_requests_total counter\n";
    for (size_t r = 0; r < size_t(Route::Count); ++r) {
        for (size_t code = 0; code < 600; ++code) {
            if (const qint64 n = m_byStatus[r][code])
                out += "coupon_gateway_requests_total{route=\"" + QByteArray(routeName(Route(r))) + "\",code=\""
                    + QByteArray::number(qint64(code)) + "\"} " + QByteArray::number(n) + '\n';
        }
    }
    out += "# HELP coupon_gateway_apply_outcomes_total Apply protocol outcomes.\n"
           "# TYPE coupon_gateway_apply_outcomes_total counter\n";
    for (int s = 0; s < kApplyOutcomeCount; ++s)
        out += "coupon_gateway_apply_outcomes_total{outcome=\"" + toString(ApplyOutcome(s)).toLatin1() + "\"} "
            + QByteArray::number(m_outcomes[size_t(s)]) + '\n';
    out += "# HELP coupon_gateway_apply_duration_seconds Time from request to answer of POST applications.\n"
           "# TYPE coupon_gateway_apply_duration_seconds histogram\n";
    qint64 cumulative = 0;
    for (size_t b = 0; b <= kBuckets.size(); ++b) {
        cumulative += m_latency[b];
        out += "coupon_gateway_apply_duration_seconds_bucket{le=\""
            + (b < kBuckets.size() ? QByteArray::number(kBuckets[b]) : QByteArray("+Inf")) + "\"} "
            + QByteArray::number(cumulative) + '\n';
    }
    out += "coupon_gateway_apply_duration_seconds_sum " + QByteArray::number(m_latencySum, 'f', 6) + '\n';
    out += "coupon_gateway_apply_duration_seconds_count " + QByteArray::number(m_latencyCount) + '\n';
    out += "# HELP coupon_gateway_in_flight Applies waiting for Redis or Kafka.\n"
           "# TYPE coupon_gateway_in_flight gauge\n"
           "coupon_gateway_in_flight "
        + QByteArray::number(gauges.inFlight) + '\n';
    out += "# HELP coupon_gateway_overload_rejections_total Applies refused because too many were in flight.\n"
           "# TYPE coupon_gateway_overload_rejections_total counter\ncoupon_gateway_overload_rejections_total "
        + QByteArray::number(m_rejectedOverload) + '\n';
    out += "# HELP coupon_gateway_refused_total Requests turned away before their work: no or a bad token, "
           "a body naming another user, a rate limit, the idempotency quota.\n"
           "# TYPE coupon_gateway_refused_total counter\n";
    for (size_t i = 0; i < m_refused.size(); ++i)
        out += QByteArray("coupon_gateway_refused_total{reason=\"") + refusalLabel(Refusal(i)) + "\"} "
            + QByteArray::number(m_refused[i]) + '\n';
    out += "# HELP coupon_gateway_redis_errors_total Redis commands that failed.\n"
           "# TYPE coupon_gateway_redis_errors_total counter\ncoupon_gateway_redis_errors_total "
        + QByteArray::number(gauges.redisErrors) + '\n';
    out += "# HELP coupon_gateway_kafka_errors_total Produces that failed or were left uncertain.\n"
           "# TYPE coupon_gateway_kafka_errors_total counter\ncoupon_gateway_kafka_errors_total "
        + QByteArray::number(gauges.kafkaErrors) + '\n';
    out += "# HELP coupon_gateway_soldout_memo_answers_total Applies answered by the sold-out memo, without Redis.\n"
           "# TYPE coupon_gateway_soldout_memo_answers_total counter\ncoupon_gateway_soldout_memo_answers_total "
        + QByteArray::number(gauges.memoAnswers) + '\n';
    out += "# HELP coupon_gateway_soldout_memo_snapshots_total Snapshots of sold-out campaigns' holders taken.\n"
           "# TYPE coupon_gateway_soldout_memo_snapshots_total counter\ncoupon_gateway_soldout_memo_snapshots_total "
        + QByteArray::number(gauges.memoSnapshots) + '\n';
    out += "# HELP coupon_gateway_up Whether a dependency answers (1) or not (0).\n# TYPE coupon_gateway_up gauge\n"
           "coupon_gateway_up{dependency=\"redis\"} "
        + QByteArray(gauges.redisUp ? "1" : "0") + '\n' + "coupon_gateway_up{dependency=\"kafka\"} "
        + QByteArray(gauges.kafkaUp ? "1" : "0") + '\n';
    const http::ServerStats &server = gauges.server;
    out += "# HELP coupon_gateway_connections Client connections open on the public listener.\n"
           "# TYPE coupon_gateway_connections gauge\ncoupon_gateway_connections "
        + QByteArray::number(server.connections) + '\n';
    out += "# HELP coupon_gateway_connections_max The cap on them (gateway.max.connections, or from ulimit -n).\n"
           "# TYPE coupon_gateway_connections_max gauge\ncoupon_gateway_connections_max "
        + QByteArray::number(gauges.connectionCap) + '\n';
    out += "# HELP coupon_gateway_connections_refused_total Connections answered 503 and closed, by the cap they hit.\n"
           "# TYPE coupon_gateway_connections_refused_total counter\n"
           "coupon_gateway_connections_refused_total{cap=\"global\"} "
        + QByteArray::number(server.refusedGlobal) + "\ncoupon_gateway_connections_refused_total{cap=\"per_address\"} "
        + QByteArray::number(server.refusedPerAddress) + '\n';
    out += "# HELP coupon_gateway_accept_pauses_total Episodes of accept() failing for resources (EMFILE, ENFILE).\n"
           "# TYPE coupon_gateway_accept_pauses_total counter\ncoupon_gateway_accept_pauses_total "
        + QByteArray::number(server.acceptPauses) + '\n';
    out += "# HELP coupon_gateway_accept_paused Whether accepting is paused for resources now.\n"
           "# TYPE coupon_gateway_accept_paused gauge\ncoupon_gateway_accept_paused "
        + QByteArray(server.acceptPaused ? "1" : "0") + '\n';
    out += "# HELP coupon_gateway_unsent_bytes Answers written but not yet taken by the kernel, all connections.\n"
           "# TYPE coupon_gateway_unsent_bytes gauge\ncoupon_gateway_unsent_bytes "
        + QByteArray::number(server.unsentBytes) + '\n';
    out += "# HELP coupon_gateway_write_blocked_total Times a connection stopped being read: its client does not "
           "read its answers.\n"
           "# TYPE coupon_gateway_write_blocked_total counter\ncoupon_gateway_write_blocked_total "
        + QByteArray::number(server.writeBlocked) + '\n';
    out += "# HELP coupon_gateway_budget_yields_total Turns a connection gave up with requests left (per-wakeup "
           "budget).\n"
           "# TYPE coupon_gateway_budget_yields_total counter\ncoupon_gateway_budget_yields_total "
        + QByteArray::number(server.budgetYields) + '\n';
    return out;
}

} // namespace coupon::gateway
