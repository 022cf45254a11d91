#pragma once

// The gateway's Prometheus counters and the /metrics text made from them.

#include "coupon/http/server.h"
#include "coupon/protocol/apply_outcome.h"
#include "gateway/routes.h"

#include <QElapsedTimer>

#include <array>

namespace coupon::gateway {

// What /metrics reports besides the gateway's own counters: read from the
// apply service and the Kafka probe when the page is asked for.
struct MetricsGauges
{
    int inFlight = 0;
    qint64 redisErrors = 0;
    qint64 kafkaErrors = 0;
    qint64 memoAnswers = 0;
    qint64 memoSnapshots = 0;
    bool redisUp = false;
    bool kafkaUp = false;
    bool ready = false;       // what /readyz answers (200: true)
    http::ServerStats server; // the public listener's
    int connectionCap = 0;    // its Limits::maxConnections
};

// Counts every answer by route and status (and the applies' latency) as it is
// given; everything runs on the event loop, so plain integers do.
class Metrics
{
public:
    Metrics() { m_clock.start(); }

    // The clock answers are timed on (nanoseconds).
    qint64 now() const { return m_clock.nsecsElapsed(); }

    // Counts the answer, then gives it; startedNs is now() when the request came.
    void answer(Route route, http::Responder &responder, http::Response response, qint64 startedNs);
    void countOutcome(ApplyOutcome status) { ++m_outcomes[size_t(status)]; }
    void countOverload() { ++m_rejectedOverload; }
    void countRefusal(Refusal reason) { ++m_refused[size_t(reason)]; }

    // The /metrics page (Prometheus text format 0.0.4).
    QByteArray text(const MetricsGauges &gauges) const;

private:
    static constexpr std::array<double, 14> kBuckets{0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05,
                                                     0.1,    0.25,  0.5,   1.0,   2.5,  5.0,   10.0};

    QElapsedTimer m_clock;
    std::array<std::array<qint64, 600>, size_t(Route::Count)> m_byStatus{}; // [route][status code]
    std::array<qint64, kApplyOutcomeCount> m_outcomes{};
    std::array<qint64, kBuckets.size() + 1> m_latency{};
    double m_latencySum = 0;
    qint64 m_rejectedOverload = 0;
    std::array<qint64, size_t(Refusal::Count)> m_refused{};
};

} // namespace coupon::gateway
