#include "backend.h"
#include "coupon/base/cli.h"
#include "coupon/version.h"
#include "dialogs.h"
#include "main_window.h"
#include "report_export.h"
#include "runs_panel.h"

#include <QApplication>
#include <QTabWidget>
#include <QTimer>

#include <cstdio>

using namespace Qt::StringLiterals;

namespace {

QCommandLineOption hidden(const QString &name, const QString &valueName)
{
    QCommandLineOption option(name, {}, valueName);
    option.setFlags(QCommandLineOption::HiddenFromHelp);
    return option;
}

} // namespace

int main(int argc, char *argv[])
{
    // --help and --version must work without a display, so parse them before
    // QApplication needs a platform plugin.
    for (int i = 1; i < argc; ++i) {
        const QByteArray arg(argv[i]);
        if (arg == "--help" || arg == "-h" || arg == "--version" || arg == "-v") {
            QCoreApplication core(argc, argv);
            QCoreApplication::setApplicationName(u"coupon-console"_s);
            QCoreApplication::setApplicationVersion(QString::fromLatin1(coupon::kVersion));
            coupon::CommonCommandLine cli(u"Operator console for coupon campaigns."_s);
            int exitCode = 0;
            cli.process(core, &exitCode);
            return exitCode;
        }
    }

    const QByteArray platform = qgetenv("QT_QPA_PLATFORM");
    if (platform.isEmpty() && qEnvironmentVariableIsEmpty("DISPLAY")
        && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY")) {
        std::fputs("coupon-console: no display. Run it in a desktop session, or under a virtual one:\n"
                   "  xvfb-run -a coupon-console ...        (X virtual framebuffer)\n"
                   "  QT_QPA_PLATFORM=offscreen coupon-console ...   (no window at all)\n",
                   stderr);
        return coupon::ExitUsage;
    }

    QApplication app(argc, argv);
    QApplication::setOrganizationName(u"coupon-system"_s);
    QApplication::setApplicationName(u"coupon-console"_s);
    QApplication::setApplicationDisplayName(u"Coupon System"_s);
    QApplication::setApplicationVersion(QString::fromLatin1(coupon::kVersion));

    coupon::CommonCommandLine cli(u"Operator console for coupon campaigns."_s);
    // For scripts/screenshot: create a campaign, simulate against it, save a
    // grab of the window mid-run, quit.
    const QCommandLineOption screenshot = hidden(u"screenshot"_s, u"file"_s);
    const QCommandLineOption afterMs = hidden(u"after-ms"_s, u"ms"_s);
    const QCommandLineOption users = hidden(u"users"_s, u"n"_s);
    const QCommandLineOption limit = hidden(u"limit"_s, u"n"_s);
    const QCommandLineOption concurrency = hidden(u"concurrency"_s, u"n"_s);
    const QCommandLineOption warmupMs = hidden(u"warmup-ms"_s, u"ms"_s);
    const QCommandLineOption grabAt = hidden(u"grab-at-percent"_s, u"percent"_s);
    // For scripts/report-picture: pages 1 and 2 of a campaign's drop report (with
    // its latest run; without --report-campaign, the latest run's campaign)
    // as the PDF has it, saved as PNG; no window.
    const QCommandLineOption reportPage = hidden(u"report-page"_s, u"file"_s);
    const QCommandLineOption reportCampaign = hidden(u"report-campaign"_s, u"id"_s);
    cli.parser().addOptions({screenshot, afterMs, users, limit, concurrency, warmupMs, grabAt});
    cli.parser().addOptions({reportPage, reportCampaign});
    int exitCode = 0;
    std::optional<coupon::Settings> settings = cli.process(app, &exitCode);
    if (!settings)
        return exitCode;
    // Endpoints saved from the settings dialog apply only when nothing says
    // otherwise explicitly.
    if (!cli.parser().isSet(u"config"_s) && qEnvironmentVariableIsEmpty("COUPON_CONFIG"))
        coupon::console::applySavedEndpoints(*settings);

    if (cli.parser().isSet(reportPage)) {
        // No campaign: the latest run's.
        const coupon::Result<coupon::RunRecord> run = coupon::RunHistory().latest(cli.parser().value(reportCampaign));
        const QString campaign = cli.parser().isSet(reportCampaign) || !run ? cli.parser().value(reportCampaign)
                                                                            : run->campaign;
        coupon::console::ReportRequest request{campaign, run ? run->id : QString(),
                                               coupon::console::ReportRequest::Format::PagePng,
                                               cli.parser().value(reportPage), coupon::console::operatorName()};
        const coupon::Status written = coupon::console::ReportWorker(*settings).write(request);
        std::fprintf(stderr, "coupon-console: %s\n",
                     qPrintable(written ? u"saved "_s + request.path : written.error().message));
        return written ? coupon::ExitOk : coupon::ExitCheckFailed;
    }

    coupon::console::MainWindow window(*settings, coupon::console::savedGatewayUrls(*settings));
    window.show();

    const QCommandLineParser &args = cli.parser();
    if (args.isSet(screenshot)) {
        const QString file = args.value(screenshot);
        const int grabAfter = args.value(afterMs).isEmpty() ? 3000 : args.value(afterMs).toInt();
        const int warmup = args.value(warmupMs).isEmpty() ? 4000 : args.value(warmupMs).toInt();
        const qint64 runUsers = args.value(users).isEmpty() ? 1000 : args.value(users).toLongLong();
        const qint64 runLimit = args.value(limit).isEmpty() ? 100 : args.value(limit).toLongLong();
        const int runConcurrency = args.value(concurrency).isEmpty() ? 32 : args.value(concurrency).toInt();
        // README's picture: the campaigns overview above, the run's timeline below.
        if (auto *tabs = window.findChild<QTabWidget *>(u"browserTabs"_s))
            tabs->setCurrentWidget(window.runsPanel());
        QTimer::singleShot(warmup, &window, [&] { window.simulateNewCampaign(runLimit, runUsers, runConcurrency); });
        auto grab = [&, file] {
            if (!window.isVisible())
                return;
            const bool saved = window.grab().save(file);
            std::fprintf(stderr, "coupon-console: %s %s\n", saved ? "saved" : "could not save", qPrintable(file));
            exitCode = saved ? coupon::ExitOk : coupon::ExitCheckFailed;
            window.close();
        };
        // Mid-run whatever the machine's speed: once the counter passes
        // --grab-at-percent of the limit, or --after-ms into the run.
        const int percent = args.value(grabAt).toInt();
        QObject::connect(
            &window, &coupon::console::MainWindow::simulationStarted, &window, [&, grab, grabAfter, percent] {
                if (percent > 0) {
                    QObject::connect(window.backend(), &coupon::console::Backend::redisSampled, &window,
                                     [grab, percent](const coupon::console::RedisSample &sample) {
                                         if (sample.limit > 0 && sample.count * 100 >= sample.limit * percent)
                                             grab();
                                     });
                }
                QTimer::singleShot(grabAfter, &window, grab);
            });
        QObject::connect(&window, &coupon::console::MainWindow::verdictReady, &window, [](bool, const QString &text) {
            std::fprintf(stderr, "coupon-console: %s\n", qPrintable(text));
        });
        app.exec();
        return exitCode;
    }
    return app.exec();
}
