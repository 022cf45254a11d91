// coupon-worker: drains topic coupon_create (consumer group group_1) into
// MySQL. SIGTERM/SIGINT: finish the batch, commit, leave the group, exit 0.

#include "coupon/base/cli.h"
#include "coupon/kafka/liveness.h"
#include "coupon/service/consumer.h"
#include "coupon/service/reconciler.h"
#include "coupon/version.h"

#include "service_log.h"
#include "service_notify.h"
#include "signals.h"
#include "worker_monitor.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QThread>
#include <QTimer>

#include <atomic>
#include <cstdio>
#include <memory>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcWorker, "coupon.worker")

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(u"coupon-worker"_s);
    QCoreApplication::setApplicationVersion(QString::fromLatin1(coupon::kVersion));
    coupon::installServiceLog();

    coupon::CommonCommandLine cli(
        u"Consumes topic coupon_create (consumer group group_1) into MySQL in batched transactions."_s);
    QCommandLineOption statusEvery(u"status-interval"_s, u"Seconds between status lines (0: none)."_s, u"seconds"_s,
                                   u"5"_s);
    cli.parser().addOption(statusEvery);
    int exitCode = 0;
    const auto settings = cli.process(app, &exitCode);
    if (!settings)
        return exitCode;
    coupon::setServiceLogLevel(settings->logLevel);

    auto consumer = coupon::CouponConsumer::create(*settings);
    if (!consumer) {
        std::fprintf(stderr, "coupon-worker: %s\n", qPrintable(consumer.error().message));
        return coupon::ExitUsage;
    }

    std::atomic<bool> stop{false};
    coupon::Status outcome = coupon::Ok{};
    QThread *thread = QThread::create([&] { outcome = consumer.value()->run(stop); });
    thread->setObjectName(u"consumer"_s);
    QObject::connect(thread, &QThread::finished, &app, &QCoreApplication::quit);

    // The reconciler: Redis is a cache of promises; it rebuilds what a Redis
    // lost from MySQL and settles orphaned reservations, from one worker at a
    // time (a lease), on a thread of its own.
    std::unique_ptr<coupon::Reconciler> reconciler;
    QThread *reconcilerThread = nullptr;
    if (settings->worker.reconcile) {
        reconciler = std::make_unique<coupon::Reconciler>(*settings);
        reconcilerThread = QThread::create([&] { reconciler->run(stop); });
        reconcilerThread->setObjectName(u"reconciler"_s);
    }

    // Kafka as this consumer sees it (a metadata request on its own
    // connections, off every loop); down at start is not an error.
    coupon::KafkaLiveness kafka;
    kafka.start([c = consumer.value().get()](int timeoutMs) { return c->checkTopic(timeoutMs); }, 1000);
    coupon::WorkerMonitor monitor(*settings, consumer.value()->stats(), reconciler ? &reconciler->stats() : nullptr,
                                  kafka);
    if (coupon::Status st = monitor.listen(); !st) {
        std::fprintf(stderr, "coupon-worker: %s\n", qPrintable(st.error().message));
        return coupon::isConfigError(st.error()) ? coupon::ExitUsage : coupon::ExitCheckFailed;
    }
    if (monitor.port() != 0) {
        std::printf("coupon-worker: admin on %s:%u (/healthz, /readyz, /metrics)\n",
                    qPrintable(settings->worker.adminHost), monitor.port());
        std::fflush(stdout);
    }

    // systemd: READY=1 once it is up (docs/DESIGN.md, "Running as a
    // service": a dependency down at start must not become a restart loop);
    // whether it consumes is in STATUS= and the admin /readyz. The watchdog
    // is fed while both the main loop and the consumer's loop turn.
    coupon::ServiceNotifier notifier;
    auto statusLine = [&] {
        const coupon::ConsumerStats &s = consumer.value()->stats();
        const coupon::WorkerMonitor::Readiness r = monitor.readiness();
        return r.ready ? u"ready: consuming %1 partition(s), lag %2"_s.arg(s.assigned.load()).arg(s.lag.load())
                       : u"not ready: "_s + r.reason;
    };
    notifier.ready(statusLine());
    QTimer readiness;
    QObject::connect(&readiness, &QTimer::timeout, [&] {
        if (!stop.load())
            notifier.status(statusLine());
    });
    readiness.start(250);
    qint64 lastLoops = -1;
    notifier.startWatchdog([&] {
        const qint64 loops = consumer.value()->stats().loops.load();
        const bool turning = loops != lastLoops && thread->isRunning();
        lastLoops = loops;
        return turning;
    });
    QObject::connect(thread, &QThread::finished, &monitor, [&] { monitor.setConsumerRunning(false); });

    coupon::installStopSignals(&app, [&] {
        qCInfo(lcWorker, "stop requested: finishing the batch, committing, leaving the group");
        notifier.stopping(u"stopping: finishing the batch, committing, leaving the group"_s);
        monitor.setStopping();
        stop.store(true);
    });

    const int interval = cli.parser().value(statusEvery).toInt();
    QTimer status;
    QElapsedTimer clock;
    qint64 lastConsumed = 0, lastInserted = 0;
    if (interval > 0) {
        clock.start();
        QObject::connect(&status, &QTimer::timeout, [&] {
            const coupon::ConsumerStats &s = consumer.value()->stats();
            const double seconds = std::max<qint64>(1, clock.restart()) / 1000.0;
            const qint64 consumed = s.consumed.load(), inserted = s.inserted.load();
            qCInfo(lcWorker,
                   "status: %.0f consumed/s, %.0f inserted/s, lag %lld, %d partition(s)%s; "
                   "total %lld consumed, %lld inserted, %lld duplicate, %lld poison, %lld MySQL error(s)",
                   (consumed - lastConsumed) / seconds, (inserted - lastInserted) / seconds,
                   static_cast<long long>(s.lag.load()), s.assigned.load(), s.paused.load() ? " PAUSED" : "",
                   static_cast<long long>(consumed), static_cast<long long>(inserted),
                   static_cast<long long>(s.duplicates.load()), static_cast<long long>(s.poison.load()),
                   static_cast<long long>(s.mysqlErrors.load()));
            lastConsumed = consumed;
            lastInserted = inserted;
        });
        status.start(interval * 1000);
    }

    thread->start();
    if (reconcilerThread)
        reconcilerThread->start();
    app.exec();
    stop.store(true); // the consumer may have ended on its own: the reconciler stops too
    thread->wait();
    delete thread;
    if (reconcilerThread) {
        reconcilerThread->wait();
        delete reconcilerThread;
    }
    if (!outcome) {
        std::fprintf(stderr, "coupon-worker: %s\n", qPrintable(outcome.error().message));
        return coupon::ExitCheckFailed;
    }
    qCInfo(lcWorker, "stopped");
    return coupon::ExitOk;
}
