#pragma once

// POST /api/v1/campaigns/{id}/applications.

#include "coupon/base/settings.h"
#include "coupon/http/server.h"
#include "coupon/protocol/apply_outcome.h"
#include "gateway/gatekeeper.h"
#include "gateway/idempotency.h"

#include <functional>
#include <optional>

namespace coupon {

class AsyncApplyService;
class KafkaLiveness;

namespace gateway {

class Metrics;
class ReadEndpoints;

// Checks an apply (who calls, their rate, media type, body,
// Idempotency-Key), refuses it at once
// while the gateway stops, is overloaded or a dependency is down, then runs it
// on the apply service, through the idempotency store when it has a key.
class ApplyEndpoint
{
public:
    // `stopping` is the gateway's flag, read on every apply.
    // `reads` answers, from MySQL, whether a campaign Redis lacks exists.
    // `deliveryTimeoutMs`: the longest an apply may wait for Kafka.
    ApplyEndpoint(const GatewaySettings &settings, qint64 deliveryTimeoutMs, AsyncApplyService &service,
                  const KafkaLiveness &kafka, ReadEndpoints &reads, Gatekeeper &gatekeeper, Metrics &metrics,
                  const bool &stopping);

    void handle(const QString &campaign, const http::Request &request, http::Responder responder, qint64 startedNs);

private:
    void applyNow(const QString &campaign, qint64 userId, http::Responder responder, qint64 startedNs);
    void applyWithKey(const QString &campaign, qint64 userId, const QByteArray &key, http::Responder responder,
                      qint64 startedNs);
    // After the gatekeeper's verdict on the caller: the checks, then the apply.
    void admitted(const QString &campaign, const http::Request &request, Gatekeeper::Verdict caller,
                  http::Responder responder, qint64 startedNs);
    // The caller's user: the token's (jwt; a body userId must agree), else
    // the body's. nullopt once answered.
    std::optional<qint64> userOf(const http::Request &request, Gatekeeper::Verdict caller, http::Responder &responder,
                                 qint64 startedNs);
    // Runs the apply; a not_loaded from Redis is first checked against
    // MySQL: a campaign the record has is being rebuilt (503 reconciling),
    // never a 404 its clients would take as final.
    void run(const QString &campaign, qint64 userId, std::function<void(const ApplyResult &)> done);
    http::Response answerFor(const QString &campaign, qint64 userId, const ApplyResult &result);

    const GatewaySettings &m_settings;
    AsyncApplyService &m_service;
    const KafkaLiveness &m_kafka;
    ReadEndpoints &m_reads;
    Gatekeeper &m_gatekeeper;
    Metrics &m_metrics;
    const bool &m_stopping;
    IdempotencyStore m_idempotency;
};

} // namespace gateway
} // namespace coupon
