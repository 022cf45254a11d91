#include "gateway.h"

#include "coupon/base/validation.h"
#include "coupon/http/admin_listener.h"
#include "coupon/kafka/kafka.h"
#include "coupon/kafka/liveness.h"
#include "coupon/service/async_apply_service.h"
#include "gateway/answers.h"
#include "gateway/apply_endpoint.h"
#include "gateway/connection_cap.h"
#include "gateway/gatekeeper.h"
#include "gateway/metrics.h"
#include "gateway/read_endpoints.h"
#include "gateway/router.h"

#include <QDateTime>
#include <QJsonObject>
#include <QLoggingCategory>

#include <functional>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcGateway, "coupon.gateway")

namespace {
constexpr int kAdminConnections = 32; // probes and scrapers
// How long the start waits for Kafka's first answer: one that is up answers
// in milliseconds (the first applies then find it ready); one that is down
// delays the start by no more than this.
constexpr int kKafkaFirstWaitMs = 2000;
} // namespace

namespace coupon {

using gateway::Route;

Gateway::Gateway(const Settings &settings, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
    , m_metrics(std::make_unique<gateway::Metrics>())
    , m_kafka(std::make_unique<KafkaLiveness>())
    , m_gatekeeper(std::make_unique<gateway::Gatekeeper>(m_settings.gateway))
{ }

Gateway::~Gateway()
{
    // The apply service runs its pending callbacks when it goes, and they
    // reach the endpoints, the metrics and the server: it goes first, while
    // those are all still there (as children it would go after the members).
    // Its signals and the server's no longer reach us, as in ~QObject.
    if (m_service)
        m_service->disconnect(this);
    if (m_server)
        m_server->disconnect(this);
    m_kafka.reset();
    if (m_reads)
        m_reads->stopDatabase();
    delete m_service;
    m_service = nullptr;
    m_reads.reset(); // closes the MySQL reader and stops its thread
    delete m_server;
    m_server = nullptr;
    delete m_admin;
    m_admin = nullptr;
}

quint16 Gateway::port() const
{
    return m_server ? m_server->port() : 0;
}

quint16 Gateway::adminPort() const
{
    return m_admin ? m_admin->port() : 0;
}

Status Gateway::start()
{
    if (Status st = m_gatekeeper->loadKeys(); !st)
        return st;
    if (!m_gatekeeper->authEnabled())
        qCWarning(lcGateway,
                  "gateway.auth = none: the body's userId is believed as sent; run this only behind a "
                  "front that authenticates every caller");
    m_service = new AsyncApplyService(m_settings, this);
    if (Status st = m_service->start(); !st)
        return st;
    connect(m_service, &AsyncApplyService::drained, this, &Gateway::maybeFinishShutdown);
    // Kafka down at start is not an error: applies answer 503
    // kafka_unavailable and /readyz says why until a broker answers.
    m_kafka->start([producer = m_service->producer()](int timeoutMs) { return producer->checkTopic(timeoutMs); },
                   kKafkaFirstWaitMs);
    if (!m_kafka->isUp())
        qCWarning(lcGateway, "starting without Kafka (%s); not ready until it answers", qPrintable(m_kafka->error()));
    m_reads = std::make_unique<gateway::ReadEndpoints>(m_settings.mysql, m_service->redis(), *m_metrics);
    m_apply = std::make_unique<gateway::ApplyEndpoint>(m_settings.gateway, producerDeliveryTimeoutMs(m_settings.kafka),
                                                       *m_service, *m_kafka, *m_reads, *m_gatekeeper, *m_metrics,
                                                       m_stopping);
    m_router = std::make_unique<gateway::Router>(*m_metrics);
    m_adminRouter = std::make_unique<gateway::Router>(*m_metrics);
    addRoutes();
    // First, so that a second gateway on this host stops here, before it shares the public port.
    if (Status st = listenAdmin(); !st)
        return st;

    const gateway::ConnectionCap cap = gateway::connectionCap(m_settings.gateway.maxConnections, kAdminConnections);
    if (!cap.warning.isEmpty())
        qCWarning(lcGateway, "%s", qPrintable(cap.warning));
    qCInfo(lcGateway, "at most %d client connections (%s), %d from one address%s", cap.cap, qPrintable(cap.how),
           m_settings.gateway.maxConnectionsPerAddress,
           m_settings.gateway.maxConnectionsPerAddress == 0 ? " (no cap)" : "");
    http::Limits limits;
    limits.readTimeoutMs = m_settings.gateway.readTimeoutMs;
    limits.maxConnections = cap.cap;
    limits.maxConnectionsPerAddress = m_settings.gateway.maxConnectionsPerAddress;
    // A proxy or load balancer carries many clients' connections: no per-address cap for it.
    for (const QString &subnet : std::as_const(m_settings.gateway.trustedProxies))
        limits.uncappedPeers.append(QHostAddress::parseSubnet(subnet));
    limits.maxUnsentBytes = m_settings.gateway.maxUnsentBytes;
    limits.maxUnsentBytesTotal = m_settings.gateway.maxUnsentTotalBytes;
    m_server = new http::Server(limits, this);
    m_server->setHandler([router = m_router.get()](http::Request request, http::Responder responder) {
        router->route(std::move(request), std::move(responder));
    });
    connect(m_server, &http::Server::idle, this, &Gateway::maybeFinishShutdown);
    QString error;
    QHostAddress address;
    if (!address.setAddress(m_settings.gateway.listenHost))
        return Error(Errc::ConfigInvalid,
                     u"gateway.listen = \"%1:%2\": not an IP address"_s.arg(m_settings.gateway.listenHost)
                         .arg(m_settings.gateway.listenPort));
    if (!m_server->listen(address, m_settings.gateway.listenPort, m_settings.gateway.reusePort, &error))
        return Error(Errc::GatewayListen,
                     u"cannot listen on %1:%2: %3"_s.arg(m_settings.gateway.listenHost)
                         .arg(m_settings.gateway.listenPort)
                         .arg(error));
    qCInfo(lcGateway, "listening on %s:%d; admin on %s:%d (/healthz, /readyz, /metrics)",
           qPrintable(m_settings.gateway.listenHost), m_server->port(), qPrintable(m_settings.gateway.adminHost),
           m_admin->port());
    return Ok{};
}

Status Gateway::listenAdmin()
{
    // Small and its own: probes and scrapes, a few at a time, whatever the clients do.
    http::Limits limits;
    limits.readTimeoutMs = m_settings.gateway.readTimeoutMs;
    limits.maxConnections = kAdminConnections;
    Result<http::Server *> admin = http::listenAdmin(
        u"gateway.admin.listen"_s, m_settings.gateway.adminHost, m_settings.gateway.adminPort, limits,
        [router = m_adminRouter.get()](http::Request request, http::Responder responder) {
            router->route(std::move(request), std::move(responder));
        },
        this);
    if (!admin)
        return admin.error();
    m_admin = *admin;
    return Ok{};
}

void Gateway::addRoutes()
{
    // Public: the API and a bare liveness answer. Readiness (with its reasons)
    // and the metrics are for operators: the admin listener.
    m_router->add(Route::Health, "GET", {"healthz"}, std::bind_front(&Gateway::health, this));
    m_adminRouter->add(Route::Health, "GET", {"healthz"}, std::bind_front(&Gateway::health, this));
    m_adminRouter->add(Route::Ready, "GET", {"readyz"}, std::bind_front(&Gateway::ready, this));
    m_adminRouter->add(Route::Metrics, "GET", {"metrics"}, std::bind_front(&Gateway::metrics, this));
    m_router->add(Route::Apply, "POST", {"api", "v1", "campaigns", "*", "applications"},
                  std::bind_front(&Gateway::apply, this));
    m_router->add(Route::Campaign, "GET", {"api", "v1", "campaigns", "*"}, std::bind_front(&Gateway::campaign, this));
    m_router->add(Route::User, "GET", {"api", "v1", "campaigns", "*", "users", "*"},
                  std::bind_front(&Gateway::user, this));
}

void Gateway::health(const gateway::PathParts &, const http::Request &, http::Responder responder, qint64 startedNs)
{
    m_metrics->answer(Route::Health, responder, gateway::fixedAnswers().alive, startedNs);
}

void Gateway::ready(const gateway::PathParts &, const http::Request &, http::Responder responder, qint64 startedNs)
{
    m_metrics->answer(Route::Ready, responder, readiness(), startedNs);
}

void Gateway::metrics(const gateway::PathParts &, const http::Request &, http::Responder responder, qint64)
{
    http::Response r;
    r.status = 200;
    r.contentType = "text/plain; version=0.0.4";
    r.body = m_metrics->text({m_service->inFlight(), m_service->redis().failedCommands(), m_service->kafkaErrors(),
                              m_service->memo().answers(), m_service->memo().snapshots(),
                              m_service->redis().isConnected(), m_kafka->isUp(), isReady(), m_server->stats(),
                              m_server->limits().maxConnections});
    m_metrics->answer(Route::Metrics, responder, std::move(r), m_metrics->now());
}

void Gateway::apply(const gateway::PathParts &parts, const http::Request &request, http::Responder responder,
                    qint64 startedNs)
{
    if (const std::optional<QString> id = campaignOf(Route::Apply, parts, responder, startedNs))
        m_apply->handle(*id, request, std::move(responder), startedNs);
}

void Gateway::campaign(const gateway::PathParts &parts, const http::Request &request, http::Responder responder,
                       qint64 startedNs)
{
    if (!admitted(Route::Campaign, request, responder, startedNs))
        return;
    if (const std::optional<QString> id = campaignOf(Route::Campaign, parts, responder, startedNs))
        m_reads->campaign(*id, std::move(responder), startedNs);
}

bool Gateway::admitted(Route route, const http::Request &request, http::Responder &responder, qint64 startedNs)
{
    gateway::Gatekeeper::Verdict caller = m_gatekeeper->admit(request, startedNs / 1'000'000,
                                                              QDateTime::currentSecsSinceEpoch(), false);
    if (!caller.refusal)
        return true;
    m_metrics->countRefusal(caller.reason);
    m_metrics->answer(route, responder, std::move(*caller.refusal), startedNs);
    return false;
}

void Gateway::user(const gateway::PathParts &parts, const http::Request &request, http::Responder responder,
                   qint64 startedNs)
{
    const std::optional<QString> id = campaignOf(Route::User, parts, responder, startedNs);
    if (!id)
        return;
    const std::optional<qint64> userId = parseUserId(parts[5]);
    if (!userId)
        return m_metrics->answer(
            Route::User, responder,
            http::Response::error(400, u"bad_user_id"_s, u"a user id is an integer in 1..9223372036854775807"_s),
            startedNs);
    // Reads take from the address bucket only: a user polling their status
    // must not spend the tokens of their next apply. The token may be checked
    // on another thread.
    auto shared = std::make_shared<http::Responder>(std::move(responder));
    m_gatekeeper->admitAsync(
        request, startedNs / 1'000'000, QDateTime::currentSecsSinceEpoch(), true,
        [this, campaign = *id, userId = *userId, shared, startedNs](gateway::Gatekeeper::Verdict caller) {
            if (caller.refusal) {
                m_metrics->countRefusal(caller.reason);
                return m_metrics->answer(Route::User, *shared, std::move(*caller.refusal), startedNs);
            }
            // With tokens, a user reads only their own coupon.
            if (m_gatekeeper->authEnabled() && caller.user.value_or(0) != userId) {
                m_metrics->countRefusal(gateway::Refusal::UserMismatch);
                return m_metrics->answer(
                    Route::User, *shared,
                    http::Response::error(403, u"forbidden"_s, u"a token reads only its own user's coupon"_s),
                    startedNs);
            }
            m_reads->user(campaign, userId, std::move(*shared), startedNs);
        });
}

bool Gateway::isReady() const
{
    return m_service && m_kafka && m_service->isReady() && m_kafka->isUp() && !m_stopping;
}

void Gateway::reloadKeys()
{
    if (Status st = m_gatekeeper->loadKeys(); !st)
        qCWarning(lcGateway, "SIGHUP: keeping the keys in use: %s", qPrintable(st.error().message));
}

std::optional<QString> Gateway::campaignOf(Route route, const gateway::PathParts &parts, http::Responder &responder,
                                           qint64 startedNs)
{
    // Checked after the method, so a wrong method is a 405 whatever the id.
    if (isValidCampaignId(parts[3]))
        return QString::fromLatin1(parts[3].data(), parts[3].size());
    m_metrics->answer(route, responder, gateway::fixedAnswers().badCampaignId, startedNs);
    return std::nullopt;
}

QString Gateway::notReadyReason() const
{
    if (isReady())
        return {};
    return m_stopping                       ? u"shutting down"_s
        : !m_kafka->isUp()                  ? u"Kafka: no broker answers, or a partition of the topic has no leader"_s
        : !m_service->redis().isConnected() ? u"Redis: not connected, or still loading its data"_s
                                            : u"Redis: scripts not loaded yet"_s;
}

http::Response Gateway::readiness() const
{
    const bool kafkaUp = m_kafka->isUp();
    QJsonObject checks{
        {u"redis"_s, m_service->redis().isConnected()}, {u"scripts"_s, m_service->isReady()}, {u"kafka"_s, kafkaUp}};
    const bool ok = m_service->isReady() && kafkaUp && !m_stopping;
    QJsonObject json{{u"status"_s, ok ? u"ready"_s : u"not_ready"_s}, {u"checks"_s, checks}};
    if (!ok) {
        // Which check failed, in words of our own, and the detail (addresses,
        // the topic, the libraries' text) for the operator who asked on the
        // admin listener; the detail goes to the log too.
        const QString reason = notReadyReason();
        json[u"reason"_s] = reason;
        const QString detail = m_stopping ? reason : !kafkaUp ? m_kafka->error() : m_service->notReadyReason();
        json[u"detail"_s] = detail;
        if (detail != m_lastNotReady) {
            qCWarning(lcGateway, "not ready: %s", qPrintable(detail));
            m_lastNotReady = detail;
        }
    } else if (!m_lastNotReady.isEmpty()) {
        qCInfo(lcGateway, "ready again");
        m_lastNotReady.clear();
    }
    return http::Response::json(ok ? 200 : 503, json);
}

void Gateway::shutdown()
{
    if (m_stopping)
        return;
    m_stopping = true;
    qCInfo(lcGateway, "stopping: no new connections; answering %d in-flight apply(s)", m_service->inFlight());
    m_server->stopAccepting();
    maybeFinishShutdown();
}

void Gateway::maybeFinishShutdown()
{
    if (!m_stopping || m_service->inFlight() > 0 || m_server->inFlight() > 0)
        return;
    if (Status st = m_service->flush(10000); !st)
        qCWarning(lcGateway, "%s", qPrintable(st.error().message));
    m_stopping = false; // once
    emit stopped();
}

} // namespace coupon
