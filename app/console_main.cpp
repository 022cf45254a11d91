#include "coupon/cli.h"
#include "coupon/version.h"

#include <QApplication>
#include <QLabel>
#include <QMainWindow>
#include <QStatusBar>

#include <cstdio>

using namespace Qt::StringLiterals;

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
    QApplication::setApplicationName(u"coupon-console"_s);
    QApplication::setApplicationDisplayName(u"Coupon System"_s);
    QApplication::setApplicationVersion(QString::fromLatin1(coupon::kVersion));

    coupon::CommonCommandLine cli(u"Operator console for coupon campaigns."_s);
    int exitCode = 0;
    const auto settings = cli.process(app, &exitCode);
    if (!settings)
        return exitCode;

    QMainWindow window;
    auto *label = new QLabel(&window);
    label->setAlignment(Qt::AlignCenter);
    label->setText(u"Redis %1:%2 · MySQL %3:%4 · Kafka %5 (topic %6)"_s
                       .arg(settings->redis.host)
                       .arg(settings->redis.port)
                       .arg(settings->mysql.host)
                       .arg(settings->mysql.port)
                       .arg(settings->kafka.bootstrapServers(), settings->kafka.topic));
    window.setCentralWidget(label);
    window.statusBar()->showMessage(u"Coupon System %1"_s.arg(QString::fromLatin1(coupon::kVersion)));
    window.resize(900, 600);
    window.show();
    return app.exec();
}
