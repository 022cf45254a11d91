#include "coupon/http/response_parser.h"
#include "coupon/http/server.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <sys/socket.h>

using namespace Qt::StringLiterals;
using coupon::http::Limits;
using coupon::http::Request;
using coupon::http::Responder;
using coupon::http::Response;
using coupon::http::Server;

namespace {

constexpr int kWaitMs = 5000;

// A response as the server sent it, with the JSON error body at hand.
struct RawResponse : coupon::http::ReceivedResponse
{
    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
    QString code() const { return json().value(u"code"_s).toString(); }
};

// Literal bytes including NULs.
template <size_t N>
QByteArray raw(const char (&text)[N])
{
    return QByteArray(text, N - 1);
}

// A raw HTTP client: bytes out, bytes in, waits run the event loop (the server
// lives on this thread too).
class Client
{
public:
    explicit Client(quint16 port, const QHostAddress &host = QHostAddress::LocalHost)
    {
        QObject::connect(&m_socket, &QTcpSocket::readyRead, &m_socket, [this] {
            if (!m_paused)
                drain();
        });
        m_socket.connectToHost(host, port);
    }

    QTcpSocket &socket() { return m_socket; }
    // Received and not yet taken by response().
    QByteArray unread()
    {
        drain();
        return m_received.sliced(m_offset);
    }
    void skipUnread()
    {
        m_offset = m_received.size();
        m_parser.reset();
    }

    bool waitConnected()
    {
        return QTest::qWaitFor([this] { return m_socket.state() == QAbstractSocket::ConnectedState; }, kWaitMs);
    }
    void send(const QByteArray &bytes)
    {
        m_socket.write(bytes);
        m_socket.flush();
    }
    std::optional<RawResponse> response(int timeoutMs = kWaitMs)
    {
        QList<RawResponse> one = responses(1, timeoutMs);
        if (one.isEmpty())
            return std::nullopt;
        return one.takeFirst();
    }
    // Waits until `count` responses arrived, the connection closed, or the deadline.
    QList<RawResponse> responses(int count, int timeoutMs = kWaitMs)
    {
        QList<RawResponse> result;
        waitOnSocket(
            [&] {
                drain();
                while (result.size() < count) {
                    auto one = takeResponse();
                    if (!one)
                        break;
                    result.append(std::move(*one));
                }
                return result.size() == count;
            },
            timeoutMs);
        if (m_offset > (1 << 20)) {
            m_received.remove(0, m_offset);
            m_offset = 0;
        }
        return result;
    }
    bool waitClosed(int timeoutMs = kWaitMs)
    {
        return QTest::qWaitFor(
            [this] {
                drain();
                return m_socket.state() == QAbstractSocket::UnconnectedState;
            },
            timeoutMs);
    }
    // Stops reading so the kernel buffers fill up and the server sees a slow reader.
    void pauseReading()
    {
        m_paused = true;
        m_socket.setReadBufferSize(4096);
    }
    void resumeReading()
    {
        m_paused = false;
        m_socket.setReadBufferSize(0);
        drain();
    }

private:
    // Runs the event loop until `done` holds, the socket disconnects or the deadline
    // passes, re-checking whenever bytes arrive: no polling sleeps, so thousands of
    // round trips stay fast.
    bool waitOnSocket(const std::function<bool()> &done, int timeoutMs)
    {
        if (done())
            return true;
        if (m_socket.state() == QAbstractSocket::UnconnectedState)
            return false;
        QEventLoop loop;
        QTimer deadline;
        deadline.setSingleShot(true);
        QObject::connect(&deadline, &QTimer::timeout, &loop, &QEventLoop::quit);
        QObject::connect(&m_socket, &QTcpSocket::readyRead, &loop, [&] {
            if (done())
                loop.quit();
        });
        QObject::connect(&m_socket, &QTcpSocket::disconnected, &loop, &QEventLoop::quit);
        deadline.start(timeoutMs);
        loop.exec();
        return done();
    }

    void drain()
    {
        if (m_socket.bytesAvailable() > 0)
            m_received += m_socket.readAll();
    }

    // Takes one complete HTTP/1.1 response from m_received at m_offset and moves
    // m_offset past it; nullopt while incomplete (or not a response at all).
    std::optional<RawResponse> takeResponse()
    {
        if (m_parser.parse(QByteArrayView(m_received).sliced(m_offset))
            != coupon::http::ResponseParser::Progress::Complete)
            return std::nullopt;
        if (m_parser.response().version != "HTTP/1.1")
            return std::nullopt; // not taken: the same bytes give the same answer next time
        m_offset += m_parser.consumed();
        return RawResponse{m_parser.takeResponse()};
    }

    QTcpSocket m_socket;
    QByteArray m_received;
    qsizetype m_offset = 0;
    coupon::http::ResponseParser m_parser; // from m_offset

    bool m_paused = false;
};

QString latin1(const QByteArray &bytes)
{
    return QString::fromLatin1(bytes);
}

QByteArray get(const QByteArray &target, const QByteArray &extra = {})
{
    return "GET " + target + " HTTP/1.1\r\nHost: test\r\n" + extra + "\r\n";
}

enum class Send { All, Slowly, Half };

} // namespace

Q_DECLARE_METATYPE(Send)

class TestHttp : public QObject
{
    Q_OBJECT

private:
    // Echo handler: /drop drops the Responder, /hold keeps it in m_held,
    // /async* answers from the event loop, a query with "big" gets a 32 KiB
    // answer ("huge": 4 MiB), /nocontent answers 204,
    // /badheader sets a header that would split the response.
    void handle(Request request, Responder responder)
    {
        ++m_requests;
        if (request.path == "/drop")
            return;
        if (request.path == "/hold") {
            m_held.push_back(std::move(responder));
            return;
        }
        if (request.path == "/nocontent") {
            Response response;
            response.status = 204;
            response.body = "ignored";
            responder.respond(std::move(response));
            return;
        }
        QJsonObject echo{
            {u"method"_s, latin1(request.method)},
            {u"path"_s, latin1(request.path)},
            {u"query"_s, latin1(request.query)},
            {u"body"_s, QString::fromUtf8(request.body)},
            {u"x-test"_s, latin1(request.header("x-test"))},
            {u"hasXTest"_s, request.hasHeader("x-test")},
            {u"headers"_s, int(request.headers.size())},
            {u"peer"_s, request.peer.toString()},
        };
        if (request.query.contains("huge"))
            echo.insert(u"pad"_s, QString(4 * 1024 * 1024, u'x'));
        else if (request.query.contains("big"))
            echo.insert(u"pad"_s, QString(32 * 1024, u'x'));
        Response response = Response::json(200, echo);
        response.headers.append({QByteArrayLiteral("X-Echo"), QByteArrayLiteral("1")});
        if (request.path == "/badheader")
            response.headers.append({QByteArrayLiteral("X-Bad"), QByteArrayLiteral("a\r\nSet-Cookie: x=1")});
        if (request.path.startsWith("/async")) {
            QTimer::singleShot(0, this, [responder = std::move(responder), response = std::move(response)]() mutable {
                responder.respond(std::move(response));
            });
            return;
        }
        responder.respond(std::move(response));
    }

    std::unique_ptr<Server> startServer(Limits limits = {})
    {
        auto server = std::make_unique<Server>(limits);
        server->setHandler(
            [this](Request request, Responder responder) { handle(std::move(request), std::move(responder)); });
        QString error;
        if (!server->listen(QHostAddress::LocalHost, 0, false, &error)) {
            qWarning("listen failed: %s", qPrintable(error));
            return nullptr;
        }
        return server;
    }

    std::vector<Responder> m_held;
    int m_requests = 0;

private slots:
    void init()
    {
        m_held.clear();
        m_requests = 0;
    }

    void requestHeaderLookup()
    {
        Request request;
        request.headers = {{"x-a", "1"}, {"x-b", "2"}, {"x-a", "3"}};
        QCOMPARE(request.header("x-a"), QByteArray("3"));
        QCOMPARE(request.header("x-b"), QByteArray("2"));
        QCOMPARE(request.header("x-c"), QByteArray());
        QVERIFY(request.hasHeader("x-b"));
        QVERIFY(!request.hasHeader("x-c"));
    }

    void errorShape()
    {
        const Response response = Response::error(409, u"duplicate"_s, u"already applied"_s);
        QCOMPARE(response.status, 409);
        QCOMPARE(response.contentType, QByteArray("application/json"));
        const QJsonObject body = QJsonDocument::fromJson(response.body).object();
        QCOMPARE(body.value(u"code"_s).toString(), u"duplicate"_s);
        QCOMPARE(body.value(u"message"_s).toString(), u"already applied"_s);
        QCOMPARE(body.size(), 2);
    }

    void roundTrip_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<QString>("method");
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("query");
        QTest::addColumn<QString>("body");
        QTest::addColumn<QString>("xTest");

        QTest::newRow("get with query") << get("/echo?a=1&b=%20", "X-Test: hello\r\n") << u"GET"_s << u"/echo"_s
                                        << u"a=1&b=%20"_s << QString() << u"hello"_s;
        QTest::newRow("post with body") << QByteArray(
            "POST /apply HTTP/1.1\r\nContent-Length: 11\r\nX-Test:   padded\t \r\n\r\n{\"user\":42}")
                                        << u"POST"_s << u"/apply"_s << QString() << u"{\"user\":42}"_s << u"padded"_s;
        QTest::newRow("percent-encoding kept")
            << get("/a%2Fb") << u"GET"_s << u"/a%2Fb"_s << QString() << QString() << QString();
        QTest::newRow("empty query") << get("/p?") << u"GET"_s << u"/p"_s << QString() << QString() << QString();
        QTest::newRow("identical Content-Length twice")
            << QByteArray("PUT /x HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nok") << u"PUT"_s << u"/x"_s
            << QString() << u"ok"_s << QString();
        QTest::newRow("Content-Length list of equal values")
            << QByteArray("PATCH /x HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\nok") << u"PATCH"_s << u"/x"_s << QString()
            << u"ok"_s << QString();
        QTest::newRow("empty lines before the request") << QByteArray("\r\n\r\n") + get("/after-crlf") << u"GET"_s
                                                        << u"/after-crlf"_s << QString() << QString() << QString();
        QTest::newRow("last header wins") << get("/", "X-Test: first\r\nX-Test: second\r\n") << u"GET"_s << u"/"_s
                                          << QString() << QString() << u"second"_s;
        QTest::newRow("header names are case-insensitive")
            << get("/", "x-TeSt: MiXeD\r\n") << u"GET"_s << u"/"_s << QString() << QString() << u"MiXeD"_s;
        QTest::newRow("empty header value")
            << get("/", "X-Test:\r\n") << u"GET"_s << u"/"_s << QString() << QString() << QString();
        QTest::newRow("extension method") << QByteArray("PURGE /cache HTTP/1.1\r\n\r\n") << u"PURGE"_s << u"/cache"_s
                                          << QString() << QString() << QString();
        QTest::newRow("GET with a body") << QByteArray("GET /g HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc") << u"GET"_s
                                         << u"/g"_s << QString() << u"abc"_s << QString();
        QTest::newRow("DELETE without body") << QByteArray("DELETE /d HTTP/1.1\r\n\r\n") << u"DELETE"_s << u"/d"_s
                                             << QString() << QString() << QString();
        QTest::newRow("obs-text in a value") << get("/", "X-Test: caf\xc3\xa9\r\n") << u"GET"_s << u"/"_s << QString()
                                             << QString() << u"caf\u00c3\u00a9"_s;
    }

    void roundTrip()
    {
        QFETCH(QByteArray, request);
        QFETCH(QString, method);
        QFETCH(QString, path);
        QFETCH(QString, query);
        QFETCH(QString, body);
        QFETCH(QString, xTest);

        auto server = startServer();
        QVERIFY(server);
        Client client(server->port());
        QVERIFY(client.waitConnected());
        client.send(request);
        const auto response = client.response();
        QVERIFY2(response, client.unread().constData());
        QCOMPARE(response->status, 200);
        QCOMPARE(response->header("content-type"), QByteArray("application/json"));
        QCOMPARE(response->header("connection"), QByteArray("keep-alive"));
        QCOMPARE(response->header("x-echo"), QByteArray("1"));
        QVERIFY(response->header("date").endsWith(" GMT"));
        const QJsonObject echo = response->json();
        QCOMPARE(echo.value(u"method"_s).toString(), method);
        QCOMPARE(echo.value(u"path"_s).toString(), path);
        QCOMPARE(echo.value(u"query"_s).toString(), query);
        QCOMPARE(echo.value(u"body"_s).toString(), body);
        QCOMPARE(echo.value(u"x-test"_s).toString(), xTest);
        QCOMPARE(echo.value(u"peer"_s).toString(), u"127.0.0.1"_s);
        QCOMPARE(server->inFlight(), 0);
    }

    void keepAlive()
    {
        auto server = startServer();
        QVERIFY(server);
        Client client(server->port());
        QVERIFY(client.waitConnected());
        for (int i = 1; i <= 3; ++i) {
            client.send(get("/k?n=" + QByteArray::number(i)));
            const auto response = client.response();
            QVERIFY(response);
            QCOMPARE(response->status, 200);
            QCOMPARE(response->json().value(u"query"_s).toString(), u"n=%1"_s.arg(i));
            QCOMPARE(client.socket().state(), QAbstractSocket::ConnectedState);
            QCOMPARE(server->connectionCount(), 1);
        }
    }

    void pipelinedInOrder()
    {
        auto server = startServer();
        QVERIFY(server);
        Client client(server->port());
        QVERIFY(client.waitConnected());
        // The first is answered later than the second would be: order must hold anyway.
        client.send(QByteArray(get("/async?n=1") + "POST /sync?n=2 HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"
                               + get("/sync?n=3")));
        for (int i = 1; i <= 3; ++i) {
            const auto response = client.response();
            QVERIFY2(response, qPrintable(u"response %1"_s.arg(i)));
            QCOMPARE(response->json().value(u"query"_s).toString(), u"n=%1"_s.arg(i));
        }
        QCOMPARE(m_requests, 3);
    }

    void pipelinedFloodWithSlowReader()
    {
        // More requests than the server's read buffer, answers more than the
        // socket buffers: the server must stop and resume, never lose or reorder.
        auto server = startServer();
        QVERIFY(server);
        Client client(server->port());
        QVERIFY(client.waitConnected());
        client.pauseReading();
        constexpr int count = 20000;
        QByteArray all;
        for (int i = 0; i < count; ++i) {
            all += get(((i % 100 == 0) ? "/async?n=" : "/sync?n=") + QByteArray::number(i)
                       + ((i % 20 == 1) ? "&big" : ""));
        }
        client.send(all);
        // Let the server run until it makes no more progress: with ~32 MB of answers
        // unread it has to stop reading requests (backpressure) instead of buffering.
        int handled = -1;
        QElapsedTimer quiet;
        QVERIFY(QTest::qWaitFor(
            [&] {
                if (m_requests != handled) {
                    handled = m_requests;
                    quiet.restart();
                }
                return quiet.elapsed() > 300;
            },
            20000));
        QVERIFY2(m_requests > 0 && m_requests < count, qPrintable(QString::number(m_requests)));
        client.resumeReading();
        const QList<RawResponse> responses = client.responses(count, 30000);
        QCOMPARE(responses.size(), count);
        for (int i = 0; i < count; ++i) {
            const QString query = responses[i].json().value(u"query"_s).toString();
            QCOMPARE(query, u"n=%1"_s.arg(i) + ((i % 20 == 1) ? u"&big"_s : QString()));
        }
        QCOMPARE(server->connectionCount(), 1);
    }

    void connectionHeader_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<bool>("keptAlive");

        QTest::newRow("1.1 default") << get("/") << true;
        QTest::newRow("1.1 close") << get("/", "Connection: close\r\n") << false;
        QTest::newRow("1.1 Close in a list") << get("/", "Connection: foo, Close\r\n") << false;
        QTest::newRow("1.1 keep-alive") << get("/", "Connection: keep-alive\r\n") << true;
        QTest::newRow("1.0 default") << QByteArray("GET / HTTP/1.0\r\n\r\n") << false;
        QTest::newRow("1.0 keep-alive") << QByteArray("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") << true;
        QTest::newRow("1.0 keep-alive and close")
            << QByteArray("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n") << false;
    }

    void connectionHeader()
    {
        QFETCH(QByteArray, request);
        QFETCH(bool, keptAlive);

        auto server = startServer();
        QVERIFY(server);
        Client client(server->port());
        QVERIFY(client.waitConnected());
        client.send(request);
        auto response = client.response();
        QVERIFY(response);
        QCOMPARE(response->status, 200);
        QCOMPARE(response->header("connection"), keptAlive ? QByteArray("keep-alive") : QByteArray("close"));
        if (!keptAlive) {
            QVERIFY(client.waitClosed());
            QTRY_COMPARE_WITH_TIMEOUT(server->connectionCount(), 0, kWaitMs);
            return;
        }
        client.send(request);
        response = client.response();
        QVERIFY(response);
        QCOMPARE(response->status, 200);
    }

    void asyncAnswer()
    {
        auto server = startServer();
        QVERIFY(server);
        Client client(server->port());
        QVERIFY(client.waitConnected());
        client.send(get("/async?x=1", "X-Test: later\r\n"));
        const auto response = client.response();
        QVERIFY(response);
        QCOMPARE(response->status, 200);
        QCOMPARE(response->json().value(u"x-test"_s).toString(), u"later"_s);
        QCOMPARE(server->inFlight(), 0);
    }

    void droppedResponderAnswers500()
    {
        auto server = startServer();
        QVERIFY(server);
        Client client(server->port());
        QVERIFY(client.waitConnected());
        client.send(get("/drop"));
        auto response = client.response();
        QVERIFY(response);
        QCOMPARE(response->status, 500);
        QCOMPARE(response->code(), u"internal"_s);
        QCOMPARE(response->json().value(u"message"_s).toString(), u"no response"_s);
        QCOMPARE(server->inFlight(), 0);
        // Still usable afterwards.
        client.send(get("/after"));
        response = client.response();
        QVERIFY(response);
        QCOMPARE(response->status, 200);
    }

    void heldResponder()
    {
        auto server = startServer();
        QVERIFY(server);
        Client client(server->port());
        QVERIFY(client.waitConnected());
        client.send(get("/hold") + get("/queued"));
        QTRY_COMPARE_WITH_TIMEOUT(server->inFlight(), 1, kWaitMs);
        QCOMPARE(m_held.size(), size_t(1));
        QVERIFY(m_held.front().isConnected());
        QCOMPARE(m_requests, 1); // the pipelined second request waits for the first answer

        // A moved Responder carries the obligation; the moved-from one is inert.
        Responder moved = std::move(m_held.front());
        QVERIFY(!m_held.front().isConnected());
        m_held.front().respond(Response::json(200, {}));
        QCOMPARE(server->inFlight(), 1);

        moved.respond(Response::json(201, {{u"done"_s, true}}));
        QVERIFY(!moved.isConnected());
        moved.respond(Response::json(200, {})); // second answer: no-op
        auto response = client.response();
        QVERIFY(response);
        QCOMPARE(response->status, 201);
        response = client.response();
        QVERIFY(response);
        QCOMPARE(response->json().value(u"path"_s).toString(), u"/queued"_s);
        QCOMPARE(m_requests, 2);
        QCOMPARE(server->inFlight(), 0);
    }

    void respondAfterClientLeft()
    {
        auto server = startServer();
        QVERIFY(server);
        {
            Client client(server->port());
            QVERIFY(client.waitConnected());
            client.send(get("/hold"));
            QTRY_COMPARE_WITH_TIMEOUT(server->inFlight(), 1, kWaitMs);
            client.socket().abort();
        }
        QCOMPARE(m_held.size(), size_t(1));
        QTRY_VERIFY_WITH_TIMEOUT(!m_held.front().isConnected(), kWaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(server->connectionCount(), 0, kWaitMs);
        QCOMPARE(server->inFlight(), 1);
        m_held.front().respond(Response::json(200, {}));
        QCOMPARE(server->inFlight(), 0);
        m_held.clear();

        // Destroying the server with a request outstanding leaves the Responder inert.
        Client other(server->port());
        QVERIFY(other.waitConnected());
        other.send(get("/hold"));
        QTRY_COMPARE_WITH_TIMEOUT(server->inFlight(), 1, kWaitMs);
        server.reset();
        QVERIFY(!m_held.front().isConnected());
        m_held.front().respond(Response::json(200, {}));
        m_held.clear();
        QVERIFY(other.waitClosed());
    }

    void malformed_data()
    {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<Send>("mode");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("code");

        const QByteArray longTarget(3000, 'a');
        const QByteArray hugeHeader = "X-Big: " + QByteArray(9000, 'b') + "\r\n";
        QByteArray manyHeaders;
        for (int i = 0; i < 500; ++i)
            manyHeaders += "X-H" + QByteArray::number(i) + ": 0123456789\r\n";

        const auto row = [](const char *name, const QByteArray &input, int status, const QString &code,
                            Send mode = Send::All) { QTest::newRow(name) << input << mode << status << code; };
        const QString bad = u"bad_request"_s;

        row("request line garbage", "HELLO\r\n\r\n", 400, bad);
        row("TLS handshake bytes", QByteArray::fromHex("16030100a5010000a10303"), 400, bad);
        row("NUL in the method", raw("GE\0T / HTTP/1.1\r\n\r\n"), 400, bad);
        row("NUL in the target", raw("GET /\0 HTTP/1.1\r\n\r\n"), 400, bad);
        row("NUL in a header value", raw("GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n"), 400, bad);
        row("non-token method", "GE(T / HTTP/1.1\r\n\r\n", 400, bad);
        row("two spaces", "GET  / HTTP/1.1\r\n\r\n", 400, bad);
        row("no version", "GET /\r\n\r\n", 400, bad);
        row("lower-case version", "GET / http/1.1\r\n\r\n", 400, bad);
        row("target without slash", "GET index.html HTTP/1.1\r\n\r\n", 400, bad);
        row("absolute-form target", "GET http://example.com/ HTTP/1.1\r\n\r\n", 400, bad);
        row("fragment in target", "GET /a#b HTTP/1.1\r\n\r\n", 400, bad);
        row("bare LF", "GET / HTTP/1.1\n\n", 400, bad);
        row("bare LF in headers", "GET / HTTP/1.1\r\nHost: x\n\r\n", 400, bad);
        row("lone CR in a header", "GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n", 400, bad);
        row("header without colon", get("/", "Host localhost\r\n"), 400, bad);
        row("space before colon", get("/", "Host : localhost\r\n"), 400, bad);
        row("empty header name", get("/", ": value\r\n"), 400, bad);
        row("obs-fold", get("/", "X-A: one\r\n two\r\n"), 400, bad);
        row("HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", 505, u"version_not_supported"_s);
        row("HTTP/1.2", "GET / HTTP/1.2\r\n\r\n", 505, u"version_not_supported"_s);
        row("HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", 505, u"version_not_supported"_s);
        row("request line too long", "GET /" + longTarget + " HTTP/1.1\r\n\r\n", 414, u"uri_too_long"_s);
        row("endless request line", QByteArray(5000, 'A'), 414, u"uri_too_long"_s);
        row("huge header", get("/", hugeHeader), 431, u"header_too_large"_s);
        row("too many headers", get("/", manyHeaders), 431, u"header_too_large"_s);
        // Only the head is sent: the 413 has to come before any body byte.
        row("body over 4 KiB by Content-Length", "POST / HTTP/1.1\r\nContent-Length: 4097\r\n\r\n", 413,
            u"body_too_large"_s);
        row("absurd Content-Length", "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413,
            u"body_too_large"_s);
        row("Transfer-Encoding chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            411, u"length_required"_s);
        row("Transfer-Encoding with Content-Length",
            "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 411, u"length_required"_s);
        row("POST without Content-Length", "POST / HTTP/1.1\r\nHost: x\r\n\r\n", 411, u"length_required"_s);
        row("PUT without Content-Length", "PUT / HTTP/1.1\r\n\r\n", 411, u"length_required"_s);
        row("PATCH without Content-Length", "PATCH / HTTP/1.1\r\n\r\n", 411, u"length_required"_s);
        row("Content-Length abc", "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400, bad);
        row("Content-Length -1", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, bad);
        row("Content-Length +1", "POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n1", 400, bad);
        row("Content-Length empty", "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 400, bad);
        row("Content-Length 1.5", "POST / HTTP/1.1\r\nContent-Length: 1.5\r\n\r\n", 400, bad);
        row("two different Content-Length", "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400,
            bad);
        row("conflicting Content-Length list", "POST / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\nab", 400, bad);
        row("sent very slowly", get("/"), 408, u"timeout"_s, Send::Slowly);
        row("half a request line, then silence", "GET / HTT", 408, u"timeout"_s, Send::Half);
        row("headers without end, then silence", "GET / HTTP/1.1\r\nHost: x\r\n", 408, u"timeout"_s, Send::Half);
        row("half a body, then silence", "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", 408, u"timeout"_s,
            Send::Half);
    }

    void malformed()
    {
        QFETCH(QByteArray, input);
        QFETCH(Send, mode);
        QFETCH(int, status);
        QFETCH(QString, code);

        Limits limits;
        limits.readTimeoutMs = 300;
        auto server = startServer(limits);
        QVERIFY(server);
        Client client(server->port());
        QVERIFY(client.waitConnected());

        QTimer drip;
        qsizetype sent = 0;
        if (mode == Send::Slowly) {
            // One byte every 100 ms: the whole request would take 2.6 s.
            connect(&drip, &QTimer::timeout, &client.socket(), [&] {
                if (sent < input.size() && client.socket().state() == QAbstractSocket::ConnectedState)
                    client.send(input.sliced(sent++, 1));
            });
            drip.start(100);
        } else {
            client.send(input);
        }

        const auto response = client.response();
        QVERIFY2(response, client.unread().toHex().constData());
        QCOMPARE(response->status, status);
        QCOMPARE(response->code(), code);
        QCOMPARE(response->header("content-type"), QByteArray("application/json"));
        QCOMPARE(response->header("connection"), QByteArray("close"));
        QVERIFY(!response->json().value(u"message"_s).toString().isEmpty());
        QVERIFY(client.waitClosed());
        QVERIFY(client.unread().isEmpty()); // nothing after the error
        QCOMPARE(m_requests, 0);
        QTRY_COMPARE_WITH_TIMEOUT(server->connectionCount(), 0, kWaitMs);
    }

    void bodyTooLargeIsAnsweredBeforeTheBody()
    {
        auto server = startServer();
        QVERIFY(server);
        Client client(server->port());
        QVERIFY(client.waitConnected());
        client.send("POST /apply HTTP/1.1\r\nContent-Length: 200000\r\n\r\n");
        const auto response = client.response();
        QVERIFY(response);
        QCOMPARE(response->status, 413);
        QCOMPARE(response->code(), u"body_too_large"_s);
        // A client that sends the body anyway is drained, not reset, then closed.
        client.send(QByteArray(200000, 'x'));
        QVERIFY(client.waitClosed());
        QCOMPARE(m_requests, 0);
        QTRY_COMPARE_WITH_TIMEOUT(server->connectionCount(), 0, kWaitMs);
    }

    void expectContinue()
    {
        auto server = startServer();
        QVERIFY(server);
        Client client(server->port());
        QVERIFY(client.waitConnected());
        client.send("POST /e HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
        const QByteArray interim = "HTTP/1.1 100 Continue\r\n\r\n";
        QTRY_COMPARE_WITH_TIMEOUT(client.unread(), interim, kWaitMs);
        client.skipUnread();
        client.send("hello");
        const auto response = client.response();
        QVERIFY(response);
        QCOMPARE(response->status, 200);
        QCOMPARE(response->json().value(u"body"_s).toString(), u"hello"_s);
    }

    void responseHeaders()
    {
        auto server = startServer();
        QVERIFY(server);
        Client client(server->port());
        QVERIFY(client.waitConnected());

        client.send(get("/nocontent"));
        auto response = client.response();
        QVERIFY(response);
        QCOMPARE(response->status, 204);
        QVERIFY(!response->hasHeader("content-length"));
        QVERIFY(response->body.isEmpty());

        QTest::ignoreMessage(QtWarningMsg, "coupon::http: dropping response header \"X-Bad\"");
        client.send(get("/badheader"));
        response = client.response();
        QVERIFY(response);
        QCOMPARE(response->status, 200);
        QVERIFY(!response->hasHeader("x-bad"));
        QVERIFY(!response->hasHeader("set-cookie"));
        QCOMPARE(response->header("x-echo"), QByteArray("1"));
    }

    void byteByByte()
    {
        auto server = startServer();
        QVERIFY(server);
        Client client(server->port());
        QVERIFY(client.waitConnected());
        const QByteArray request = "POST /tiny HTTP/1.1\r\nContent-Length: 4\r\nX-Test: t\r\n\r\nbody";
        QTimer drip;
        qsizetype sent = 0;
        connect(&drip, &QTimer::timeout, &client.socket(), [&] {
            if (sent < request.size())
                client.send(request.sliced(sent++, 1));
        });
        drip.start(1);
        const auto response = client.response();
        QVERIFY(response);
        QCOMPARE(response->status, 200);
        QCOMPARE(response->json().value(u"body"_s).toString(), u"body"_s);
        QCOMPARE(sent, request.size());
    }

    void idleConnectionsAreClosedQuietly_data()
    {
        QTest::addColumn<bool>("afterARequest");
        QTest::newRow("new connection, nothing sent") << false;
        QTest::newRow("kept alive after a request") << true;
    }

    void idleConnectionsAreClosedQuietly()
    {
        QFETCH(bool, afterARequest);
        Limits limits;
        limits.readTimeoutMs = 300;
        limits.idleTimeoutMs = 300;
        auto server = startServer(limits);
        QVERIFY(server);
        Client client(server->port());
        QVERIFY(client.waitConnected());
        if (afterARequest) {
            client.send(get("/"));
            const auto response = client.response();
            QVERIFY(response);
            QCOMPARE(response->status, 200);
        }
        QVERIFY(client.waitClosed());
        QVERIFY(client.unread().isEmpty());
        QTRY_COMPARE_WITH_TIMEOUT(server->connectionCount(), 0, kWaitMs);
    }

    // A client that shuts down its sending side after its requests still gets
    // the answers given to the complete ones (also when one is larger than the
    // socket takes at once); then the server closes.
    void halfClosedClients_data()
    {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<int>("answers");
        QTest::newRow("nothing") << QByteArray() << 0;
        QTest::newRow("half a request") << QByteArray("GET / HT") << 0;
        QTest::newRow("a whole request") << get("/") << 1;
        QTest::newRow("three pipelined") << QByteArray(get("/sync?n=1") + get("/sync?n=2") + get("/sync?n=3")) << 3;
        QTest::newRow("HTTP/1.0") << QByteArray("GET /sync?n=1 HTTP/1.0\r\n\r\n") << 1;
        QTest::newRow("a big answer, connection close") << get("/sync?big=1", "Connection: close\r\n") << 1;
        QTest::newRow("two whole requests and half a third")
            << QByteArray(get("/sync?n=1") + get("/sync?n=2") + "GET / HT") << 2;
    }

    void halfClosedClients()
    {
        QFETCH(QByteArray, input);
        QFETCH(int, answers);
        auto server = startServer();
        QVERIFY(server);
        Client client(server->port());
        QVERIFY(client.waitConnected());
        if (!input.isEmpty())
            client.send(input);
        QCOMPARE(::shutdown(int(client.socket().socketDescriptor()), SHUT_WR), 0);
        if (answers > 0) {
            const QList<RawResponse> got = client.responses(answers);
            QCOMPARE(got.size(), answers);
            for (const RawResponse &r : got)
                QCOMPARE(r.status, 200);
        }
        QVERIFY(client.waitClosed());
        QVERIFY(client.unread().isEmpty()); // nothing beyond the answers
        QTRY_COMPARE_WITH_TIMEOUT(server->connectionCount(), 0, kWaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(server->inFlight(), 0, kWaitMs);
    }

    // The server closes after an answer larger than the socket takes at once,
    // the client has already shut down its sending side and reads only later:
    // the whole answer still arrives, then the close.
    void halfClosedSlowReaderGetsTheWholeAnswer()
    {
        auto server = startServer();
        QVERIFY(server);
        Client client(server->port());
        QVERIFY(client.waitConnected());
        client.pauseReading();
        client.send(get("/sync?huge=1", "Connection: close\r\n"));
        QCOMPARE(::shutdown(int(client.socket().socketDescriptor()), SHUT_WR), 0);
        QTRY_COMPARE_WITH_TIMEOUT(m_requests, 1, kWaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(server->inFlight(), 0, kWaitMs);
        client.resumeReading();
        const auto response = client.response();
        QVERIFY2(response, "the answer was cut short");
        QCOMPARE(response->status, 200);
        QCOMPARE(response->json().value(u"pad"_s).toString().size(), 4 * 1024 * 1024);
        QVERIFY(client.waitClosed());
        QTRY_COMPARE_WITH_TIMEOUT(server->connectionCount(), 0, kWaitMs);
    }

    void garbageNeverCrashes()
    {
        Limits limits;
        limits.readTimeoutMs = 300;
        limits.idleTimeoutMs = 300;
        auto server = startServer(limits);
        QVERIFY(server);
        QRandomGenerator random(20240611);
        const QList<QByteArray> seeds = {get("/s?x=1", "X-Test: y\r\n"),
                                         "POST /p HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
                                         "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"};
        std::vector<std::unique_ptr<Client>> clients;
        for (int round = 0; round < 300; ++round) {
            QByteArray bytes = seeds[round % seeds.size()];
            if (round % 3 == 0) {
                bytes = QByteArray(int(random.bounded(1, 3000)), Qt::Uninitialized);
                for (char &c : bytes)
                    c = char(random.bounded(256));
            } else {
                // Mutate a valid request: flip, insert and delete bytes.
                const int edits = int(random.bounded(1, 8));
                for (int e = 0; e < edits; ++e) {
                    const qsizetype at = random.bounded(int(bytes.size()));
                    switch (random.bounded(3)) {
                    case 0: bytes[at] = char(random.bounded(256)); break;
                    case 1: bytes.insert(at, char(random.bounded(256))); break;
                    default: bytes.remove(at, 1); break;
                    }
                }
                if (round % 5 == 0)
                    bytes = bytes.repeated(int(random.bounded(2, 40)));
            }
            auto client = std::make_unique<Client>(server->port());
            QVERIFY(client->waitConnected());
            client->send(bytes);
            clients.push_back(std::move(client));
        }
        for (auto &client : clients) {
            QVERIFY(client->waitClosed());
            client->socket().abort();
        }
        QTRY_COMPARE_WITH_TIMEOUT(server->connectionCount(), 0, kWaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(server->inFlight(), 0, kWaitMs);

        Client healthy(server->port());
        QVERIFY(healthy.waitConnected());
        healthy.send(get("/still-alive"));
        const auto response = healthy.response();
        QVERIFY(response);
        QCOMPARE(response->status, 200);
    }

    void maxConnections()
    {
        Limits limits;
        limits.maxConnections = 2;
        auto server = startServer(limits);
        QVERIFY(server);
        auto first = std::make_unique<Client>(server->port());
        Client second(server->port());
        QVERIFY(first->waitConnected());
        QVERIFY(second.waitConnected());
        QTRY_COMPARE_WITH_TIMEOUT(server->connectionCount(), 2, kWaitMs);

        Client extra(server->port());
        QVERIFY(extra.waitConnected());
        extra.send(get("/too-many"));
        const auto response = extra.response();
        QVERIFY2(response, extra.unread().constData());
        QCOMPARE(response->status, 503);
        QCOMPARE(response->header("retry-after"), QByteArray("1"));
        QCOMPARE(response->header("connection"), QByteArray("close"));
        QCOMPARE(response->code(), u"overloaded"_s);
        QVERIFY(extra.waitClosed());
        QCOMPARE(m_requests, 0);
        QCOMPARE(server->connectionCount(), 2);

        // The admitted ones work, and a freed slot admits a new client.
        second.send(get("/ok"));
        QVERIFY(second.response());
        first.reset();
        QTRY_COMPARE_WITH_TIMEOUT(server->connectionCount(), 1, kWaitMs);
        Client later(server->port());
        QVERIFY(later.waitConnected());
        later.send(get("/ok"));
        const auto admitted = later.response();
        QVERIFY(admitted);
        QCOMPARE(admitted->status, 200);
    }

    void reusePort_data()
    {
        QTest::addColumn<QHostAddress>("address");
        QTest::newRow("127.0.0.1") << QHostAddress(QHostAddress::LocalHost);
        QTest::newRow("any IPv4") << QHostAddress(QHostAddress::AnyIPv4);
        QTest::newRow("any (dual stack)") << QHostAddress(QHostAddress::Any);
    }

    void reusePort()
    {
        QFETCH(QHostAddress, address);
        int answeredByA = 0;
        int answeredByB = 0;
        QList<QHostAddress> peers;
        Server a{Limits{}};
        Server b{Limits{}};
        a.setHandler([&](Request request, Responder responder) {
            ++answeredByA;
            peers.append(request.peer);
            responder.respond(Response::json(200, {{u"server"_s, u"a"_s}}));
        });
        b.setHandler([&](Request request, Responder responder) {
            ++answeredByB;
            peers.append(request.peer);
            responder.respond(Response::json(200, {{u"server"_s, u"b"_s}}));
        });
        QString error;
        QVERIFY2(a.listen(address, 0, true, &error), qPrintable(error));
        QVERIFY(a.port() != 0);
        QVERIFY2(b.listen(address, a.port(), true, &error), qPrintable(error));
        QCOMPARE(b.port(), a.port());

        // Without SO_REUSEPORT the port is taken.
        Server c{Limits{}};
        QVERIFY(!c.listen(address, a.port(), false, &error));
        QVERIFY(!error.isEmpty());

        for (int i = 0; i < 40; ++i) {
            Client client(a.port());
            QVERIFY(client.waitConnected());
            client.send(get("/", "Connection: close\r\n"));
            const auto response = client.response();
            QVERIFY(response);
            QCOMPARE(response->status, 200);
        }
        QCOMPARE(answeredByA + answeredByB, 40);
        // IPv4 clients of a dual-stack socket are reported as IPv4, not ::ffff:127.0.0.1.
        for (const QHostAddress &peer : std::as_const(peers))
            QCOMPARE(peer.toString(), u"127.0.0.1"_s);
        // The kernel spreads connections by a hash of the client's port: over 40,
        // both get some (a miss has odds of about 2^-39).
        QVERIFY(answeredByA > 0);
        QVERIFY(answeredByB > 0);
    }

    void stopAccepting()
    {
        auto server = startServer();
        QVERIFY(server);
        const quint16 port = server->port();
        QSignalSpy idle(server.get(), &Server::idle);

        Client busy(port);
        QVERIFY(busy.waitConnected());
        busy.send(get("/hold"));
        QTRY_COMPARE_WITH_TIMEOUT(server->inFlight(), 1, kWaitMs);

        server->stopAccepting();
        Client refused(port);
        QVERIFY(
            QTest::qWaitFor([&] { return refused.socket().state() == QAbstractSocket::UnconnectedState; }, kWaitMs));
        QCOMPARE(refused.socket().error(), QAbstractSocket::ConnectionRefusedError);
        QCOMPARE(idle.count(), 0);

        QCOMPARE(m_held.size(), size_t(1));
        QVERIFY(m_held.front().isConnected());
        m_held.front().respond(Response::json(200, {{u"late"_s, true}}));
        const auto response = busy.response();
        QVERIFY(response);
        QCOMPARE(response->status, 200);
        QCOMPARE(response->header("connection"), QByteArray("close"));
        QTRY_COMPARE_WITH_TIMEOUT(idle.count(), 1, kWaitMs);
        QCOMPARE(server->inFlight(), 0);
        QVERIFY(busy.waitClosed());
    }

    void stopAcceptingWhenIdle()
    {
        auto server = startServer();
        QVERIFY(server);
        QSignalSpy idle(server.get(), &Server::idle);
        server->stopAccepting();
        QVERIFY(idle.wait(kWaitMs));
        QCOMPARE(idle.count(), 1);
        QCOMPARE(server->port(), quint16(0));
    }
};

QTEST_GUILESS_MAIN(TestHttp)
#include "tst_http.moc"
