#include "gateway/metrics.h"

#include "coupon/http/prometheus.h"

#include <algorithm>

namespace coupon::gateway {

using http::appendMetric;

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
    http::appendHistogram(out, "coupon_gateway_apply_duration_seconds",
                          "Time from request to answer of POST applications.", kBuckets, m_latency, m_latencySum);
    appendMetric(out, "coupon_gateway_in_flight", "gauge", "Applies waiting for Redis or Kafka.",
                 QByteArray::number(gauges.inFlight));
    appendMetric(out, "coupon_gateway_overload_rejections_total", "counter",
                 "Applies refused because too many were in flight.", QByteArray::number(m_rejectedOverload));
    out += "# HELP coupon_gateway_refused_total Requests turned away before their work: no or a bad token, "
           "a body naming another user, a rate limit, the idempotency quota.\n"
           "# TYPE coupon_gateway_refused_total counter\n";
    for (size_t i = 0; i < m_refused.size(); ++i)
        out += QByteArray("coupon_gateway_refused_total{reason=\"") + refusalLabel(Refusal(i)) + "\"} "
            + QByteArray::number(m_refused[i]) + '\n';
    appendMetric(out, "coupon_gateway_redis_errors_total", "counter", "Redis commands that failed.",
                 QByteArray::number(gauges.redisErrors));
    appendMetric(out, "coupon_gateway_kafka_errors_total", "counter", "Produces that failed or were left uncertain.",
                 QByteArray::number(gauges.kafkaErrors));
    appendMetric(out, "coupon_gateway_soldout_memo_answers_total", "counter",
                 "Applies answered by the sold-out memo, without Redis.", QByteArray::number(gauges.memoAnswers));
    appendMetric(out, "coupon_gateway_soldout_memo_snapshots_total", "counter",
                 "Snapshots of sold-out campaigns' holders taken.", QByteArray::number(gauges.memoSnapshots));
    out += "# HELP coupon_gateway_up Whether a dependency answers (1) or not (0).\n# TYPE coupon_gateway_up gauge\n"
           "coupon_gateway_up{dependency=\"redis\"} "
        + QByteArray(gauges.redisUp ? "1" : "0") + '\n' + "coupon_gateway_up{dependency=\"kafka\"} "
        + QByteArray(gauges.kafkaUp ? "1" : "0") + '\n';
    appendMetric(out, "coupon_gateway_ready", "gauge", "Whether /readyz answers 200 (1) or 503 (0).",
                 QByteArray(gauges.ready ? "1" : "0"));
    const http::ServerStats &server = gauges.server;
    appendMetric(out, "coupon_gateway_connections", "gauge", "Client connections open on the public listener.",
                 QByteArray::number(server.connections));
    appendMetric(out, "coupon_gateway_connections_max", "gauge",
                 "The cap on them (gateway.max.connections, or from ulimit -n).",
                 QByteArray::number(gauges.connectionCap));
    out += "# HELP coupon_gateway_connections_refused_total Connections answered 503 and closed, by the cap they hit.\n"
           "# TYPE coupon_gateway_connections_refused_total counter\n"
           "coupon_gateway_connections_refused_total{cap=\"global\"} "
        + QByteArray::number(server.refusedGlobal) + "\ncoupon_gateway_connections_refused_total{cap=\"per_address\"} "
        + QByteArray::number(server.refusedPerAddress) + '\n';
    appendMetric(out, "coupon_gateway_accept_pauses_total", "counter",
                 "Episodes of accept() failing for resources (EMFILE, ENFILE).",
                 QByteArray::number(server.acceptPauses));
    appendMetric(out, "coupon_gateway_accept_paused", "gauge", "Whether accepting is paused for resources now.",
                 QByteArray(server.acceptPaused ? "1" : "0"));
    appendMetric(out, "coupon_gateway_unsent_bytes", "gauge",
                 "Answers written but not yet taken by the kernel, all connections.",
                 QByteArray::number(server.unsentBytes));
    appendMetric(out, "coupon_gateway_write_blocked_total", "counter",
                 "Times a connection stopped being read: its client does not read its answers.",
                 QByteArray::number(server.writeBlocked));
    appendMetric(out, "coupon_gateway_budget_yields_total", "counter",
                 "Turns a connection gave up with requests left (per-wakeup budget).",
                 QByteArray::number(server.budgetYields));
    return out;
}

} // namespace coupon::gateway
