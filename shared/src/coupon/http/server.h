#pragma once

// A small HTTP/1.1 server on Qt Network (RFC 9112 subset) for the gateway.
// Qt 6.4's QHttpServer buffers bodies before any limit applies and has no read
// timeouts or SO_REUSEPORT, so we parse the wire ourselves.
//
// What it accepts (RequestParser, request_parser.h, applies these rules):
// - `METHOD SP /target SP HTTP/1.0|1.1 CRLF`, header lines, CRLF, then a body of
//   exactly Content-Length bytes. Line endings must be CRLF: a bare LF (or a lone
//   CR) is answered 400. Empty lines before a request line are skipped (RFC 9112
//   section 2.2). Request targets are origin-form only and must be visible ASCII.
// - No chunked request bodies (Transfer-Encoding is answered 411), no obs-fold,
//   no HTTP/2, no HEAD special case (the router decides about methods). A Host
//   header is not required: this server has no virtual hosts.
// - One request per connection at a time; pipelined requests wait, in order.
// - `Expect: 100-continue` gets an interim 100 once the body length is accepted.
//
// Errors the server answers itself carry Response::error's JSON body and close
// the connection: 400 bad_request, 408 timeout, 411 length_required,
// 413 body_too_large, 414 uri_too_long, 431 header_too_large,
// 505 version_not_supported, 503 overloaded (over Limits::maxConnections or
// Limits::maxConnectionsPerAddress).
// Closing is graceful: the answer is flushed, the write side shut down, and
// whatever the client still sends is discarded for up to
// min(2 s, readTimeoutMs) so a reset cannot destroy the answer in flight.
// A client that shuts down its sending side (end of stream) still gets every
// answer already given, flushed, before the close; an end of stream while a
// request is being answered counts as the client gone (the answer is dropped,
// Responder::isConnected() turns false), as nginx counts it.
//
// Fair and bounded (Limits): a connection is served at most
// maxRequestsPerWakeup requests and maxBytesPerWakeup bytes per turn of the
// event loop, then yields (it resumes from a queued call, after the others had
// their turn); a client that does not read its answers holds at most
// maxUnsentBytes of them here (past that, its requests are neither parsed
// nor read until it reads), and all of them together maxUnsentBytesTotal.
// Accepting owns its descriptor: out of descriptors (EMFILE, ENFILE), it
// pauses, logs once per episode, counts it (ServerStats::acceptPauses) and
// retries every 100 ms; the waiting connections stay in the kernel's backlog.

#include <QByteArray>
#include <QByteArrayView>
#include <QElapsedTimer>
#include <QHash>
#include <QHostAddress>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>

#include <functional>
#include <utility>
#include <vector>

class QSocketNotifier;
class QTimer;

namespace coupon::http {

namespace detail {
class Connection;
} // namespace detail

struct Request
{
    QByteArray method;                                 // "GET", "POST", ... as sent (case-sensitive tokens)
    QByteArray path;                                   // percent-decoding NOT applied; without the query
    QByteArray query;                                  // after '?', raw, may be empty
    QList<std::pair<QByteArray, QByteArray>> headers;  // names lower-cased, values trimmed, in order
    QByteArray header(QByteArrayView lowerName) const; // last value or empty
    bool hasHeader(QByteArrayView lowerName) const;
    QByteArray body;
    QHostAddress peer; // IPv4-mapped IPv6 peers are given as IPv4
};

struct Response
{
    int status = 200;
    // Extra headers. Content-Length, Date and Connection are added by the server;
    // extras named Content-Length, Content-Type, Transfer-Encoding, Connection or
    // Date, and any with CR, LF or NUL in them, are dropped with a warning.
    QList<std::pair<QByteArray, QByteArray>> headers;
    QByteArray body;
    QByteArray contentType = "application/json";

    static Response json(int status, const QJsonObject &object);
    // Error body {"code": code, "message": message}: the project's stable error shape.
    static Response error(int status, const QString &code, const QString &message);
};

// One answer for one request. Move-only; may be answered later (asynchronously)
// from the server's thread. respond() after the client went away, a second
// respond(), or respond() on a moved-from or default-constructed Responder is a
// no-op. Destroying an unanswered Responder answers
// 500 {"code":"internal","message":"no response"} so nothing hangs.
class Responder
{
public:
    Responder() = default;
    Responder(Responder &&other) noexcept;
    Responder &operator=(Responder &&other) noexcept;
    Responder(const Responder &) = delete;
    Responder &operator=(const Responder &) = delete;
    ~Responder();

    // The client is still there and the request is unanswered.
    bool isConnected() const;
    void respond(Response response);

private:
    friend class detail::Connection;
    explicit Responder(QObject *connection)
        : m_connection(connection)
    { }

    QPointer<QObject> m_connection; // a detail::Connection; null once answered or gone
};

struct Limits
{
    qsizetype maxRequestLineBytes = 2048;
    qsizetype maxHeaderBytes = 8192; // request line + headers
    qsizetype maxBodyBytes = 4096;
    int readTimeoutMs = 5000;  // a request (line+headers+body) must arrive within this
    int idleTimeoutMs = 30000; // keep-alive connection without a request
    int maxConnections = 4096; // beyond: accept, answer 503 + Retry-After: 1, close
    // Open connections from one peer address (IPv6: one /64) at a time; 0: no cap.
    // Beyond: as beyond maxConnections. Peers in uncappedPeers (subnets, as
    // QHostAddress::parseSubnet gives them: a load balancer, a proxy) are exempt.
    int maxConnectionsPerAddress = 0;
    QList<std::pair<QHostAddress, int>> uncappedPeers;
    // A connection's share of one event-loop wakeup: requests parsed, bytes read.
    int maxRequestsPerWakeup = 16;
    qsizetype maxBytesPerWakeup = 64 * 1024;
    // Answers the kernel did not take yet (the client does not read): past
    // maxUnsentBytes, the connection's further requests wait unparsed and unread;
    // past maxUnsentBytesTotal over all connections, every connection holding
    // unsent bytes waits the same way.
    qsizetype maxUnsentBytes = 16 * 1024;
    qsizetype maxUnsentBytesTotal = 32 * 1024 * 1024;
};

// What the server counts, for /metrics.
struct ServerStats
{
    int connections = 0;          // open, counted against maxConnections
    qint64 refusedGlobal = 0;     // turned away over maxConnections
    qint64 refusedPerAddress = 0; // turned away over maxConnectionsPerAddress
    qint64 acceptPauses = 0;      // episodes of accept() failing for resources (EMFILE, ENFILE, ...)
    bool acceptPaused = false;    // in such an episode now
    qint64 unsentBytes = 0;       // answers written, not yet taken by the kernel, all connections
    qint64 writeBlocked = 0;      // connections stopped over an unsent cap, so far
    qint64 budgetYields = 0;      // turns a connection gave up with requests or bytes left
};

// Single-threaded: everything runs on the thread that owns the Server, in its
// event loop. Do not delete the Server from inside the handler (deleteLater()).
class Server : public QObject
{
    Q_OBJECT

public:
    using Handler = std::function<void(Request, Responder)>;

    explicit Server(Limits limits, QObject *parent = nullptr);
    ~Server() override;

    // reusePort: SO_REUSEPORT so several processes share one port (the kernel
    // spreads new connections over them). QHostAddress::Any is dual-stack.
    bool listen(const QHostAddress &address, quint16 port, bool reusePort, QString *error);
    quint16 port() const; // 0 when not listening (also after stopAccepting())
    void setHandler(Handler handler);

    // Closes the listening socket; open connections continue. Answers given after
    // this carry `Connection: close` so clients move to another instance.
    void stopAccepting();
    int connectionCount() const { return m_connectionCount; }
    int inFlight() const { return m_inFlight; } // handed to the handler, not yet answered
    ServerStats stats() const;
    const Limits &limits() const { return m_limits; }

signals:
    // Emitted (from the event loop) when inFlight() is 0 after stopAccepting();
    // also when nothing was in flight at stopAccepting(). Every answer given by
    // then has been handed to the kernel, unless the client stopped reading.
    void idle();

private:
    friend class detail::Connection;

    void onAcceptable();
    void pauseAccepting(int error);
    void accept(int descriptor, const QHostAddress &peer);
    QByteArray addressKey(const QHostAddress &peer) const;
    void defer(detail::Connection *connection);
    void resumeDeferred();
    void sweep();
    void registerConnection(detail::Connection *connection);
    void unregisterConnection(detail::Connection *connection);
    void requestStarted() { ++m_inFlight; }
    void requestFinished();
    void scheduleIdle();
    const QByteArray &dateHeader();

    Limits m_limits;
    Handler m_handler;
    int m_listenFd = -1;
    quint16 m_port = 0;
    QSocketNotifier *m_acceptNotifier = nullptr;
    QTimer *m_acceptRetry = nullptr;
    QElapsedTimer m_acceptPausedSince;
    QHash<QByteArray, int> m_perAddress;       // open counted connections by addressKey()
    std::vector<QPointer<QObject>> m_deferred; // detail::Connections yielding their turn
    bool m_resumeQueued = false;
    int m_connectionPeak = 0; // since the heap was last trimmed
    bool m_trimQueued = false;
    ServerStats m_stats;
    QTimer *m_sweepTimer = nullptr;
    QElapsedTimer m_clock;                           // deadlines are milliseconds on this clock
    std::vector<detail::Connection *> m_connections; // every open socket, for the sweep
    int m_connectionCount = 0;                       // open sockets that count against maxConnections
    int m_rejecting = 0;                             // sockets being turned away with 503
    int m_inFlight = 0;
    bool m_stopped = false;
    bool m_idleQueued = false;
    qint64 m_dateSecond = -1;
    QByteArray m_date; // "Date: ...\r\n" for m_dateSecond
};

} // namespace coupon::http
