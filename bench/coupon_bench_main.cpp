// coupon-bench: pieces of scripts/bench that need C++ — the tutorial's design
// rebuilt for comparison, and the chart of a run. Not a product binary.

#include "chart.h"
#include "jwt_cost.h"
#include "tutorial.h"

#include "coupon/base/cli.h"
#include "coupon/version.h"

#include <QApplication>
#include <QTextStream>

#include <cstdio>

using namespace Qt::StringLiterals;

int main(int argc, char *argv[])
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen"); // charts render without a display
    QApplication app(argc, argv);
    QApplication::setApplicationName(u"coupon-bench"_s);
    QApplication::setApplicationVersion(QString::fromLatin1(coupon::kVersion));

    coupon::CommonCommandLine cli(
        u"Benchmark harness pieces:\n"
        "  tutorial-apply --topic T --counter KEY --limit N --users N [--duplicates PCT] [--threads N]\n"
        "  tutorial-consume --topic T --expected N [--timeout S]\n"
        "  chart BENCH.json OUT.png"_s);
    QCommandLineParser &p = cli.parser();
    const QCommandLineOption topic(u"topic"_s, u"Topic."_s, u"name"_s);
    const QCommandLineOption counter(u"counter"_s, u"Redis counter key."_s, u"key"_s);
    const QCommandLineOption limit(u"limit"_s, u"Coupon limit."_s, u"n"_s, u"100"_s);
    const QCommandLineOption users(u"users"_s, u"Distinct users."_s, u"n"_s, u"1000"_s);
    const QCommandLineOption duplicates(u"duplicates"_s, u"Repeat attempts, %."_s, u"pct"_s, u"0"_s);
    const QCommandLineOption threads(u"threads"_s, u"Threads."_s, u"n"_s, u"32"_s);
    const QCommandLineOption expected(u"expected"_s, u"Messages to consume."_s, u"n"_s);
    const QCommandLineOption timeout(u"timeout"_s, u"Seconds."_s, u"s"_s, u"600"_s);
    for (const QCommandLineOption &o : {topic, counter, limit, users, duplicates, threads, expected, timeout})
        p.addOption(o);
    p.addPositionalArgument(
        u"command"_s, u"tutorial-apply, tutorial-consume, chart, or jwt SIGNING VERIFYING [SIGNING VERIFYING...]"_s);
    int exitCode = 0;
    const auto settings = cli.process(app, &exitCode);
    if (!settings)
        return exitCode;
    const QStringList args = p.positionalArguments();
    QTextStream out(stdout);

    if (args.value(0) == u"tutorial-apply"_s) {
        const auto r = coupon::bench::tutorialApply(*settings, p.value(topic), p.value(counter).toUtf8(),
                                                    p.value(limit).toLongLong(), p.value(users).toLongLong(),
                                                    p.value(duplicates).toInt(), p.value(threads).toInt());
        out << "attempts " << r.attempts << " accepted " << r.accepted << " seconds " << r.seconds << " applies_per_s "
            << (r.seconds > 0 ? double(r.attempts) / r.seconds : 0) << '\n';
        return 0;
    }
    if (args.value(0) == u"tutorial-consume"_s) {
        const auto r = coupon::bench::tutorialConsume(*settings, p.value(topic), p.value(expected).toLongLong(),
                                                      p.value(timeout).toInt() * 1000);
        out << "rows " << r.rows << " seconds " << r.seconds << " rows_per_s "
            << (r.seconds > 0 ? double(r.rows) / r.seconds : 0) << '\n';
        return r.rows == p.value(expected).toLongLong() ? 0 : 1;
    }
    if (args.value(0) == u"chart"_s && args.size() == 3) {
        const QString error = coupon::bench::renderChart(args[1], args[2]);
        if (!error.isEmpty()) {
            std::fprintf(stderr, "coupon-bench: %s\n", qPrintable(error));
            return 1;
        }
        return 0;
    }
    if (args.value(0) == u"jwt"_s && args.size() >= 3 && args.size() % 2 == 1) {
        // Microseconds per token to mint and to verify, per key pair given
        // (signing key file, verifying key file), on one thread.
        for (qsizetype i = 1; i + 1 < args.size(); i += 2) {
            const QString error = coupon::bench::jwtCost(args[i], args[i + 1], p.value(users).toInt(), out);
            if (!error.isEmpty()) {
                std::fprintf(stderr, "coupon-bench: %s\n", qPrintable(error));
                return 1;
            }
        }
        return 0;
    }
    std::fprintf(stderr, "coupon-bench: unknown command (see --help)\n");
    return coupon::ExitUsage;
}
