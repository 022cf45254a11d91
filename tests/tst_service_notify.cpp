// What the services tell systemd (sd_notify): the real coupon-gateway and
// coupon-worker on the real stack, with NOTIFY_SOCKET pointing at a datagram
// socket of this test, as systemd's would: READY=1 once they are up (with
// STATUS= saying whether they serve), WATCHDOG=1 only while their loops
// turn (a hung loop stops it, a recovered one resumes it), STOPPING=1 on
// SIGTERM. A dependency down at start is no failure: they start, say why
// they are not ready, and become ready by themselves (tcpproxy cuts and
// restores it).

#include "coupon/service/campaigns.h"
#include "tcpproxy.h"
#include "testsupport.h"

#include <QDeadlineTimer>
#include <QFile>
#include <QSettings>
#include <QTemporaryDir>
#include <QTest>

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <future>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

using namespace Qt::StringLiterals;
using namespace coupon;

namespace {

// systemd's end of the notify socket.
class NotifySocket
{
public:
    NotifySocket()
    {
        m_path = m_dir.filePath(u"notify"_s).toLocal8Bit();
        m_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        qstrncpy(address.sun_path, m_path.constData(), sizeof address.sun_path);
        if (m_fd < 0 || ::bind(m_fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0)
            qFatal("cannot bind %s", m_path.constData());
    }
    ~NotifySocket() { ::close(m_fd); }
    QByteArray path() const { return m_path; }

    // Every message that arrives until one contains `field` or the deadline
    // passes; returns whether it came.
    bool waitFor(const QByteArray &field, int timeoutMs)
    {
        const QDeadlineTimer deadline(timeoutMs);
        while (!deadline.hasExpired()) {
            pollfd p{m_fd, POLLIN, 0};
            if (::poll(&p, 1, int(std::min<qint64>(deadline.remainingTime(), 200))) <= 0)
                continue;
            char buffer[4096];
            const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
            if (n <= 0)
                continue;
            const QByteArray message(buffer, n);
            m_seen.append(message);
            if (message.split('\n').contains(field))
                return true;
        }
        return false;
    }
    // Until a message has a line starting with `prefix` (a STATUS= text);
    // `alreadySeen`: one that came before counts too.
    bool waitForPrefix(const QByteArray &prefix, int timeoutMs, bool alreadySeen = false)
    {
        for (qsizetype i = 0; alreadySeen && i < m_seen.size(); ++i) {
            for (const QByteArray &line : m_seen.at(i).split('\n')) {
                if (line.startsWith(prefix))
                    return true;
            }
        }
        const QDeadlineTimer deadline(timeoutMs);
        while (!deadline.hasExpired()) {
            if (const std::optional<QByteArray> message = receive(deadline)) {
                for (const QByteArray &line : message->split('\n')) {
                    if (line.startsWith(prefix))
                        return true;
                }
            }
        }
        return false;
    }
    // Until `field` has not come for `quietMs` in a row (true), or
    // `timeoutMs` passed without such a quiet spell (false).
    bool waitForSilence(const QByteArray &field, int quietMs, int timeoutMs)
    {
        const QDeadlineTimer deadline(timeoutMs);
        QDeadlineTimer quiet(quietMs);
        while (!deadline.hasExpired()) {
            if (quiet.hasExpired())
                return true;
            const std::optional<QByteArray> message = receive(std::min(deadline, quiet));
            if (message && message->split('\n').contains(field))
                quiet = QDeadlineTimer(quietMs);
        }
        return false;
    }
    QByteArray seen() const { return m_seen.join(" | "); }

private:
    std::optional<QByteArray> receive(const QDeadlineTimer &deadline)
    {
        pollfd p{m_fd, POLLIN, 0};
        if (::poll(&p, 1, int(std::clamp<qint64>(deadline.remainingTime(), 0, 200))) <= 0)
            return std::nullopt;
        char buffer[4096];
        const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
        if (n <= 0)
            return std::nullopt;
        m_seen.append(QByteArray(buffer, n));
        return m_seen.last();
    }

    QTemporaryDir m_dir;
    QByteArray m_path;
    int m_fd = -1;
    QList<QByteArray> m_seen;
};

quint16 kafkaPort(const Settings &settings)
{
    const QString first = settings.kafka.bootstrapServers().split(u',').first();
    return quint16(first.mid(first.lastIndexOf(u':') + 1).toUInt());
}

// Writes `bytes` into the FIFO at `path` once a reader has it open (a
// writer opening without one gets ENXIO), within `timeoutMs`.
bool feedFifo(const QByteArray &path, const QByteArray &bytes, int timeoutMs)
{
    int fd = -1;
    const bool opened = test::waitFor(
        [&] {
            fd = ::open(path.constData(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
            return fd >= 0 || errno != ENXIO;
        },
        timeoutMs);
    if (!opened || fd < 0)
        return false;
    const bool written = ::write(fd, bytes.constData(), size_t(bytes.size())) == bytes.size();
    ::close(fd);
    return written;
}

// A coupon-worker whose MySQL is behind a proxy (to cut or stall), telling
// this test's notify socket, with a watchdog ping every 200 ms while healthy.
struct WorkerBehindProxy
{
    WorkerBehindProxy()
        : settings(test::integrationSettings())
        , mysql(settings.mysql.port)
    {
        qputenv("NOTIFY_SOCKET", systemd.path());
        qputenv("WATCHDOG_USEC", "400000");
        worker = std::make_unique<test::WorkerProcess>(QStringList{u"--set"_s, u"mysql.port=%1"_s.arg(mysql.port())});
    }
    // Started and consuming; empty when it is, else why not.
    QString start()
    {
        if (QString error = worker->start(); !error.isEmpty())
            return error;
        return systemd.waitForPrefix("STATUS=ready: consuming", 60000) ? QString() : QString::fromUtf8(systemd.seen());
    }
    // A poison message for the worker to write (into failed_event).
    void produce(const QString &prefix)
    {
        test::RawProducer(settings).send(QByteArray("1"), QByteArray("abc"),
                                         test::protocolHeaders(test::uniqueCampaign(prefix), 1));
    }
    QByteArray story() { return systemd.seen().right(2000) + "\n" + worker->output().toUtf8(); }

    Settings settings;
    test::TcpProxy mysql;
    NotifySocket systemd;
    std::unique_ptr<test::WorkerProcess> worker;
};

} // namespace

class TestServiceNotify : public QObject
{
    Q_OBJECT

private slots:
    void cleanup()
    {
        qunsetenv("NOTIFY_SOCKET");
        qunsetenv("WATCHDOG_USEC");
    }

    void gatewayTellsSystemd()
    {
        NotifySocket systemd;
        qputenv("NOTIFY_SOCKET", systemd.path());
        qputenv("WATCHDOG_USEC", "400000"); // a ping every 200 ms
        test::GatewayProcess gateway;
        QVERIFY2(gateway.start().isEmpty(), qPrintable(gateway.output()));
        QVERIFY2(systemd.waitFor("READY=1", 30000), systemd.seen().constData());
        // READY=1 is "up"; serving is in STATUS=, as on its admin listener.
        QVERIFY2(systemd.waitForPrefix("STATUS=ready: serving on", 30000), systemd.seen().constData());
        QCOMPARE(test::http(gateway.adminPort(), "GET", "/readyz").status, 200);
        QVERIFY2(systemd.waitFor("WATCHDOG=1", 5000), systemd.seen().constData());
        QVERIFY2(systemd.waitFor("WATCHDOG=1", 5000), systemd.seen().constData());
        ::kill(pid_t(gateway.pid()), SIGTERM);
        QVERIFY2(systemd.waitFor("STOPPING=1", 10000), systemd.seen().constData());
        QCOMPARE(gateway.terminate(15000), 0);
    }

    void workerTellsSystemd()
    {
        NotifySocket systemd;
        qputenv("NOTIFY_SOCKET", systemd.path());
        qputenv("WATCHDOG_USEC", "400000");
        test::WorkerProcess worker;
        QVERIFY2(worker.start().isEmpty(), qPrintable(worker.output()));
        QVERIFY2(systemd.waitFor("READY=1", 60000), systemd.seen().constData());
        QVERIFY2(systemd.waitForPrefix("STATUS=ready: consuming", 60000), systemd.seen().constData());
        QVERIFY2(systemd.waitFor("WATCHDOG=1", 5000), systemd.seen().constData());
        ::kill(pid_t(worker.pid()), SIGTERM);
        QVERIFY2(systemd.waitFor("STOPPING=1", 10000), systemd.seen().constData());
        QCOMPARE(worker.terminate(30000), 0);
    }

    // Kafka or Redis unreachable at start: the gateway starts anyway (no
    // restart loop under systemd), refuses applies with 503 and the
    // dependency's code, says why in STATUS= and /readyz, and serves by
    // itself once the dependency is back.
    void gatewayStartsWithDependencyDown_data()
    {
        QTest::addColumn<QString>("setting"); // the one pointed at the proxy
        QTest::addColumn<QByteArray>("dependency");
        QTest::addColumn<QByteArray>("code");
        QTest::newRow("kafka") << u"kafka.bootstrap.servers=127.0.0.1:%1"_s << QByteArray("Kafka")
                               << QByteArray("kafka_unavailable");
        QTest::newRow("redis") << u"redis.port=%1"_s << QByteArray("Redis") << QByteArray("redis_unavailable");
    }

    void gatewayStartsWithDependencyDown()
    {
        QFETCH(QString, setting);
        QFETCH(QByteArray, dependency);
        QFETCH(QByteArray, code);
        const Settings settings = test::integrationSettings();
        CampaignOps ops(settings, u"tst_service_notify"_s);
        QVERIFY(ops.connect().ok());
        const QString campaign = test::openCampaign(ops, u"notify-down"_s, 10);
        test::TcpProxy proxy(dependency == "Kafka" ? kafkaPort(settings) : settings.redis.port);
        proxy.cut();
        NotifySocket systemd;
        qputenv("NOTIFY_SOCKET", systemd.path());
        test::GatewayProcess gateway({u"--set"_s, setting.arg(proxy.port())});
        QVERIFY2(gateway.start().isEmpty(), qPrintable(gateway.output()));
        QVERIFY2(systemd.waitFor("READY=1", 10000), systemd.seen().constData());
        QVERIFY2(systemd.waitForPrefix("STATUS=not ready: " + dependency, 10000, true), systemd.seen().constData());
        const test::HttpResult readyz = test::http(gateway.adminPort(), "GET", "/readyz");
        QCOMPARE(readyz.status, 503);
        QVERIFY2(readyz.body.contains(dependency), readyz.body.constData());
        const QByteArray path = "/api/v1/campaigns/" + campaign.toUtf8() + "/applications";
        const test::HttpResult refused = test::apply(gateway.port(), path, 1);
        QCOMPARE(refused.status, 503);
        QVERIFY2(refused.body.contains(QByteArray('"' + code + '"')), refused.body.constData());

        proxy.heal();
        QVERIFY2(systemd.waitForPrefix("STATUS=ready: serving on", 30000), systemd.seen().constData());
        QCOMPARE(test::http(gateway.adminPort(), "GET", "/readyz").status, 200);
        const test::HttpResult accepted = test::apply(gateway.port(), path, 2);
        QVERIFY2(accepted.status == 202, accepted.body.constData());
        QCOMPARE(gateway.terminate(15000), 0);
    }

    // MySQL unreachable at start: the worker starts, says so, and consumes
    // by itself once MySQL is back.
    void workerStartsWithMysqlDown()
    {
        const Settings settings = test::integrationSettings();
        test::TcpProxy mysql(settings.mysql.port);
        mysql.cut();
        NotifySocket systemd;
        qputenv("NOTIFY_SOCKET", systemd.path());
        test::WorkerProcess worker({u"--set"_s, u"mysql.port=%1"_s.arg(mysql.port())},
                                   QString::fromLatin1(test::WorkerProcess::kAdminUp));
        QVERIFY2(worker.start().isEmpty(), qPrintable(worker.output()));
        QVERIFY2(systemd.waitFor("READY=1", 10000), systemd.seen().constData());
        QVERIFY2(systemd.waitForPrefix("STATUS=not ready: MySQL", 10000, true), systemd.seen().constData());
        mysql.heal();
        QVERIFY2(systemd.waitForPrefix("STATUS=ready: consuming", 60000),
                 QByteArray(systemd.seen() + "\n" + worker.output().toUtf8()).constData());
        QCOMPARE(worker.terminate(30000), 0);
    }

    // The worker's consumer hangs in a MySQL commit (MySQL stalled behind
    // the proxy: connections open, nothing answered): WATCHDOG=1 stops
    // while it hangs, so systemd would restart it, and comes back when
    // MySQL answers again.
    void workerWatchdogStopsWhileItsLoopHangs()
    {
        WorkerBehindProxy w;
        QVERIFY2(w.start().isEmpty(), w.story().constData());
        QVERIFY2(w.systemd.waitFor("WATCHDOG=1", 5000), w.story().constData());

        w.mysql.stall();
        w.produce(u"notify-hang"_s); // its batch's transaction waits on MySQL
        QVERIFY2(w.systemd.waitForSilence("WATCHDOG=1", 1500, 20000), w.story().constData());
        // Its main loop is fine (the admin listener answers): the watchdog
        // follows the consumer's loop too.
        QCOMPARE(test::http(w.worker->adminPort(), "GET", "/metrics").status, 200);

        w.mysql.heal();
        QVERIFY2(w.systemd.waitFor("WATCHDOG=1", 10000), w.story().constData());
        QVERIFY2(w.systemd.waitFor("WATCHDOG=1", 5000), w.story().constData());
        QCOMPARE(w.worker->terminate(30000), 0);
    }

    // MySQL refuses the worker (down, not hung): the worker pauses and
    // retries with backoff, its loop still turning, so WATCHDOG=1 goes on
    // (a restart would not help) while STATUS= says it is not ready.
    void workerWatchdogGoesOnWhileItRetries()
    {
        WorkerBehindProxy w;
        QVERIFY2(w.start().isEmpty(), w.story().constData());

        w.mysql.cut();
        w.produce(u"notify-retry"_s);
        QVERIFY2(w.systemd.waitForPrefix("STATUS=not ready: MySQL", 20000), w.story().constData());
        // Backoff reaches its 5 s cap meanwhile: never a second without a ping.
        QVERIFY2(!w.systemd.waitForSilence("WATCHDOG=1", 1000, 12000), w.story().constData());
        w.mysql.heal();
        QVERIFY2(w.systemd.waitForPrefix("STATUS=ready: consuming", 30000), w.story().constData());
        QCOMPARE(w.worker->terminate(30000), 0);
    }

    // The gateway's event loop hangs: its key file (gateway.auth.keys) is a
    // FIFO nobody writes, as a file on a stalled network mount, and SIGHUP
    // makes the loop read it. WATCHDOG=1 stops (the admin listener, on the
    // same loop, stops answering too) and resumes once the read completes.
    void gatewayWatchdogStopsWhileItsLoopHangs()
    {
        const QString config = qEnvironmentVariable("COUPON_GATEWAY_CONFIG", qEnvironmentVariable("COUPON_CONFIG"));
        QFile keyFile(QSettings(config, QSettings::IniFormat).value(u"gateway/auth.keys"_s).toString());
        QVERIFY2(keyFile.open(QIODevice::ReadOnly), qPrintable(keyFile.fileName()));
        const QByteArray key = keyFile.readAll();
        QTemporaryDir dir;
        const QByteArray fifo = dir.filePath(u"keys.pem"_s).toLocal8Bit();
        QCOMPARE(::mkfifo(fifo.constData(), 0600), 0);

        NotifySocket systemd;
        qputenv("NOTIFY_SOCKET", systemd.path());
        qputenv("WATCHDOG_USEC", "400000");
        test::GatewayProcess gateway({u"--set"_s, u"gateway.auth.keys="_s + QString::fromLocal8Bit(fifo)});
        // The start reads the keys once: feed them.
        std::future<bool> fed = std::async(std::launch::async, [&] { return feedFifo(fifo, key, 30000); });
        QVERIFY2(gateway.start().isEmpty(), qPrintable(gateway.output()));
        QVERIFY(fed.get());
        QVERIFY2(systemd.waitForPrefix("STATUS=ready: serving on", 30000), systemd.seen().constData());
        QVERIFY2(systemd.waitFor("WATCHDOG=1", 5000), systemd.seen().constData());

        ::kill(pid_t(gateway.pid()), SIGHUP); // the loop now waits for a writer
        QVERIFY2(systemd.waitForSilence("WATCHDOG=1", 1500, 10000), systemd.seen().right(2000).constData());
        QCOMPARE(test::httpRaw(gateway.adminPort(), "GET /healthz HTTP/1.1\r\n\r\n", 1000).status, 0);

        QVERIFY(feedFifo(fifo, key, 10000));
        QVERIFY2(systemd.waitFor("WATCHDOG=1", 5000), systemd.seen().right(2000).constData());
        QCOMPARE(test::http(gateway.adminPort(), "GET", "/healthz").status, 200);
        QCOMPARE(gateway.terminate(15000), 0);
    }

    // Without systemd (no NOTIFY_SOCKET) nothing is sent and nothing fails.
    void withoutSystemdNothingChanges()
    {
        test::GatewayProcess gateway;
        QVERIFY2(gateway.start().isEmpty(), qPrintable(gateway.output()));
        QVERIFY(test::waitFor([&] { return test::http(gateway.adminPort(), "GET", "/readyz").status == 200; }, 30000));
        QCOMPARE(gateway.terminate(15000), 0);
    }
};

QTEST_GUILESS_MAIN(TestServiceNotify)
#include "tst_service_notify.moc"
