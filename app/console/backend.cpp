#include "backend.h"

#include "overview_worker.h"
#include "report_export.h"
#include "workers.h"

using namespace Qt::StringLiterals;

namespace coupon::console {

namespace {

// A named thread running `worker`, which it deletes when it finishes.
template <typename Worker>
ThreadPtr startThread(const QString &name, Worker *worker)
{
    ThreadPtr thread(new QThread);
    thread->setObjectName(name);
    worker->moveToThread(thread.get());
    QObject::connect(thread.get(), &QThread::finished, worker, &QObject::deleteLater);
    thread->start();
    return thread;
}

} // namespace

void registerMetaTypes()
{
    qRegisterMetaType<ServiceState>();
    qRegisterMetaType<RedisSample>();
    qRegisterMetaType<LagSnapshot>();
    qRegisterMetaType<SimulationRun>();
    qRegisterMetaType<Campaign>();
    qRegisterMetaType<CampaignList>();
    qRegisterMetaType<CouponRows>();
    qRegisterMetaType<FailedEventRows>();
    qRegisterMetaType<AuditReport>();
    qRegisterMetaType<AnsweredApplies>();
    qRegisterMetaType<SimulationReport>();
    qRegisterMetaType<UserFilter>();
    qRegisterMetaType<FailedEventRetry>();
    qRegisterMetaType<CouponWindowRequest>();
    qRegisterMetaType<CouponJump>();
    qRegisterMetaType<CampaignsOverview>();
    qRegisterMetaType<SettleReport>();
    qRegisterMetaType<ReservationsSample>();
}

Backend::Backend(const Settings &settings, const QStringList &gatewayUrls, int lagIntervalMs, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
    , m_gatewayUrls(gatewayUrls)
    , m_lagIntervalMs(lagIntervalMs)
{
    registerMetaTypes();
    startWorkers();
}

Backend::~Backend()
{
    stopWorkers();
}

void Backend::restart(const Settings &settings, const QStringList &gatewayUrls)
{
    stopWorkers();
    m_settings = settings;
    m_gatewayUrls = gatewayUrls;
    startWorkers();
}

void Backend::startWorkers()
{
    m_redis = new RedisMonitor(m_settings.redis);
    m_kafka = new KafkaMonitor(m_settings);
    m_store = new StoreWorker(m_settings.mysql);
    m_ops = new OpsWorker(m_settings);
    m_simulation = new SimulationWorker(m_settings);
    m_gateways = new GatewayMonitor;
    m_overview = new OverviewWorker(m_settings);

    connect(m_redis, &RedisMonitor::sampled, this, &Backend::redisSampled);
    connect(m_redis, &RedisMonitor::serviceChanged, this, &Backend::serviceChanged);
    connect(m_kafka, &KafkaMonitor::sampled, this, &Backend::lagSampled);
    connect(m_kafka, &KafkaMonitor::serviceChanged, this, &Backend::serviceChanged);
    connect(m_store, &StoreWorker::serviceChanged, this, &Backend::serviceChanged);
    connect(m_store, &StoreWorker::campaignsLoaded, this, &Backend::campaignsLoaded);
    connect(m_store, &StoreWorker::couponWindow, this, &Backend::couponWindow);
    connect(m_store, &StoreWorker::couponSpan, this, &Backend::couponSpan);
    connect(m_store, &StoreWorker::couponLocated, this, &Backend::couponLocated);
    connect(m_store, &StoreWorker::failedEventsPage, this, &Backend::failedEventsPage);
    connect(m_store, &StoreWorker::failedEventCount, this, &Backend::failedEventCount);
    connect(m_store, &StoreWorker::issuedRead, this, &Backend::issuedRead);
    connect(m_store, &StoreWorker::exportProgress, this, &Backend::exportProgress);
    connect(m_store, &StoreWorker::exportFinished, this, &Backend::exportFinished);
    connect(m_ops, &OpsWorker::operationFinished, this, &Backend::operationFinished);
    connect(m_ops, &OpsWorker::auditFinished, this, &Backend::auditFinished);
    connect(m_ops, &OpsWorker::failedEventHandled, this, &Backend::failedEventHandled);
    connect(m_simulation, &SimulationWorker::finished, this, &Backend::simulationFinished);
    connect(m_gateways, &GatewayMonitor::serviceChanged, this, &Backend::serviceChanged);
    connect(m_ops, &OpsWorker::settleFinished, this, &Backend::settleFinished);
    connect(m_overview, &OverviewWorker::sampled, this, &Backend::overviewSampled);
    connect(m_overview, &OverviewWorker::failed, this, &Backend::overviewFailed);
    connect(m_overview, &OverviewWorker::reservationsSampled, this, &Backend::reservationsSampled);

    m_redisThread = startThread(u"console-redis"_s, m_redis);
    m_kafkaThread = startThread(u"console-kafka"_s, m_kafka);
    m_storeThread = startThread(u"console-mysql"_s, m_store);
    m_opsThread = startThread(u"console-ops"_s, m_ops);
    m_simulationThread = startThread(u"console-simulation"_s, m_simulation);
    m_gatewayThread = startThread(u"console-gateways"_s, m_gateways);
    m_report = new ReportWorker(m_settings);
    connect(m_report, &ReportWorker::reportExported, this, &Backend::reportExported);
    m_reportThread = startThread(u"console-report"_s, m_report);
    m_overviewThread = startThread(u"console-overview"_s, m_overview);

    const QString campaign = m_campaign;
    const int lagInterval = m_lagIntervalMs;
    const bool paused = m_lagPaused;
    const QStringList urls = m_gatewayUrls;
    QMetaObject::invokeMethod(m_redis, [w = m_redis, campaign] {
        w->setCampaign(campaign);
        w->start(kRedisIntervalMs);
    });
    QMetaObject::invokeMethod(m_kafka, [w = m_kafka, lagInterval, paused] {
        w->start(lagInterval);
        w->setPaused(paused);
    });
    QMetaObject::invokeMethod(m_store, [w = m_store] { w->start(kCampaignsIntervalMs); });
    QMetaObject::invokeMethod(m_gateways, [w = m_gateways, urls] { w->start(urls, kGatewayIntervalMs); });
    QMetaObject::invokeMethod(m_overview,
                              [w = m_overview, campaign = m_reservationsCampaign, window = m_reservationsWindow] {
                                  w->setFocus(campaign, window);
                                  w->start(kOverviewIntervalMs);
                              });
}

void Backend::stopWorkers()
{
    if (m_runCancel)
        m_runCancel->store(true);
    // The workers delete themselves on their threads as those finish.
    m_redisThread.reset();
    m_kafkaThread.reset();
    m_storeThread.reset();
    m_opsThread.reset();
    m_simulationThread.reset();
    m_gatewayThread.reset();
    m_reportThread.reset();
    m_report = nullptr;
    m_overviewThread.reset();
    m_redis = nullptr;
    m_kafka = nullptr;
    m_store = nullptr;
    m_ops = nullptr;
    m_simulation = nullptr;
    m_gateways = nullptr;
    m_overview = nullptr;
}

void Backend::setCampaign(const QString &campaign)
{
    m_campaign = campaign;
    QMetaObject::invokeMethod(m_redis, [w = m_redis, campaign] { w->setCampaign(campaign); });
}

void Backend::setLagInterval(int intervalMs)
{
    m_lagIntervalMs = intervalMs;
    QMetaObject::invokeMethod(m_kafka, [w = m_kafka, intervalMs] { w->setInterval(intervalMs); });
}

void Backend::setLagPaused(bool paused)
{
    m_lagPaused = paused;
    QMetaObject::invokeMethod(m_kafka, [w = m_kafka, paused] { w->setPaused(paused); });
}

void Backend::refreshCampaigns()
{
    QMetaObject::invokeMethod(m_store, [w = m_store] { w->refreshCampaigns(); });
}

void Backend::fetchCouponWindow(quint64 generation, const CouponWindowRequest &request)
{
    QMetaObject::invokeMethod(m_store, [=, w = m_store] { w->fetchCouponWindow(generation, request); });
}

void Backend::countCouponSpan(quint64 generation, const QString &campaign, UserFilter user, qint64 afterId)
{
    QMetaObject::invokeMethod(m_store, [=, w = m_store] { w->countCouponSpan(generation, campaign, user, afterId); });
}

void Backend::locateCoupon(quint64 generation, const QString &campaign, UserFilter user, const CouponJump &jump,
                           qint64 maxId)
{
    QMetaObject::invokeMethod(m_store, [=, w = m_store] { w->locateCoupon(generation, campaign, user, jump, maxId); });
}

void Backend::fetchFailedEvents(quint64 generation, const QString &campaign, qint64 afterId, int limit)
{
    QMetaObject::invokeMethod(m_store,
                              [=, w = m_store] { w->fetchFailedEvents(generation, campaign, afterId, limit); });
}

void Backend::countFailedEvents(const QString &campaign)
{
    QMetaObject::invokeMethod(m_store, [=, w = m_store] { w->countFailedEvents(campaign); });
}

void Backend::readIssued(const QString &campaign)
{
    QMetaObject::invokeMethod(m_store, [=, w = m_store] { w->readIssued(campaign); });
}

void Backend::exportCoupons(const QString &campaign, UserFilter user, const QString &path)
{
    QMetaObject::invokeMethod(m_store, [=, w = m_store] { w->exportCoupons(campaign, user, path); });
}

void Backend::createCampaign(const Campaign &campaign, bool openIt, const QString &tag)
{
    QMetaObject::invokeMethod(m_ops, [=, w = m_ops] { w->create(campaign, openIt, tag); });
}

void Backend::openCampaign(const QString &campaign)
{
    QMetaObject::invokeMethod(m_ops, [=, w = m_ops] { w->open(campaign); });
}

void Backend::closeCampaign(const QString &campaign)
{
    QMetaObject::invokeMethod(m_ops, [=, w = m_ops] { w->close(campaign); });
}

void Backend::setLimit(const QString &campaign, qint64 limit)
{
    QMetaObject::invokeMethod(m_ops, [=, w = m_ops] { w->setLimit(campaign, limit); });
}

void Backend::resetCampaign(const QString &campaign)
{
    QMetaObject::invokeMethod(m_ops, [=, w = m_ops] { w->reset(campaign); });
}

quint64 Backend::audit(const QString &campaign, const AnsweredApplies &answered, int timeoutMs)
{
    const quint64 auditId = ++m_lastAuditId;
    QMetaObject::invokeMethod(m_ops, [=, w = m_ops] { w->audit(auditId, campaign, answered, timeoutMs); });
    return auditId;
}

void Backend::retryFailedEvent(const FailedEventRetry &retry)
{
    QMetaObject::invokeMethod(m_ops, [=, w = m_ops] { w->retryFailedEvent(retry); });
}

void Backend::resolveFailedEvent(qint64 id, const QString &by, const QString &reason)
{
    QMetaObject::invokeMethod(m_ops, [=, w = m_ops] { w->resolveFailedEvent(id, by, reason); });
}

void Backend::refreshOverview()
{
    QMetaObject::invokeMethod(m_overview, [w = m_overview] { w->refresh(); });
}

void Backend::setReservationsFocus(const QString &campaign, int window)
{
    m_reservationsCampaign = campaign;
    m_reservationsWindow = window;
    QMetaObject::invokeMethod(m_overview, [=, w = m_overview] { w->setFocus(campaign, window); });
}

void Backend::settle(const QString &campaign)
{
    QMetaObject::invokeMethod(m_ops, [=, w = m_ops] { w->settle(campaign); });
}

void Backend::runSimulation(const SimulationRun &run)
{
    m_runCancel = run.cancel;
    QMetaObject::invokeMethod(m_simulation, [run, w = m_simulation] { w->run(run); });
}

void Backend::exportReport(const ReportRequest &request)
{
    QMetaObject::invokeMethod(m_report, [=, w = m_report] { w->exportReport(request); });
}

} // namespace coupon::console
