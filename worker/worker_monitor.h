#pragma once

#include "coupon/base/result.h"
#include "coupon/base/settings.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <QTimer>

namespace coupon {

struct ConsumerStats;
struct ReconcilerStats;
class KafkaLiveness;

namespace http {
class Server;
struct Request;
class Responder;
} // namespace http

// The worker's health as operators, load balancers, Prometheus and systemd
// see it, on the main thread's event loop: it only reads what the consumer
// and the reconciler publish (atomics, a copied snapshot), so nothing it
// does waits on them. worker.admin.listen serves it over the project's HTTP
// server: GET /healthz (the consumer's loop turns), /readyz (partitions
// assigned, MySQL answers, Kafka answers, lag moving; else 503 with the
// reason and the detail) and /metrics (Prometheus text).
class WorkerMonitor : public QObject
{
public:
    struct Readiness
    {
        bool ready = false;
        QString reason; // the check that fails, in words of our own; empty when ready
        QString detail; // what the libraries said, addresses included (the admin's and the log's)
    };

    // `reconciler` may be null (worker.reconcile=false). All must outlive this.
    WorkerMonitor(const Settings &settings, const ConsumerStats &consumer, const ReconcilerStats *reconciler,
                  const KafkaLiveness &kafka, QObject *parent = nullptr);
    ~WorkerMonitor() override;

    // Listens on worker.admin.listen (nothing when it is off). A bad address
    // or a taken port is an error naming the setting.
    Status listen();
    quint16 port() const; // 0: not listening
    // The consumer's thread ended, or a stop began: not ready from now on.
    void setConsumerRunning(bool running) { m_consumerRunning = running; }
    void setStopping() { m_stopping = true; }

    // The consumer's loop turned within the last kHealthyWithinMs.
    bool isLive() const;
    Readiness readiness() const;
    QByteArray metrics() const;

    // How long a loop may go without a turn and still count as alive (a
    // batch's MySQL commit runs inside one turn).
    static constexpr int kHealthyWithinMs = 10000;
    // How long lag may stand still (no batch written) before the worker is
    // not ready.
    static constexpr int kLagStuckMs = 30000;

private:
    void sample();
    void handle(http::Request request, http::Responder responder);

    Settings m_settings;
    const ConsumerStats &m_consumer;
    const ReconcilerStats *m_reconciler;
    const KafkaLiveness &m_kafka;
    http::Server *m_server = nullptr; // child
    QTimer m_sampler;
    bool m_consumerRunning = true;
    bool m_stopping = false;
    qint64 m_lastLoops = -1;
    QElapsedTimer m_loopTurned; // since the loop count last moved
    qint64 m_lastBatches = -1;
    QElapsedTimer m_progress; // since a batch was last written, or lag was 0
    mutable QString m_lastNotReady;
};

} // namespace coupon
