// coupon-gateway: the HTTP apply API. SIGTERM/SIGINT: stop accepting,
// answer every in-flight apply (delivery reports included), exit 0.

#include "coupon/base/cli.h"
#include "coupon/version.h"

#include "gateway.h"
#include "service_log.h"
#include "service_notify.h"
#include "signals.h"

#include <QCoreApplication>
#include <QTimer>

#include <cstdio>

using namespace Qt::StringLiterals;

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(u"coupon-gateway"_s);
    QCoreApplication::setApplicationVersion(QString::fromLatin1(coupon::kVersion));
    coupon::installServiceLog();

    coupon::CommonCommandLine cli(u"HTTP apply API for coupon campaigns (listens on gateway.listen)."_s);
    int exitCode = 0;
    const auto settings = cli.process(app, &exitCode);
    if (!settings)
        return exitCode;
    coupon::setServiceLogLevel(settings->logLevel);

    coupon::Gateway gateway(*settings);
    // SIGHUP's default would end the process: a reload during the start
    // runs once the event loop does.
    coupon::installReloadSignal(&app, [&] { gateway.reloadKeys(); });
    if (coupon::Status st = gateway.start(); !st) {
        std::fprintf(stderr, "coupon-gateway: %s\n", qPrintable(st.error().message));
        return coupon::isConfigError(st.error()) ? coupon::ExitUsage : coupon::ExitCheckFailed;
    }
    std::printf("coupon-gateway: listening on %s:%u; admin on %s:%u\n", qPrintable(settings->gateway.listenHost),
                gateway.port(), qPrintable(settings->gateway.adminHost), gateway.adminPort());
    std::fflush(stdout);
    QObject::connect(&gateway, &coupon::Gateway::stopped, &app, &QCoreApplication::quit);
    // systemd: READY=1 once it listens (docs/DESIGN.md, "Running as a
    // service": a dependency down at start must not become a restart loop);
    // whether it can take applies is in STATUS= and the admin /readyz. The
    // watchdog is fed by the event loop, so a hung loop is restarted.
    coupon::ServiceNotifier notifier;
    bool stopping = false;
    auto statusLine = [&] {
        const QString reason = gateway.notReadyReason();
        return reason.isEmpty() ? u"ready: serving on %1:%2"_s.arg(settings->gateway.listenHost).arg(gateway.port())
                                : u"not ready: %1 (GET /readyz on %2:%3 says more)"_s.arg(reason)
                                      .arg(settings->gateway.adminHost)
                                      .arg(gateway.adminPort());
    };
    notifier.ready(statusLine());
    QTimer readiness;
    QObject::connect(&readiness, &QTimer::timeout, [&] {
        if (!stopping)
            notifier.status(statusLine());
    });
    readiness.start(250);
    notifier.startWatchdog([] { return true; });
    coupon::installStopSignals(&app, [&] {
        stopping = true;
        notifier.stopping(u"stopping: answering in-flight applies"_s);
        gateway.shutdown();
        // A bound on the drain, so a stuck dependency cannot keep us forever.
        QTimer::singleShot(30000, &app, [] {
            std::fprintf(stderr, "coupon-gateway: in-flight applies did not finish within 30 s\n");
            QCoreApplication::exit(1);
        });
    });
    return app.exec();
}
