#pragma once

#include "types.h"

#include <QObject>
#include <QStringList>
#include <QThread>

#include <memory>

namespace coupon::console {

class GatewayMonitor;
class KafkaMonitor;
class OpsWorker;
class OverviewWorker;
class RedisMonitor;
class ReportWorker;
struct ReportRequest;
class SimulationWorker;
class StoreWorker;

// Quits and joins a worker thread (qBittorrent's Utils::Thread::UniquePtr).
// The interruption request ends a long wait in progress (CampaignOps'
// drain and audit loops check it), so closing the console or restarting
// the backend does not wait out an audit's timeout.
struct ThreadDeleter
{
    void operator()(QThread *thread) const
    {
        thread->requestInterruption();
        thread->quit();
        thread->wait();
        delete thread;
    }
};
using ThreadPtr = std::unique_ptr<QThread, ThreadDeleter>;

// Owns the console's worker threads. Every request returns at once; the
// answers come back as signals on the GUI thread. restart() replaces all
// workers (new endpoints from the settings dialog).
class Backend final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Backend)

public:
    static constexpr int kRedisIntervalMs = 200;
    static constexpr int kCampaignsIntervalMs = 2000;
    static constexpr int kGatewayIntervalMs = 2000;
    static constexpr int kOverviewIntervalMs = 2000;

    Backend(const Settings &settings, const QStringList &gatewayUrls, int lagIntervalMs, QObject *parent = nullptr);
    ~Backend() override;

    void restart(const Settings &settings, const QStringList &gatewayUrls);
    const Settings &settings() const { return m_settings; }
    QStringList gatewayUrls() const { return m_gatewayUrls; }

    void setCampaign(const QString &campaign);
    void setLagInterval(int intervalMs);
    void setLagPaused(bool paused);

    void refreshCampaigns();
    void fetchCouponWindow(quint64 generation, const CouponWindowRequest &request);
    void countCouponSpan(quint64 generation, const QString &campaign, UserFilter user, qint64 afterId);
    void locateCoupon(quint64 generation, const QString &campaign, UserFilter user, const CouponJump &jump,
                      qint64 maxId);
    void fetchFailedEvents(quint64 generation, const QString &campaign, qint64 afterId, int limit);
    void countFailedEvents(const QString &campaign);
    void readIssued(const QString &campaign); // answers with issuedRead
    void exportCoupons(const QString &campaign, UserFilter user, const QString &path);

    void createCampaign(const Campaign &campaign, bool openIt, const QString &tag);
    void openCampaign(const QString &campaign);
    void closeCampaign(const QString &campaign);
    void setLimit(const QString &campaign, qint64 limit);
    void resetCampaign(const QString &campaign);
    // Returns the id auditFinished() will carry (never 0).
    quint64 audit(const QString &campaign, const AnsweredApplies &answered, int timeoutMs);
    void retryFailedEvent(const FailedEventRetry &retry);
    void resolveFailedEvent(qint64 id, const QString &by, const QString &reason);

    // The overview: read again now; which campaign's oldest `window`
    // pending reservations come with it; settle them as couponctl settle does.
    void refreshOverview();
    void setReservationsFocus(const QString &campaign, int window);
    void settle(const QString &campaign);

    // Cancels the run in flight, if any, when the backend stops.
    void runSimulation(const SimulationRun &run);
    // File → Export report…: gathered and written on the report thread.
    void exportReport(const ReportRequest &request);

signals:
    void redisSampled(const coupon::console::RedisSample &sample);
    void lagSampled(const coupon::console::LagSnapshot &snapshot);
    void serviceChanged(const coupon::console::ServiceState &state);
    void campaignsLoaded(const coupon::console::CampaignList &campaigns);
    void couponWindow(quint64 generation, qint64 position, const coupon::console::CouponRows &rows,
                      const QString &error);
    void couponSpan(quint64 generation, qint64 afterId, qint64 count, qint64 maxId, const QString &error);
    void couponLocated(quint64 generation, qint64 position, qint64 id, const QString &error);
    void failedEventsPage(quint64 generation, const coupon::console::FailedEventRows &rows, const QString &error);
    void failedEventCount(const QString &campaign, qint64 count);
    void issuedRead(const QString &campaign, qint64 issued); // -1: not read
    void exportProgress(qint64 rows);
    void exportFinished(const QString &path, qint64 rows, const QString &error);
    void operationFinished(const QString &tag, const QString &campaign, bool ok, const QString &message);
    void auditFinished(quint64 auditId, const QString &campaign, const coupon::AuditReport &report,
                       const QString &error);
    void failedEventHandled(qint64 id, bool ok, bool resolved, const QString &message);
    void simulationFinished(const coupon::SimulationReport &report, const QString &error);
    void reportExported(const QString &path, const QString &error);
    void overviewSampled(const coupon::CampaignsOverview &overview);
    void overviewFailed(const QString &error);
    void reservationsSampled(const coupon::console::ReservationsSample &sample);
    void settleFinished(const QString &campaign, const coupon::SettleReport &report, const QString &error);

private:
    void startWorkers();
    void stopWorkers();

    Settings m_settings;
    QStringList m_gatewayUrls;
    int m_lagIntervalMs;
    bool m_lagPaused = false;
    QString m_campaign;
    QString m_reservationsCampaign;
    int m_reservationsWindow = 0;
    std::shared_ptr<std::atomic<bool>> m_runCancel;
    quint64 m_lastAuditId = 0;

    ThreadPtr m_redisThread, m_kafkaThread, m_storeThread, m_opsThread, m_simulationThread, m_gatewayThread,
        m_overviewThread;
    RedisMonitor *m_redis = nullptr;
    KafkaMonitor *m_kafka = nullptr;
    StoreWorker *m_store = nullptr;
    OpsWorker *m_ops = nullptr;
    SimulationWorker *m_simulation = nullptr;
    GatewayMonitor *m_gateways = nullptr;
    // The report's audit waits for the drain: a thread of its own, so the
    // operations on the ops thread do not queue behind it.
    ThreadPtr m_reportThread;
    ReportWorker *m_report = nullptr;
    OverviewWorker *m_overview = nullptr;
};

} // namespace coupon::console
