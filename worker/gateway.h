#pragma once

#include "coupon/base/settings.h"
#include "coupon/http/server.h"
#include "gateway/router.h"

#include <QObject>

#include <memory>
#include <optional>

namespace coupon {

class AsyncApplyService;
class KafkaLiveness;

namespace gateway {
class ApplyEndpoint;
class Gatekeeper;
class Metrics;
class ReadEndpoints;
} // namespace gateway

// The HTTP apply API (README "HTTP API") over an http::Server and an
// AsyncApplyService, all on one Qt event loop. It wires the parts in
// gateway/ (router, endpoints, metrics, Kafka liveness), answers the probes
// and runs the shutdown. Two listeners: gateway.listen for clients (the API
// and a minimal /healthz) and gateway.admin.listen for operators and load
// balancers (/healthz, /readyz with the reason, /metrics), with connections
// of its own that client traffic cannot use up.
class Gateway : public QObject
{
    Q_OBJECT

public:
    explicit Gateway(const Settings &settings, QObject *parent = nullptr);
    ~Gateway() override;

    Status start();
    quint16 port() const;
    quint16 adminPort() const;
    // Stop accepting, answer what is in flight (delivery reports included),
    // flush the producer, then emit stopped().
    void shutdown();
    // Redis connected with its scripts, Kafka up, not stopping (/readyz 200).
    bool isReady() const;
    // Why not (the check that fails, in words of our own); empty when ready.
    QString notReadyReason() const;
    // Reads gateway.auth.keys again (SIGHUP); a failed reload keeps the old keys.
    void reloadKeys();

signals:
    void stopped();

private:
    void addRoutes();
    Status listenAdmin();
    // The routes' handlers (Router::Handler); the API's take the campaign id
    // from segment 3 and the user id from segment 5.
    void health(const gateway::PathParts &, const http::Request &, http::Responder responder, qint64 startedNs);
    void ready(const gateway::PathParts &, const http::Request &, http::Responder responder, qint64 startedNs);
    void metrics(const gateway::PathParts &, const http::Request &, http::Responder responder, qint64 startedNs);
    void apply(const gateway::PathParts &parts, const http::Request &request, http::Responder responder,
               qint64 startedNs);
    void campaign(const gateway::PathParts &parts, const http::Request &, http::Responder responder, qint64 startedNs);
    void user(const gateway::PathParts &parts, const http::Request &, http::Responder responder, qint64 startedNs);
    // The campaign id, or nullopt once answered 400 bad_campaign_id.
    std::optional<QString> campaignOf(gateway::Route route, const gateway::PathParts &parts, http::Responder &responder,
                                      qint64 startedNs);
    // The address bucket (no token: the campaign is public); false once answered.
    bool admitted(gateway::Route route, const http::Request &request, http::Responder &responder, qint64 startedNs);
    // With the not-ready detail (addresses, the libraries' text): the admin listener is for operators.
    http::Response readiness() const;
    void maybeFinishShutdown();

    Settings m_settings;
    bool m_stopping = false;
    mutable QString m_lastNotReady; // the last not-ready detail logged
    std::unique_ptr<gateway::Metrics> m_metrics;
    std::unique_ptr<KafkaLiveness> m_kafka;
    std::unique_ptr<gateway::Gatekeeper> m_gatekeeper;
    AsyncApplyService *m_service = nullptr; // child
    std::unique_ptr<gateway::ApplyEndpoint> m_apply;
    std::unique_ptr<gateway::ReadEndpoints> m_reads;
    std::unique_ptr<gateway::Router> m_router;
    std::unique_ptr<gateway::Router> m_adminRouter;
    http::Server *m_server = nullptr; // child
    http::Server *m_admin = nullptr;  // child
};

} // namespace coupon
