#include "gateway/apply_endpoint.h"

#include "coupon/base/text.h"
#include "coupon/kafka/liveness.h"
#include "coupon/protocol/apply_request.h"
#include "coupon/service/async_apply_service.h"
#include "gateway/answers.h"
#include "gateway/gatekeeper.h"
#include "gateway/metrics.h"
#include "gateway/read_endpoints.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <charconv>
#include <memory>

using namespace Qt::StringLiterals;

namespace coupon::gateway {

namespace {

using SharedResponder = std::shared_ptr<http::Responder>;

bool isJsonMediaType(QByteArrayView type)
{
    constexpr QByteArrayView json("application/json");
    return type.size() >= json.size() && type.first(json.size()).compare(json, Qt::CaseInsensitive) == 0
        && (type.size() == json.size() || type[json.size()] == ';');
}

// Bytes that a JSON string carries as they are (QJsonDocument escapes the rest).
char16_t codeUnit(char c)
{
    return uchar(c);
}
char16_t codeUnit(QChar c)
{
    return c.unicode();
}

template <typename Text>
bool isPlainJsonString(const Text &text)
{
    return std::all_of(text.begin(), text.end(), [](auto c) {
        const char16_t u = codeUnit(c);
        return u >= 0x20 && u < 0x7f && u != '"' && u != '\\';
    });
}

// The 202 body, byte for byte what QJsonDocument(...).toJson(Compact) gives
// (QJsonObject orders keys by name), without building a QJsonObject: this is
// the hot path.
QByteArray acceptedBody(const QString &campaign, qint64 userId, const ApplyResult &r)
{
    // Campaign ids are [a-z0-9_-] (validated), request ids ours; anything else takes the slow path.
    if (!isPlainJsonString(campaign) || !isPlainJsonString(r.requestId))
        return QJsonDocument(QJsonObject{{u"status"_s, u"accepted"_s},
                                         {u"ticket"_s, r.ticket},
                                         {u"campaign"_s, campaign},
                                         {u"userId"_s, userId},
                                         {u"requestId"_s, QString::fromLatin1(r.requestId)}})
            .toJson(QJsonDocument::Compact);
    QByteArray out;
    out.reserve(96 + campaign.size() + r.requestId.size());
    out.append("{\"campaign\":\"");
    for (const QChar c : campaign)
        out.append(char(c.unicode()));
    out.append("\",\"requestId\":\"");
    out.append(r.requestId);
    out.append("\",\"status\":\"accepted\",\"ticket\":");
    appendNumber(out, r.ticket);
    out.append(",\"userId\":");
    appendNumber(out, userId);
    out.append('}');
    return out;
}

} // namespace

ApplyEndpoint::ApplyEndpoint(const GatewaySettings &settings, qint64 deliveryTimeoutMs, AsyncApplyService &service,
                             const KafkaLiveness &kafka, ReadEndpoints &reads, Gatekeeper &gatekeeper, Metrics &metrics,
                             const bool &stopping)
    : m_settings(settings)
    , m_service(service)
    , m_kafka(kafka)
    , m_reads(reads)
    , m_gatekeeper(gatekeeper)
    , m_metrics(metrics)
    , m_stopping(stopping)
    , m_idempotency(service.redis(), settings.idempotencyTtlS, settings.idempotencyQuota,
                    std::max<qint64>(60000, deliveryTimeoutMs + 10000))
{ }

std::optional<qint64> ApplyEndpoint::userOf(const http::Request &request, Gatekeeper::Verdict caller,
                                            http::Responder &responder, qint64 startedNs)
{
    auto refuse = [&](http::Response response, Refusal reason = Refusal::Count) -> std::optional<qint64> {
        if (reason != Refusal::Count)
            m_metrics.countRefusal(reason);
        m_metrics.answer(Route::Apply, responder, std::move(response), startedNs);
        return std::nullopt;
    };
    const qint64 nowMs = startedNs / 1'000'000;
    if (caller.refusal)
        return refuse(std::move(*caller.refusal), caller.reason);
    if (!isJsonMediaType(request.header("content-type")))
        return refuse(fixedAnswers().unsupportedMediaType);
    const Result<std::optional<qint64>> body = parseApplyBodyUser(request.body);
    if (!body)
        return refuse(http::Response::error(400, body.error().code, body.error().message));
    qint64 user = 0;
    if (caller.user) {
        if (*body && **body != *caller.user)
            return refuse(
                http::Response::error(403, u"user_mismatch"_s, u"the body's userId is not the user the token names"_s),
                Refusal::UserMismatch);
        user = *caller.user;
    } else if (*body) {
        user = **body;
    } else {
        return refuse(http::Response::error(400, u"bad_user_id"_s, u"userId is missing"_s));
    }
    Gatekeeper::Verdict rate = m_gatekeeper.admitUser(user, nowMs);
    if (rate.refusal)
        return refuse(std::move(*rate.refusal), rate.reason);
    return user;
}

void ApplyEndpoint::handle(const QString &campaign, const http::Request &request, http::Responder responder,
                           qint64 startedNs)
{
    // The token may be checked on another thread: the rest runs when it is.
    auto shared = std::make_shared<http::Responder>(std::move(responder));
    m_gatekeeper.admitAsync(request, startedNs / 1'000'000, QDateTime::currentSecsSinceEpoch(), true,
                            [this, campaign, request, shared, startedNs](Gatekeeper::Verdict caller) {
                                admitted(campaign, request, std::move(caller), std::move(*shared), startedNs);
                            });
}

void ApplyEndpoint::admitted(const QString &campaign, const http::Request &request, Gatekeeper::Verdict caller,
                             http::Responder responder, qint64 startedNs)
{
    auto refuse = [&](http::Response response) {
        m_metrics.answer(Route::Apply, responder, std::move(response), startedNs);
    };
    const std::optional<qint64> user = userOf(request, std::move(caller), responder, startedNs);
    if (!user)
        return;
    const bool hasKey = request.hasHeader("idempotency-key");
    const QByteArray key = hasKey ? request.header("idempotency-key") : QByteArray();
    if (hasKey && !isValidIdempotencyKey(key))
        return refuse(http::Response::error(400, u"bad_idempotency_key"_s,
                                            u"Idempotency-Key: 1 to 128 visible ASCII characters"_s));
    if (m_stopping)
        return refuse(unavailable(u"stopping"_s, u"this gateway is shutting down"_s));
    if (m_service.inFlight() >= m_settings.maxInFlight) {
        m_metrics.countOverload();
        return refuse(unavailable(u"overloaded"_s, u"%1 applies in flight; try again"_s.arg(m_service.inFlight())));
    }
    if (!m_kafka.isUp())
        return refuse(dependencyDown(u"kafka_unavailable"_s, m_kafka.error()));
    if (!m_service.redis().isConnected())
        return refuse(dependencyDown(u"redis_unavailable"_s, m_service.redis().lastError()));
    if (hasKey)
        return applyWithKey(campaign, *user, key, std::move(responder), startedNs);
    applyNow(campaign, *user, std::move(responder), startedNs);
}

void ApplyEndpoint::run(const QString &campaign, qint64 userId, std::function<void(const ApplyResult &)> done)
{
    m_service.apply(campaign, userId, [this, campaign, done = std::move(done)](const ApplyResult &r) {
        if (r.status != ApplyOutcome::NotLoaded)
            return done(r);
        m_reads.campaignState(campaign, [r, campaign, done](const ReadEndpoints::CampaignState &state) {
            ApplyResult resolved = r;
            if (!state) {
                resolved.status = ApplyOutcome::Unavailable;
                resolved.detail = u"Redis does not have campaign %1 and MySQL cannot say whether it exists"_s.arg(
                    campaign);
            } else if (*state && **state == u"open"_s) {
                resolved.status = ApplyOutcome::Reconciling;
            } else if (*state) {
                resolved.status = ApplyOutcome::Closed;
            }
            done(resolved);
        });
    });
}

void ApplyEndpoint::applyNow(const QString &campaign, qint64 userId, http::Responder responder, qint64 startedNs)
{
    // The service's callback must be copyable; the responder is not.
    auto shared = std::make_shared<http::Responder>(std::move(responder));
    run(campaign, userId, [this, campaign, userId, shared, startedNs](const ApplyResult &r) {
        m_metrics.answer(Route::Apply, *shared, answerFor(campaign, userId, r), startedNs);
    });
}

void ApplyEndpoint::applyWithKey(const QString &campaign, qint64 userId, const QByteArray &key,
                                 http::Responder responder, qint64 startedNs)
{
    auto shared = std::make_shared<http::Responder>(std::move(responder));
    const IdempotencyKeys keys = idempotencyKeys(campaign, userId, key);
    const IdempotencyRecord pending = IdempotencyRecord::pending(userId);
    m_idempotency.claim(keys, pending, [=, this](const Result<IdempotencyStore::Claim> &claim) {
        if (!claim)
            return m_metrics.answer(Route::Apply, *shared,
                                    dependencyDown(u"redis_unavailable"_s, claim.error().message), startedNs);
        using State = IdempotencyStore::Claim::State;
        if (claim->state == State::OverQuota) {
            m_metrics.countRefusal(Refusal::IdempotencyQuota);
            http::Response r = http::Response::error(
                429, u"idempotency_quota"_s,
                u"too many Idempotency-Keys on record for this user and campaign; try again in %1 s"_s.arg(
                    claim->retryAfterS));
            r.headers.append({"Retry-After", QByteArray::number(claim->retryAfterS)});
            return m_metrics.answer(Route::Apply, *shared, std::move(r), startedNs);
        }
        if (claim->state == State::Existing) {
            if (!claim->record)
                return m_metrics.answer(Route::Apply, *shared,
                                        dependencyDown(u"unavailable"_s, u"an idempotency record we cannot read"_s),
                                        startedNs);
            return m_metrics.answer(Route::Apply, *shared, answerFromRecord(*claim->record, userId), startedNs);
        }
        // Ours: run the apply and keep its final answer for replays.
        run(campaign, userId, [=, this](const ApplyResult &r) {
            http::Response response = answerFor(campaign, userId, r);
            m_idempotency.finish(keys, pending, response);
            m_metrics.answer(Route::Apply, *shared, std::move(response), startedNs);
        });
    });
}

http::Response ApplyEndpoint::answerFor(const QString &campaign, qint64 userId, const ApplyResult &r)
{
    m_metrics.countOutcome(r.status);
    switch (r.status) {
    case ApplyOutcome::Accepted: {
        http::Response response;
        response.status = 202;
        response.body = acceptedBody(campaign, userId, r);
        return response;
    }
    case ApplyOutcome::Duplicate: return fixedAnswers().duplicate;
    case ApplyOutcome::SoldOut: return fixedAnswers().soldOut;
    case ApplyOutcome::Closed: return fixedAnswers().closed;
    case ApplyOutcome::NotLoaded:
        return http::Response::error(404, u"unknown_campaign"_s, u"no campaign %1"_s.arg(campaign));
    case ApplyOutcome::Reconciling:
        return unavailable(u"reconciling"_s,
                           u"campaign %1 is being rebuilt from its record after a Redis restart or failover; "
                           "nothing was reserved; try again"_s.arg(campaign));
    case ApplyOutcome::Invalid: return http::Response::error(400, u"bad_request"_s, r.detail);
    case ApplyOutcome::Unavailable: return dependencyDown(u"unavailable"_s, r.detail);
    case ApplyOutcome::Uncertain: break;
    }
    return unavailable(u"outcome_unknown"_s,
                       u"the apply may or may not have been taken; it is settled by itself within a minute "
                       "(a coupon, or the reservation released); see GET /api/v1/campaigns/%1/users/%2"_s.arg(campaign)
                           .arg(userId));
}

} // namespace coupon::gateway
