#pragma once

// The console's worker QObjects. Each lives on its own named QThread and is
// the only user of its blocking core objects (RedisConnection, LagProbe,
// CouponStore, CampaignOps, ApplyService): the GUI thread calls in with
// QMetaObject::invokeMethod and hears back through queued signals.

#include "types.h"

#include <QObject>
#include <QStringList>
#include <QUrl>

#include <memory>

class QNetworkAccessManager;
class QTimer;

namespace coupon {
class ApplyService;
class CampaignOps;
class CouponStore;
class GroupProbe;
class LagProbe;
} // namespace coupon

namespace coupon::console {

// Reads one campaign's counter, limit and pending reservations several
// times a second; its failures are Redis' state on the service bar.
class RedisMonitor final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RedisMonitor)

public:
    explicit RedisMonitor(const RedisSettings &settings, QObject *parent = nullptr);
    ~RedisMonitor() override;

public slots:
    void start(int intervalMs);
    void setCampaign(const QString &campaign);

signals:
    void sampled(const coupon::console::RedisSample &sample);
    void serviceChanged(const coupon::console::ServiceState &state);

private:
    void poll();
    void report(ServiceState::Health health, const QString &error);

    RedisSettings m_settings;
    std::unique_ptr<RedisConnection> m_redis;
    QTimer *m_timer = nullptr;
    QString m_campaign;
    ServiceState m_state;
};

// The worker group's offsets and members on the topic, every interval.
class KafkaMonitor final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(KafkaMonitor)

public:
    explicit KafkaMonitor(const Settings &settings, QObject *parent = nullptr);
    ~KafkaMonitor() override;

public slots:
    void start(int intervalMs);
    void setInterval(int intervalMs);
    void setPaused(bool paused);

signals:
    void sampled(const coupon::console::LagSnapshot &snapshot);
    void serviceChanged(const coupon::console::ServiceState &state);

private:
    void poll();

    Settings m_settings;
    std::unique_ptr<LagProbe> m_lag;
    std::unique_ptr<GroupProbe> m_group;
    QTimer *m_timer = nullptr;
    bool m_paused = false;
    ServiceState m_kafka;
    ServiceState m_workers;
};

// MySQL reads: the campaign list (also MySQL's heartbeat), coupon and
// failed-event pages, counts, CSV export.
class StoreWorker final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(StoreWorker)

public:
    explicit StoreWorker(const MysqlSettings &settings, QObject *parent = nullptr);
    ~StoreWorker() override;

public slots:
    void start(int campaignsIntervalMs);
    void refreshCampaigns();
    // The coupon browser: a window of rows, how many coupons there are above
    // an id (and the highest id), where a jump lands.
    void fetchCouponWindow(quint64 generation, const coupon::console::CouponWindowRequest &request);
    void countCouponSpan(quint64 generation, const QString &campaign, coupon::console::UserFilter user, qint64 afterId);
    void locateCoupon(quint64 generation, const QString &campaign, coupon::console::UserFilter user,
                      const coupon::CouponJump &jump, qint64 maxId);
    void fetchFailedEvents(quint64 generation, const QString &campaign, qint64 afterId, int limit);
    void countFailedEvents(const QString &campaign);
    // The campaign's issued count (one row by primary key, cheaper than
    // counting its coupons): the run timeline's drain. -1 when unread.
    void readIssued(const QString &campaign);
    void exportCoupons(const QString &campaign, coupon::console::UserFilter user, const QString &path);

signals:
    void campaignsLoaded(const coupon::console::CampaignList &campaigns);
    void couponWindow(quint64 generation, qint64 position, const coupon::console::CouponRows &rows,
                      const QString &error);
    void couponSpan(quint64 generation, qint64 afterId, qint64 count, qint64 maxId, const QString &error);
    // position -1: no such coupon (id 0).
    void couponLocated(quint64 generation, qint64 position, qint64 id, const QString &error);
    void failedEventsPage(quint64 generation, const coupon::console::FailedEventRows &rows, const QString &error);
    void failedEventCount(const QString &campaign, qint64 count);
    void issuedRead(const QString &campaign, qint64 issued);
    void exportProgress(qint64 rows);
    void exportFinished(const QString &path, qint64 rows, const QString &error);
    void serviceChanged(const coupon::console::ServiceState &state);

private:
    bool ensureOpen();
    void noteError(const Error &error);

    MysqlSettings m_settings;
    std::unique_ptr<CouponStore> m_store;
    bool m_open = false;
    QTimer *m_timer = nullptr;
    ServiceState m_state;
};

// A CampaignOps of the calling worker thread, made and connected on first
// use (its MySQL connection belongs to that thread), and connected again
// after a failure that lost a connection.
class WorkerCampaignOps
{
public:
    WorkerCampaignOps(const Settings &settings, QString connectionName);
    ~WorkerCampaignOps();
    Status ensureConnected();
    // After a failed call: a lost connection is made again on the next use.
    void noteError(const Error &error);
    // Only after ensureConnected() succeeded.
    CampaignOps *operator->() const { return m_ops.get(); }

private:
    Settings m_settings;
    QString m_connectionName;
    std::unique_ptr<CampaignOps> m_ops;
    bool m_connected = false;
};

// Campaign operations and the audit (which waits for the drain).
class OpsWorker final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(OpsWorker)

public:
    explicit OpsWorker(const Settings &settings, QObject *parent = nullptr);
    ~OpsWorker() override;

public slots:
    void create(const coupon::Campaign &campaign, bool openIt, const QString &tag);
    void open(const QString &campaign);
    void close(const QString &campaign);
    void setLimit(const QString &campaign, qint64 limit);
    void reset(const QString &campaign);
    // `auditId` goes back with the verdict: which request it answers.
    void audit(quint64 auditId, const QString &campaign, const coupon::AnsweredApplies &answered, int timeoutMs);
    // Through the normal apply protocol (an ApplyService of this worker).
    void retryFailedEvent(const coupon::console::FailedEventRetry &retry);
    void resolveFailedEvent(qint64 id, const QString &by, const QString &reason);
    // What `couponctl settle --campaign C` does (grace 0: the delivery
    // timeout + 1 s; up to 5 s waiting for the drain).
    void settle(const QString &campaign);

signals:
    // `tag` says which request this answers ("create", "open", ...).
    void operationFinished(const QString &tag, const QString &campaign, bool ok, const QString &message);
    void auditFinished(quint64 auditId, const QString &campaign, const coupon::AuditReport &report,
                       const QString &error);
    // A retry or resolve is done: `resolved` says whether the row now is.
    void failedEventHandled(qint64 id, bool ok, bool resolved, const QString &message);
    void settleFinished(const QString &campaign, const coupon::SettleReport &report, const QString &error);

private:
    Status ensureConnected();
    void finish(const QString &tag, const QString &campaign, const Status &status, const QString &done);

    Settings m_settings;
    WorkerCampaignOps m_ops;
    std::unique_ptr<ApplyService> m_apply; // made by the first retry
};

// Runs simulate() against an ApplyService of this process, or
// simulateHttp() against one or more gateways (round robin).
class SimulationWorker final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SimulationWorker)

public:
    explicit SimulationWorker(const Settings &settings, QObject *parent = nullptr);
    ~SimulationWorker() override;

public slots:
    void run(const coupon::console::SimulationRun &run);

signals:
    void finished(const coupon::SimulationReport &report, const QString &error);

private:
    Settings m_settings;
    std::unique_ptr<ApplyService> m_service;
};

// Every configured gateway, a line "<base URL> [<admin URL>]": GET <admin>/readyz
// (ready, or the reason), or without an admin URL GET <base>/healthz (alive).
class GatewayMonitor final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(GatewayMonitor)

public:
    explicit GatewayMonitor(QObject *parent = nullptr);
    ~GatewayMonitor() override;

public slots:
    void start(const QStringList &urls, int intervalMs);

signals:
    void serviceChanged(const coupon::console::ServiceState &state);

private:
    void poll();

    QNetworkAccessManager *m_network = nullptr;
    QTimer *m_timer = nullptr;
    QList<QUrl> m_urls;   // base URLs: the service bar's names
    QList<QUrl> m_probes; // what is polled for each
    QHash<QString, ServiceState> m_states;
};

QString gatewayKey(const QUrl &url);

} // namespace coupon::console
