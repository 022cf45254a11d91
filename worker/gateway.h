#pragma once

#include "coupon/base/settings.h"
#include "coupon/http/server.h"
#include "coupon/service/async_apply_service.h"

#include <QElapsedTimer>
#include <QObject>
#include <QThread>

#include <array>
#include <atomic>
#include <memory>
#include <thread>

namespace coupon {

class DbReader;

// The HTTP apply API (README "HTTP API"): routes, validation, idempotency
// keys, readiness and Prometheus metrics over an http::Server and an
// AsyncApplyService, all on one Qt event loop.
class Gateway : public QObject
{
    Q_OBJECT

public:
    explicit Gateway(const Settings &settings, QObject *parent = nullptr);
    ~Gateway() override;

    Status start();
    quint16 port() const;
    // Stop accepting, answer what is in flight (delivery reports included),
    // flush the producer, then emit stopped().
    void shutdown();

signals:
    void stopped();

private:
    enum class Route { Apply, Campaign, User, Health, Ready, Metrics, Count };

    void handle(http::Request request, http::Responder responder);
    void apply(const QString &campaign, http::Request request, http::Responder responder);
    http::Response applyAnswer(const QString &campaign, qint64 userId, const ApplyResult &r);
    void applyNow(const QString &campaign, qint64 userId, const QByteArray &idemKey, http::Responder responder);
    void campaignInfo(const QString &campaign, http::Responder responder);
    void userInfo(const QString &campaign, qint64 userId, http::Responder responder);
    void ready(http::Responder responder);
    void metrics(http::Responder responder);
    void answer(Route route, http::Responder &responder, http::Response response, qint64 startedNs);
    void maybeFinishShutdown();

    Settings m_settings;
    http::Server *m_server = nullptr;
    AsyncApplyService *m_service = nullptr;
    std::unique_ptr<DbReader> m_db;
    QThread m_dbThread;
    bool m_stopping = false;

    // Kafka liveness, probed off the loop (a metadata request every 2 s).
    std::thread m_kafkaProbe;
    std::atomic<bool> m_kafkaUp{false};
    std::atomic<bool> m_probeStop{false};
    QString kafkaError() const;
    mutable std::mutex m_kafkaErrorMutex;
    QString m_kafkaError;

    // Metrics.
    QElapsedTimer m_clock;
    std::array<std::array<qint64, 600>, int(Route::Count)> m_byStatus{}; // [route][status code]
    std::array<qint64, kApplyStatusCount> m_outcomes{};
    static constexpr std::array<double, 14> kBuckets{0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05,
                                                     0.1,    0.25,  0.5,   1.0,   2.5,  5.0,   10.0};
    std::array<qint64, kBuckets.size() + 1> m_latency{};
    double m_latencySum = 0;
    qint64 m_latencyCount = 0;
    qint64 m_rejectedOverload = 0;
};

} // namespace coupon
