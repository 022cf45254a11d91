// A fair, bounded server (issue 11): what one client, or a crowd of them, can
// take from the others. http::Server in process for the fairness and the caps
// it counts; the real coupon-gateway for the admin listener, the per-address
// cap and running out of descriptors. No timed assertions: every wait is a
// condition with a deadline.

#include "coupon/http/response_parser.h"
#include "coupon/http/server.h"
#include "testsupport.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTcpSocket>
#include <QTest>

#include <memory>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>

using namespace Qt::StringLiterals;
using namespace coupon;
using http::Limits;
using http::Request;
using http::Responder;
using http::Response;
using http::Server;

namespace {

constexpr int kWaitMs = 10000;

QByteArray get(const QByteArray &target)
{
    return "GET " + target + " HTTP/1.1\r\nHost: t\r\n\r\n";
}

// A blocking-free client socket on plain POSIX calls, for peers of another
// process (the gateway) and for floods where QTcpSocket's buffering would hide
// what the server does. -1 when the connect failed at once.
int openClient(quint16 port, const char *from = "127.0.0.1")
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    sockaddr_in source{};
    source.sin_family = AF_INET;
    ::inet_pton(AF_INET, from, &source.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr *>(&source), sizeof source) != 0) {
        ::close(fd);
        return -1;
    }
    sockaddr_in target{};
    target.sin_family = AF_INET;
    target.sin_port = htons(port);
    target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&target), sizeof target) != 0 && errno != EINPROGRESS) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Writes as much of `bytes` as the kernel takes now.
qsizetype sendSome(int fd, const QByteArray &bytes)
{
    const ssize_t n = ::send(fd, bytes.constData(), size_t(bytes.size()), MSG_NOSIGNAL | MSG_DONTWAIT);
    return n < 0 ? 0 : qsizetype(n);
}

struct Fds
{
    std::vector<int> fds;
    ~Fds() { closeAll(); }
    void closeAll()
    {
        for (int fd : fds)
            ::close(fd);
        fds.clear();
    }
};

// What a response on fd says so far: its status, or 0 (nothing yet), -1 (closed without one).
int statusOn(int fd, QByteArray &received)
{
    char chunk[4096];
    for (;;) {
        const ssize_t n = ::recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
        if (n > 0) {
            received.append(chunk, n);
            continue;
        }
        http::ResponseParser parser;
        if (parser.parse(received) == http::ResponseParser::Progress::Complete)
            return parser.response().status;
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            return -1;
        return 0;
    }
}

// A number from the gateway's /metrics (admin listener): the line that starts with `series`; -1 if none.
qint64 metric(quint16 adminPort, const QByteArray &series)
{
    return qint64(test::metricSample(test::http(adminPort, "GET", "/metrics").body, series));
}

// user + system CPU of a process in clock ticks (/proc/<pid>/stat fields 14 and 15).
qint64 cpuTicks(qint64 pid)
{
    QFile stat(u"/proc/%1/stat"_s.arg(pid));
    if (!stat.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray text = stat.readAll();
    const QList<QByteArray> fields = text.mid(text.lastIndexOf(')') + 2).split(' '); // from field 3 on
    return fields.size() > 13 ? fields[11].toLongLong() + fields[12].toLongLong() : -1;
}

// The gateway with a low descriptor limit (soft and hard: it raises the soft one to the hard one).
class LimitedGateway : public test::GatewayProcess
{
public:
    LimitedGateway(rlim_t files, QStringList extraArgs)
        : test::GatewayProcess(std::move(extraArgs))
    {
        m_process.setChildProcessModifier([files] {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            const rlimit limit{files, files};
            ::setrlimit(RLIMIT_NOFILE, &limit);
        });
    }
};

} // namespace

class TestServerLimits : public QObject
{
    Q_OBJECT

private slots:
    // A client that pipelines and reads its answers is served in turns of at
    // most maxRequestsPerWakeup: another client's request, sent while the first
    // is being served, is answered before the first client's flood is through.
    void aPipeliningReaderCannotStarveTheOthers()
    {
        Limits limits; // the defaults: 16 requests a turn
        Server server(limits);
        QList<QByteArray> order; // paths in the order the handler saw them
        QTcpSocket other;
        server.setHandler([&](Request request, Responder responder) {
            order.append(request.path);
            if (order.size() == 1) {
                // The flood is being served: the other client asks now.
                other.write(get("/other"));
                other.flush();
            }
            responder.respond(Response::json(200, {{u"ok"_s, true}}));
        });
        QString error;
        QVERIFY2(server.listen(QHostAddress::LocalHost, 0, false, &error), qPrintable(error));

        QTcpSocket flooder;
        flooder.connectToHost(QHostAddress::LocalHost, server.port());
        other.connectToHost(QHostAddress::LocalHost, server.port());
        QVERIFY(flooder.waitForConnected(kWaitMs));
        QVERIFY(other.waitForConnected(kWaitMs));
        QTRY_COMPARE_WITH_TIMEOUT(server.connectionCount(), 2, kWaitMs);

        constexpr int kFlood = 400; // ~12 KiB: one read takes all of it
        QByteArray flood;
        for (int i = 0; i < kFlood; ++i)
            flood += get("/flood");
        flooder.write(flood);
        flooder.flush();
        QVERIFY(QTest::qWaitFor(
            [&] {
                flooder.readAll(); // it reads its answers
                return order.contains("/other") && order.count("/flood") == kFlood;
            },
            kWaitMs));
        const qsizetype before = order.indexOf("/other");
        qInfo("flood requests served before the other client's: %lld of %d", static_cast<long long>(before), kFlood);
        QVERIFY2(before < 4 * limits.maxRequestsPerWakeup,
                 qPrintable(u"the other client waited for %1 of the flood's requests"_s.arg(before)));
        QVERIFY(server.stats().budgetYields > 0);
    }

    // Clients that pipeline and never read: what the server holds for them
    // stays under its caps (per connection and in total), and it says so.
    void nonReadersStayUnderTheUnsentCaps()
    {
        Limits limits;
        limits.maxUnsentBytes = 16 * 1024;
        limits.maxUnsentBytesTotal = 64 * 1024;
        Server server(limits);
        const QByteArray answer(4000, 'x');
        int handled = 0;
        server.setHandler([&](Request, Responder responder) {
            ++handled;
            Response response;
            response.contentType = "text/plain";
            response.body = answer;
            responder.respond(std::move(response));
        });
        QString error;
        QVERIFY2(server.listen(QHostAddress::LocalHost, 0, false, &error), qPrintable(error));

        constexpr int kClients = 20;
        QByteArray flood;
        for (int i = 0; i < 2000; ++i)
            flood += get("/big");
        Fds clients;
        std::vector<qsizetype> sent(kClients, 0);
        for (int i = 0; i < kClients; ++i) {
            const int fd = openClient(server.port());
            QVERIFY(fd >= 0);
            clients.fds.push_back(fd);
        }
        // Every client keeps pipelining what the kernel takes; none reads. Done
        // when every connection has stopped over a cap.
        QVERIFY2(QTest::qWaitFor(
                     [&] {
                         for (int i = 0; i < kClients; ++i) {
                             if (sent[size_t(i)] < flood.size())
                                 sent[size_t(i)] += sendSome(clients.fds[size_t(i)], flood.sliced(sent[size_t(i)]));
                         }
                         return server.stats().writeBlocked >= kClients;
                     },
                     30000),
                 qPrintable(u"blocked: %1"_s.arg(server.stats().writeBlocked)));
        const http::ServerStats stats = server.stats();
        const qint64 oneAnswer = answer.size() + 200;
        qInfo("unsent %lld bytes over %d connections after %d requests", static_cast<long long>(stats.unsentBytes),
              kClients, handled);
        // Each connection may go over by the one answer that took it over.
        QVERIFY2(stats.unsentBytes <= limits.maxUnsentBytesTotal + kClients * oneAnswer,
                 qPrintable(QString::number(stats.unsentBytes)));
        QVERIFY(handled < kClients * 2000);
        clients.closeAll();
        QVERIFY(
            QTest::qWaitFor([&] { return server.stats().unsentBytes == 0 && server.connectionCount() == 0; }, kWaitMs));
    }

    // The per-address cap turns away the (cap+1)th connection of one address,
    // not another address's, and not an exempt subnet's.
    void perAddressCap()
    {
        Limits limits;
        limits.maxConnectionsPerAddress = 3;
        limits.uncappedPeers = {QHostAddress::parseSubnet(u"127.0.0.3/32"_s)};
        Server server(limits);
        server.setHandler([](Request, Responder responder) { responder.respond(Response::json(200, {})); });
        QString error;
        QVERIFY2(server.listen(QHostAddress::LocalHost, 0, false, &error), qPrintable(error));

        Fds held;
        for (int i = 0; i < 3; ++i)
            held.fds.push_back(openClient(server.port(), "127.0.0.1"));
        QTRY_COMPARE_WITH_TIMEOUT(server.connectionCount(), 3, kWaitMs);
        const int extra = openClient(server.port(), "127.0.0.1");
        held.fds.push_back(extra);
        QByteArray received;
        QVERIFY(QTest::qWaitFor([&] { return statusOn(extra, received) != 0; }, kWaitMs));
        QVERIFY2(received.startsWith("HTTP/1.1 503"), received.constData());
        QVERIFY(received.contains("Retry-After: 1"));
        QCOMPARE(server.stats().refusedPerAddress, 1);
        QCOMPARE(server.connectionCount(), 3);

        for (const char *from : {"127.0.0.2", "127.0.0.3", "127.0.0.3", "127.0.0.3", "127.0.0.3"}) {
            const int fd = openClient(server.port(), from);
            held.fds.push_back(fd);
            QVERIFY(sendSome(fd, get("/")) > 0 || QTest::qWaitFor([&] { return sendSome(fd, get("/")) > 0; }, kWaitMs));
            QByteArray answer;
            QVERIFY(QTest::qWaitFor([&] { return statusOn(fd, answer) != 0; }, kWaitMs));
            QVERIFY2(answer.startsWith("HTTP/1.1 200"),
                     qPrintable(QLatin1String(from) + u": "_s + QString::fromLatin1(answer)));
        }
        QCOMPARE(server.stats().refusedPerAddress, 1);
        QCOMPARE(server.connectionCount(), 8);
    }

    // An idle flood that fills the public listener's connection cap leaves the
    // admin listener's /healthz, /readyz and /metrics answering.
    void adminAnswersWhileThePublicListenerIsFull()
    {
        constexpr int kCap = 40;
        test::GatewayProcess gateway({u"--set"_s, u"gateway.max.connections=%1"_s.arg(kCap), u"--set"_s,
                                      u"gateway.max.connections.per.address=0"_s, u"--set"_s,
                                      u"gateway.read.timeout.ms=600000"_s});
        QVERIFY2(gateway.start().isEmpty(), qPrintable(gateway.output()));
        const quint16 admin = gateway.adminPort();
        QVERIFY(admin > 0);
        Fds flood;
        for (int i = 0; i < kCap + 20; ++i)
            flood.fds.push_back(openClient(gateway.port()));
        QVERIFY2(test::waitFor([&] { return metric(admin, "coupon_gateway_connections") == kCap; }, kWaitMs),
                 qPrintable(gateway.output().right(2000)));
        QVERIFY(test::waitFor(
            [&] { return metric(admin, "coupon_gateway_connections_refused_total{cap=\"global\"}") >= 20; }, kWaitMs));
        for (int i = 0; i < 30; ++i)
            QCOMPARE(test::http(admin, "GET", "/healthz").status, 200);
        QVERIFY(test::waitFor([&] { return test::http(admin, "GET", "/readyz").status == 200; }, 30000));
        // The public listener turns the next client away, as it should.
        QCOMPARE(test::http(gateway.port(), "GET", "/healthz").status, 503);
        flood.closeAll();
        QVERIFY(test::waitFor([&] { return test::http(gateway.port(), "GET", "/healthz").status == 200; }, kWaitMs));
        QCOMPARE(gateway.terminate(), 0);
    }

    // gateway.max.connections.per.address, on the gateway, counted in /metrics.
    void gatewayPerAddressCap()
    {
        test::GatewayProcess gateway({u"--set"_s, u"gateway.max.connections.per.address=4"_s, u"--set"_s,
                                      u"gateway.trusted.proxies=127.0.0.3/32"_s});
        QVERIFY2(gateway.start().isEmpty(), qPrintable(gateway.output()));
        Fds held;
        for (int i = 0; i < 4; ++i)
            held.fds.push_back(openClient(gateway.port(), "127.0.0.1"));
        QVERIFY(test::waitFor([&] { return metric(gateway.adminPort(), "coupon_gateway_connections") == 4; }, kWaitMs));
        const test::HttpResult refused = test::http(gateway.port(), "GET", "/healthz");
        QCOMPARE(refused.status, 503);
        QCOMPARE(QJsonDocument::fromJson(refused.body).object().value(u"code"_s).toString(), u"overloaded"_s);
        QCOMPARE(metric(gateway.adminPort(), "coupon_gateway_connections_refused_total{cap=\"per_address\"}"), 1);
        const int fd = openClient(gateway.port(), "127.0.0.2");
        held.fds.push_back(fd);
        QVERIFY(test::waitFor([&] { return sendSome(fd, get("/healthz")) > 0; }, kWaitMs));
        QByteArray answer;
        QVERIFY(test::waitFor([&] { return statusOn(fd, answer) != 0; }, kWaitMs));
        QVERIFY2(answer.startsWith("HTTP/1.1 200"), answer.constData());
        // A trusted proxy (gateway.trusted.proxies) carries many clients: no per-address cap for it.
        for (int i = 0; i < 6; ++i)
            held.fds.push_back(openClient(gateway.port(), "127.0.0.3"));
        QVERIFY(
            test::waitFor([&] { return metric(gateway.adminPort(), "coupon_gateway_connections") == 11; }, kWaitMs));
        QCOMPARE(metric(gateway.adminPort(), "coupon_gateway_connections_refused_total{cap=\"per_address\"}"), 1);
        QCOMPARE(gateway.terminate(), 0);
    }

    // Out of descriptors: the gateway stops accepting (no spinning on EMFILE),
    // says so once, counts it, and takes the waiting connections once
    // descriptors are free again.
    void outOfDescriptorsPausesAccepting()
    {
        // A cap above what 256 descriptors allow, so accept() meets EMFILE.
        LimitedGateway gateway(256,
                               {u"--set"_s, u"gateway.max.connections=1000"_s, u"--set"_s,
                                u"gateway.max.connections.per.address=0"_s, u"--set"_s,
                                u"gateway.read.timeout.ms=600000"_s});
        QVERIFY2(gateway.start().isEmpty(), qPrintable(gateway.output()));
        const quint16 admin = gateway.adminPort();
        QVERIFY(test::waitFor([&] { return test::http(admin, "GET", "/readyz").status == 200; }, 30000));
        Fds flood;
        for (int i = 0; i < 400; ++i)
            flood.fds.push_back(openClient(gateway.port()));
        static const QRegularExpression paused(u"accept\\(\\) failed"_s);
        QVERIFY2(test::waitFor([&] { return gateway.output().contains(paused); }, kWaitMs),
                 qPrintable(gateway.output().right(2000)));
        // Paused, not spinning: over the next 2 s it must not use 0.3 s of CPU
        // (before, accept4() failed in a loop at 65 % of a core).
        const qint64 ticks = cpuTicks(gateway.pid());
        const qint64 perSecond = ::sysconf(_SC_CLK_TCK);
        QVERIFY(ticks >= 0);
        const bool spun = test::waitFor([&] { return cpuTicks(gateway.pid()) - ticks > perSecond * 3 / 10; }, 2000);
        QVERIFY2(!spun, qPrintable(u"%1 ticks in the episode"_s.arg(cpuTicks(gateway.pid()) - ticks)));

        flood.closeAll();
        QVERIFY2(test::waitFor([&] { return gateway.output().contains(u"accepting again"_s); }, kWaitMs),
                 qPrintable(gateway.output().right(2000)));
        QVERIFY(test::waitFor([&] { return metric(admin, "coupon_gateway_accept_pauses_total") == 1; }, kWaitMs));
        QCOMPARE(metric(admin, "coupon_gateway_accept_paused"), 0);
        QCOMPARE(gateway.output().count(paused), 1);
        QVERIFY(test::waitFor([&] { return test::http(gateway.port(), "GET", "/healthz").status == 200; }, kWaitMs));
        QCOMPARE(gateway.terminate(), 0);
    }
};

QTEST_GUILESS_MAIN(TestServerLimits)
#include "tst_server_limits.moc"
