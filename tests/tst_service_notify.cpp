// What the services tell systemd (sd_notify): the real coupon-gateway and
// coupon-worker on the real stack, with NOTIFY_SOCKET pointing at a datagram
// socket of this test, as systemd's would: READY=1 once they serve,
// WATCHDOG=1 while their loops turn, STOPPING=1 on SIGTERM.

#include "testsupport.h"

#include <QDeadlineTimer>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
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
    QByteArray seen() const { return m_seen.join(" | "); }

private:
    QTemporaryDir m_dir;
    QByteArray m_path;
    int m_fd = -1;
    QList<QByteArray> m_seen;
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
        QVERIFY2(systemd.seen().contains("STATUS=serving on"), systemd.seen().constData());
        // Ready means ready: its admin listener says so too.
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
        QVERIFY2(systemd.seen().contains("STATUS=consuming"), systemd.seen().constData());
        QVERIFY2(systemd.waitFor("WATCHDOG=1", 5000), systemd.seen().constData());
        ::kill(pid_t(worker.pid()), SIGTERM);
        QVERIFY2(systemd.waitFor("STOPPING=1", 10000), systemd.seen().constData());
        QCOMPARE(worker.terminate(30000), 0);
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
