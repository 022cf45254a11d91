#include "coupon/http/server.h"

#include "coupon/base/text.h"
#include "coupon/http/request_parser.h"
#include "coupon/http/syntax.h"

#include <QJsonDocument>
#include <QSocketNotifier>
#include <QTimer>
#include <QVarLengthArray>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string_view>
#include <utility>

#include <arpa/inet.h>
#include <fcntl.h>
#include <malloc.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace coupon::http {

using namespace syntax;

namespace {

constexpr int kBacklog = 4096;     // the kernel caps it at net.core.somaxconn
constexpr int kLingerMs = 2000;    // upper bound of a graceful close
constexpr int kMaxRejecting = 256; // 503 answers in progress; beyond, just close
constexpr int kAcceptRetryMs = 100;
constexpr int kAcceptsPerWakeup = 64;   // then the loop serves the open connections
constexpr int kTrimAfterClosing = 1024; // connections closed since the peak before the heap is trimmed
constexpr int kTrimDelayMs = 1000;
const char *reasonPhrase(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "";
    }
}

bool isServerOwnedHeader(QByteArrayView name)
{
    return equalsIgnoringCase(name, "content-length") || equalsIgnoringCase(name, "content-type")
        || equalsIgnoringCase(name, "transfer-encoding") || equalsIgnoringCase(name, "connection")
        || equalsIgnoringCase(name, "date");
}

// A response to HEAD (`head`) has every header GET's would, Content-Length
// included, and no content (RFC 9110 9.3.2).
QByteArray serialize(const Response &given, bool keepAlive, const QByteArray &dateLine, bool head)
{
    Response replacement;
    const Response *response = &given;
    if (given.status < 200 || given.status > 599) {
        qWarning("coupon::http: handler answered status %d; sending 500", given.status);
        replacement = Response::error(500, u"internal"_s, u"invalid status"_s);
        response = &replacement;
    }
    const int status = response->status;
    // RFC 9110 8.6 / 15.3.5: no Content-Length (and no content) in 204; 304 has no content.
    const bool withContent = status != 204 && status != 304;

    qsizetype extraBytes = 0;
    for (const auto &[name, value] : response->headers)
        extraBytes += name.size() + value.size() + 4;

    QByteArray out;
    out.reserve(128 + dateLine.size() + response->contentType.size() + extraBytes + response->body.size());
    out.append("HTTP/1.1 ");
    appendNumber(out, status);
    out.append(' ');
    out.append(reasonPhrase(status));
    out.append("\r\n");
    out.append(dateLine);
    if (withContent) {
        if (!response->contentType.isEmpty() && allFieldValueBytes(response->contentType)) {
            out.append("Content-Type: ");
            out.append(response->contentType);
            out.append("\r\n");
        }
        out.append("Content-Length: ");
        appendNumber(out, response->body.size());
        out.append("\r\n");
    }
    out.append(keepAlive ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
    for (const auto &[name, value] : response->headers) {
        if (!allTokens(name) || !allFieldValueBytes(value) || isServerOwnedHeader(name)) {
            qWarning("coupon::http: dropping response header \"%s\"", name.constData());
            continue;
        }
        out.append(name);
        out.append(": ");
        out.append(value);
        out.append("\r\n");
    }
    out.append("\r\n");
    if (withContent && !head)
        out.append(response->body);
    return out;
}

// The listening socket, bound and listening; -1 with the reason in *why.
int openListeningSocket(const QHostAddress &address, quint16 port, bool reusePort, QString *why)
{
    sockaddr_storage storage{};
    socklen_t length = 0;
    int family = AF_INET;
    bool dualStack = false;

    const auto setIpv4 = [&](quint32 ip) {
        auto *in = reinterpret_cast<sockaddr_in *>(&storage);
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        in->sin_addr.s_addr = htonl(ip);
        family = AF_INET;
        length = sizeof(sockaddr_in);
    };

    switch (address.protocol()) {
    case QAbstractSocket::AnyIPProtocol: {
        auto *in6 = reinterpret_cast<sockaddr_in6 *>(&storage);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        in6->sin6_addr = in6addr_any;
        family = AF_INET6;
        length = sizeof(sockaddr_in6);
        dualStack = true;
        break;
    }
    case QAbstractSocket::IPv4Protocol: setIpv4(address.toIPv4Address()); break;
    case QAbstractSocket::IPv6Protocol: {
        auto *in6 = reinterpret_cast<sockaddr_in6 *>(&storage);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        const Q_IPV6ADDR ip = address.toIPv6Address();
        std::memcpy(&in6->sin6_addr, &ip, sizeof ip);
        const QString scope = address.scopeId();
        if (!scope.isEmpty()) {
            bool numeric = false;
            in6->sin6_scope_id = scope.toUInt(&numeric);
            if (!numeric)
                in6->sin6_scope_id = if_nametoindex(scope.toLocal8Bit().constData());
        }
        family = AF_INET6;
        length = sizeof(sockaddr_in6);
        break;
    }
    default: *why = u"unsupported address %1"_s.arg(address.toString()); return -1;
    }

    int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0 && dualStack && errno == EAFNOSUPPORT) {
        // No IPv6 on this host: "any" means any IPv4 address then.
        storage = {};
        setIpv4(INADDR_ANY);
        dualStack = false;
        fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    }
    if (fd < 0) {
        *why = u"socket(): %1"_s.arg(qt_error_string(errno));
        return -1;
    }
    const auto fail = [&](const QString &step) {
        const int saved = errno;
        ::close(fd);
        *why = u"%1 on %2 port %3: %4"_s.arg(step, address.toString()).arg(port).arg(qt_error_string(saved));
        return -1;
    };
    const int one = 1;
    const int v6only = dualStack ? 0 : 1;
    if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
        return fail(u"SO_REUSEADDR"_s);
    if (reusePort && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
        return fail(u"SO_REUSEPORT"_s);
    if (family == AF_INET6 && ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only) != 0)
        return fail(u"IPV6_V6ONLY"_s);
    if (::bind(fd, reinterpret_cast<const sockaddr *>(&storage), length) != 0)
        return fail(u"bind"_s);
    if (::listen(fd, kBacklog) != 0)
        return fail(u"listen"_s);
    return fd;
}

// IPv4-mapped IPv6 peers are given as IPv4.
QHostAddress peerAddress(const sockaddr_storage &peer)
{
    QHostAddress address(reinterpret_cast<const sockaddr *>(&peer));
    bool isV4 = false;
    const quint32 v4 = address.toIPv4Address(&isV4);
    if (isV4 && address.protocol() == QAbstractSocket::IPv6Protocol)
        address = QHostAddress(v4);
    return address;
}

} // namespace

namespace detail {

// One accepted socket: reads into m_buffer, has the RequestParser make requests
// of the bytes, hands them to the handler one at a time, writes the answers and
// closes gracefully. What the bytes of a request may be is the parser's business.
class Connection final : public QObject
{
public:
    Connection(Server *server, int descriptor, const QHostAddress &peer, QByteArray addressKey, bool reject);
    ~Connection() override;

    bool isAnswerable() const { return m_state == State::Pending && connected(); }
    void answer(Response &&response);
    void onDeadline();
    qint64 deadline() const { return m_deadline; }
    bool counted() const { return !m_reject; }
    const QByteArray &addressKey() const { return m_addressKey; }
    void resume(); // the turn given up in process() comes back

    size_t m_slot = 0; // index in Server::m_connections while registered

private:
    enum class State { Reading, Pending, Closing, Dead };

    // The socket: the descriptor with two notifiers, no QTcpSocket. Its buffering
    // (a read into QRingBuffer after an FIONREAD per notification, a write notifier
    // switched on and off per answer) cost more than the parsing it feeds.
    bool connected() const { return m_fd >= 0; }
    qsizetype bytesToWrite() const { return m_out.size() - m_outSent; }
    // > 0 bytes; 0 none now (or none ever again: m_peerDone); -1 gone (disconnected)
    qsizetype receive(char *into, qsizetype room);
    qsizetype readMore(); // receive() appended to m_buffer
    void abortSocket();   // closes now, then onDisconnected()
    void closeSocket();
    void onReadable();
    void onWritable();
    void onBytesWritten();
    void onDisconnected();
    void process();
    qsizetype pull(); // bytes read into m_buffer; 0 none
    qsizetype buffered() const { return m_buffer.size() - m_start; }
    bool parseNext();
    void dispatch();
    void fail(int status, const QString &code, const QString &message);
    void write(const Response &response, bool keepAlive, bool head = false);
    void send(const QByteArray &bytes); // writes and flushes
    // Hands bytes to the kernel: how many it took (0 while its buffer is full), -1 when the socket failed.
    qsizetype sendSome(const char *data, qsizetype size);
    void closeGracefully();
    void discardInput();
    // The server's sum of unsent bytes follows bytesToWrite(); call after every change of m_out.
    void accountUnsent();
    bool overUnsent(qsizetype cap) const;
    void blockWrites();
    qint64 now() const { return m_server->m_clock.elapsed(); }
    const Limits &limits() const { return m_server->m_limits; }

    Server *m_server;
    bool m_headRequest = false; // the request being answered is a HEAD: no content in the answer
    int m_fd = -1;
    QSocketNotifier *m_readNotifier = nullptr;
    QSocketNotifier *m_writeNotifier = nullptr; // enabled only while m_out holds unsent bytes
    bool m_readable = false;                    // the last notification's bytes may not all be read yet
    qsizetype m_readLimit = 0;                  // m_buffer bytes beyond m_start; past it, reading stops
    QByteArray m_out;                           // what the kernel did not take yet
    qsizetype m_outSent = 0;                    // of m_out
    QHostAddress m_peer;
    QByteArray m_buffer;    // bytes read from the socket
    qsizetype m_start = 0;  // where the current request starts in m_buffer
    RequestParser m_parser; // parses in place from m_start; holds the request being read
    State m_state = State::Reading;
    qint64 m_deadline = 0; // on Server::m_clock; 0: none
    bool m_reject = false;
    bool m_registered = false;
    bool m_gotBytes = false;     // some of the next request arrived
    bool m_idle = false;         // kept alive, waiting for the next request
    bool m_writeBlocked = false; // the client does not read its answers
    bool m_inProcess = false;
    bool m_peerDone = false;         // the client shut down its sending side (EOF read)
    bool m_deferred = false;         // gave up its turn; Server::resumeDeferred() gives it back
    qsizetype m_accountedUnsent = 0; // bytesToWrite() as last added to the server's sum
    QByteArray m_addressKey;         // Server::addressKey(); empty: not counted per address
};

Connection::Connection(Server *server, int descriptor, const QHostAddress &peer, QByteArray addressKey, bool reject)
    : QObject(server)
    , m_server(server)
    , m_peer(peer)
    , m_parser(server->m_limits)
    , m_reject(reject)
    , m_addressKey(std::move(addressKey))
{
    const int fd = descriptor; // accept4() made it non-blocking
    m_fd = fd;
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // Bounded: while a request is pending we stop reading, and so does the kernel's window.
    m_readLimit = std::max<qsizetype>(16 * 1024, limits().maxHeaderBytes + limits().maxBodyBytes + 1024);
    m_readNotifier = new QSocketNotifier(descriptor, QSocketNotifier::Read, this);
    connect(m_readNotifier, &QSocketNotifier::activated, this, &Connection::onReadable);
    m_writeNotifier = new QSocketNotifier(descriptor, QSocketNotifier::Write, this);
    m_writeNotifier->setEnabled(false);
    connect(m_writeNotifier, &QSocketNotifier::activated, this, &Connection::onWritable);
    m_server->registerConnection(this);
    m_registered = true;

    if (m_reject) {
        // Answered before any request arrives: the client reads it as the answer to its first.
        Response response = Response::error(503, u"overloaded"_s, u"too many connections; retry later"_s);
        response.headers.append({QByteArrayLiteral("Retry-After"), QByteArrayLiteral("1")});
        write(response, false);
        if (m_state != State::Dead)
            closeGracefully();
        return;
    }
    // A new connection has readTimeoutMs to deliver its first request, not idleTimeoutMs.
    m_deadline = now() + limits().readTimeoutMs;
}

Connection::~Connection()
{
    closeSocket();
}

void Connection::closeSocket()
{
    if (m_fd < 0)
        return;
    // Off the dispatcher before the number can be reused.
    m_readNotifier->setEnabled(false);
    m_writeNotifier->setEnabled(false);
    ::close(m_fd);
    m_fd = -1;
    m_readable = false;
    m_out = QByteArray();
    m_outSent = 0;
    accountUnsent();
}

void Connection::accountUnsent()
{
    const qsizetype unsent = bytesToWrite();
    m_server->m_stats.unsentBytes += unsent - m_accountedUnsent;
    m_accountedUnsent = unsent;
}

// Over the connection's own cap, or holding unsent bytes while all of them are over the total's.
bool Connection::overUnsent(qsizetype cap) const
{
    const qsizetype unsent = bytesToWrite();
    return unsent > cap || (unsent > 0 && m_server->m_stats.unsentBytes > limits().maxUnsentBytesTotal);
}

void Connection::blockWrites()
{
    // The client sends requests but does not read answers: stop until it does.
    m_writeBlocked = true;
    ++m_server->m_stats.writeBlocked;
    m_deadline = now() + limits().idleTimeoutMs;
    // Level-triggered: bytes left unread would wake us on every loop iteration.
    m_readNotifier->setEnabled(false);
    // What waits here is at most one read's worth of requests: keep no more room than that.
    if (m_start > 0) {
        m_buffer.remove(0, m_start);
        m_start = 0;
    }
    m_buffer.squeeze();
}

void Connection::resume()
{
    m_deferred = false;
    if (!connected())
        return;
    if (m_state == State::Reading) {
        if (!m_peerDone && !m_writeBlocked)
            m_readNotifier->setEnabled(true);
        process();
    } else if (m_state == State::Closing && !m_peerDone) {
        m_readNotifier->setEnabled(true);
    }
}

void Connection::abortSocket()
{
    closeSocket();
    onDisconnected();
}

qsizetype Connection::receive(char *into, qsizetype room)
{
    if (m_fd < 0)
        return -1;
    ssize_t n;
    do {
        n = ::recv(m_fd, into, size_t(room), 0);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
        m_readable = n == room; // a short read emptied the kernel's queue
        return qsizetype(n);
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        m_readable = false;
        return 0;
    }
    if (n == 0 && m_state != State::Pending) {
        // End of stream with no request being answered: the client has sent all it
        // will (it may have shut down only its sending side). Answers already given
        // are still flushed, then the connection closes (process(), discardInput()).
        // Reading stops: a level-triggered notifier would report the end of stream
        // on every loop iteration. (While a request is being answered, the end of
        // stream counts as the client gone, below, as nginx counts it.)
        m_peerDone = true;
        m_readable = false;
        m_readNotifier->setEnabled(false);
        return 0;
    }
    // An error (reset), or the end of stream while an answer is awaited: gone.
    abortSocket();
    return -1;
}

void Connection::onReadable()
{
    m_readable = true;
    switch (m_state) {
    case State::Reading: process(); break;
    case State::Closing: discardInput(); break;
    case State::Pending:
        // Kept (bounded) until the answer is out; a full buffer stops reading.
        if (m_buffer.size() - m_start >= m_readLimit) {
            m_readNotifier->setEnabled(false);
            break;
        }
        readMore();
        break;
    case State::Dead: break;
    }
}

void Connection::onWritable()
{
    bool progress = false;
    while (m_outSent < m_out.size()) {
        const qsizetype n = sendSome(m_out.constData() + m_outSent, m_out.size() - m_outSent);
        if (n < 0) {
            abortSocket();
            return;
        }
        if (n == 0) {
            if (progress)
                onBytesWritten(); // a blocked reader may have room again
            return;
        }
        m_outSent += n;
        accountUnsent();
        progress = true;
    }
    m_out = QByteArray(); // its capacity goes too: most answers never wait here
    m_outSent = 0;
    accountUnsent();
    m_writeNotifier->setEnabled(false);
    onBytesWritten();
}

void Connection::onBytesWritten()
{
    if (m_state == State::Closing) {
        if (bytesToWrite() == 0 && connected()) {
            ::shutdown(m_fd, SHUT_WR);
            if (m_peerDone)
                abortSocket(); // both directions done
        }
    } else if (m_state == State::Reading && m_writeBlocked && !overUnsent(limits().maxUnsentBytes / 2)) {
        m_writeBlocked = false;
        if (!m_peerDone)
            m_readNotifier->setEnabled(true);
        m_deadline = now() + (m_gotBytes ? limits().readTimeoutMs : limits().idleTimeoutMs);
        process();
    }
}

void Connection::onDisconnected()
{
    if (m_state == State::Dead)
        return;
    const bool pending = m_state == State::Pending;
    m_state = State::Dead;
    m_deadline = 0;
    if (m_registered) {
        m_registered = false;
        m_server->unregisterConnection(this);
    }
    closeSocket();
    m_buffer = QByteArray();
    m_start = 0;
    m_parser.reset();
    // A pending request keeps us alive until its Responder answers or is dropped.
    if (!pending)
        deleteLater();
}

void Connection::onDeadline()
{
    switch (m_state) {
    case State::Reading:
        if (m_writeBlocked) {
            abortSocket();
        } else if (m_gotBytes) {
            fail(408, u"timeout"_s, u"the request did not arrive within %1 ms"_s.arg(limits().readTimeoutMs));
        } else {
            closeGracefully(); // idle: nothing to say
        }
        break;
    case State::Closing: abortSocket(); break;
    case State::Pending:
    case State::Dead: break;
    }
    if (m_state != State::Dead && !connected())
        onDisconnected();
}

void Connection::process()
{
    if (m_inProcess)
        return; // respond() from inside the handler: the loop below carries on
    m_inProcess = true;
    int requests = 0;
    qsizetype bytes = 0;
    while (m_state == State::Reading) {
        if (overUnsent(limits().maxUnsentBytes)) {
            blockWrites();
            break;
        }
        if (requests >= limits().maxRequestsPerWakeup || bytes >= limits().maxBytesPerWakeup) {
            // This turn is used up: the others get theirs before this connection's next.
            if (buffered() > 0 || m_readable) {
                ++m_server->m_stats.budgetYields;
                m_deferred = true;
                m_readNotifier->setEnabled(false);
                m_server->defer(this);
            }
            break;
        }
        // Pull only when the buffered bytes hold no complete request: the buffer stays
        // bounded by one request plus one socket read, however much the client pipelines.
        if (parseNext()) {
            ++requests;
            continue;
        }
        const qsizetype got = pull();
        if (got <= 0)
            break;
        bytes += got;
    }
    m_inProcess = false;
    // The client sent its last byte and no complete request is left: once what
    // is queued for it is out, the connection is done.
    if (m_peerDone && m_state == State::Reading && !m_writeBlocked)
        closeGracefully();
}

qsizetype Connection::readMore()
{
    // Through a scratch buffer, so that m_buffer's capacity stays the size of the
    // requests (an idle keep-alive connection holds a few hundred bytes, not a read's worth).
    // 4 KiB a read: what a client that stops reading its answers leaves parked
    // here is at most that (the rest waits in the kernel); a larger request
    // takes a few reads.
    thread_local std::array<char, 4 * 1024> scratch;
    const qsizetype room = std::clamp<qsizetype>(m_readLimit - buffered(), 1, qsizetype(scratch.size()));
    const qsizetype got = receive(scratch.data(), room);
    if (got > 0)
        m_buffer.append(scratch.data(), got);
    return got;
}

qsizetype Connection::pull()
{
    if (!m_readable)
        return 0; // nothing since the last read came up short: no recv() to learn that again
    if (m_start > 0) {
        m_buffer.remove(0, m_start); // one move per read, not one per pipelined request
        m_start = 0;
    }
    const qsizetype got = readMore();
    if (got <= 0)
        return 0;
    if (!m_gotBytes) {
        m_gotBytes = true;
        if (m_idle) {
            m_idle = false;
            m_deadline = now() + limits().readTimeoutMs;
        }
    }
    return got;
}

// True when it changed the state (dispatched, or failed); false when it needs more bytes.
bool Connection::parseNext()
{
    const RequestParser::Progress status = m_parser.parse(QByteArrayView(m_buffer.constData() + m_start, buffered()));
    m_start += m_parser.consumed(); // empty lines skipped, or the whole request
    switch (status) {
    case RequestParser::Progress::NeedMore: return false;
    case RequestParser::Progress::ContinueExpected:
        if (connected())
            send(QByteArrayLiteral("HTTP/1.1 100 Continue\r\n\r\n"));
        return m_state != State::Reading; // else the body is still to come
    case RequestParser::Progress::Failed: {
        const ParseError error = m_parser.error(); // closing resets the parser
        fail(error.status, error.code, error.message);
        return true;
    }
    case RequestParser::Progress::Complete: dispatch(); return true;
    }
    return false;
}

void Connection::dispatch()
{
    if (m_start == m_buffer.size()) {
        m_buffer.resize(0); // keeps the capacity for the next request
        m_start = 0;
    }

    m_state = State::Pending;
    m_deadline = 0; // the handler owns the time now
    m_server->requestStarted();
    Request request = m_parser.takeRequest();
    request.peer = m_peer;
    m_headRequest = request.method == "HEAD";
    if (m_server->m_handler)
        m_server->m_handler(std::move(request), Responder(this));
    else
        Responder(this).respond(Response::error(500, u"internal"_s, u"no handler"_s));
}

void Connection::answer(Response &&response)
{
    m_server->requestFinished();
    if (m_state == State::Dead) {
        deleteLater();
        return;
    }
    if (m_state != State::Pending)
        return;
    const bool keepAlive = m_parser.keepAlive() && !m_server->m_stopped;
    // Not Pending from here on: a disconnect during the write cleans up by itself.
    m_state = State::Reading;
    if (connected() && !m_peerDone && !m_readNotifier->isEnabled())
        m_readNotifier->setEnabled(true); // reading stopped on a full buffer while pending
    const bool head = std::exchange(m_headRequest, false);
    write(response, keepAlive, head);
    if (m_state != State::Reading)
        return;
    if (!keepAlive) {
        closeGracefully();
        return;
    }
    m_gotBytes = buffered() > 0;
    m_idle = !m_gotBytes;
    m_deadline = now() + (m_idle ? limits().idleTimeoutMs : limits().readTimeoutMs);
    process();
}

void Connection::fail(int status, const QString &code, const QString &message)
{
    write(Response::error(status, code, message), false);
    if (m_state != State::Dead)
        closeGracefully();
}

void Connection::write(const Response &response, bool keepAlive, bool head)
{
    if (!connected())
        return;
    // One write, flushed now: no extra trip through the event loop.
    send(serialize(response, keepAlive, m_server->dateHeader(), head));
}

qsizetype Connection::sendSome(const char *data, qsizetype size)
{
    ssize_t n;
    do {
        n = ::send(m_fd, data, size_t(size), MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n >= 0)
        return qsizetype(n);
    return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
}

void Connection::send(const QByteArray &bytes)
{
    qsizetype sent = 0;
    if (bytesToWrite() == 0) {
        sent = sendSome(bytes.constData(), bytes.size());
        if (sent < 0) {
            abortSocket();
            return;
        }
        if (sent == bytes.size())
            return;
    }
    // The rest when the kernel takes it; the write notifier is on only meanwhile.
    if (m_outSent > 0) {
        m_out.remove(0, m_outSent);
        m_outSent = 0;
    }
    // Exactly the size: the unsent caps count bytes, and capacity grown by
    // doubling would hold up to twice what they count.
    m_out.reserve(m_out.size() + bytes.size() - sent);
    m_out.append(bytes.constData() + sent, bytes.size() - sent);
    accountUnsent();
    m_writeNotifier->setEnabled(true);
}

void Connection::closeGracefully()
{
    // Shut down our side once the answer is out and read until the client closes,
    // so unread request bytes do not turn our close into a reset that eats the answer.
    m_state = State::Closing;
    m_buffer = QByteArray();
    m_start = 0;
    m_parser.reset();
    m_deadline = now() + std::min(kLingerMs, limits().readTimeoutMs);
    if (!connected()) {
        onDisconnected();
        return;
    }
    if (bytesToWrite() == 0)
        ::shutdown(m_fd, SHUT_WR);
    if (!m_peerDone && !m_readNotifier->isEnabled())
        m_readNotifier->setEnabled(true); // stopped by a full buffer or a yielded turn: discard now
    discardInput();
}

void Connection::discardInput()
{
    char sink[4096];
    while (m_readable && receive(sink, sizeof sink) > 0) { }
    if (m_state == State::Closing && m_peerDone && connected() && bytesToWrite() == 0)
        abortSocket(); // the client is done and has everything: no need to linger
}

} // namespace detail

QByteArray Request::header(QByteArrayView lowerName) const
{
    for (auto it = headers.crbegin(); it != headers.crend(); ++it) {
        if (it->first == lowerName)
            return it->second;
    }
    return {};
}

bool Request::hasHeader(QByteArrayView lowerName) const
{
    return std::any_of(headers.cbegin(), headers.cend(), [&](const auto &h) { return h.first == lowerName; });
}

Response Response::json(int status, const QJsonObject &object)
{
    Response response;
    response.status = status;
    response.body = QJsonDocument(object).toJson(QJsonDocument::Compact);
    return response;
}

Response Response::error(int status, const QString &code, const QString &message)
{
    return json(status, QJsonObject{{u"code"_s, code}, {u"message"_s, message}});
}

Responder::Responder(Responder &&other) noexcept
{
    m_connection.swap(other.m_connection);
}

Responder &Responder::operator=(Responder &&other) noexcept
{
    if (this != &other) {
        Responder previous(std::move(*this)); // answers 500 if it was still open
        m_connection.swap(other.m_connection);
    }
    return *this;
}

Responder::~Responder()
{
    if (m_connection)
        respond(Response::error(500, u"internal"_s, u"no response"_s));
}

bool Responder::isConnected() const
{
    const auto *connection = static_cast<const detail::Connection *>(m_connection.data());
    return connection && connection->isAnswerable();
}

void Responder::respond(Response response)
{
    QObject *object = m_connection.data();
    if (!object)
        return;
    m_connection.clear();
    static_cast<detail::Connection *>(object)->answer(std::move(response));
}

Server::Server(Limits limits, QObject *parent)
    : QObject(parent)
    , m_limits(std::move(limits))
{
    m_limits.maxRequestLineBytes = std::max<qsizetype>(m_limits.maxRequestLineBytes, 16);
    m_limits.maxHeaderBytes = std::max(m_limits.maxHeaderBytes, m_limits.maxRequestLineBytes + 2);
    m_limits.maxBodyBytes = std::max<qsizetype>(m_limits.maxBodyBytes, 0);
    m_limits.readTimeoutMs = std::max(m_limits.readTimeoutMs, 1);
    m_limits.idleTimeoutMs = std::max(m_limits.idleTimeoutMs, 1);
    m_limits.maxConnections = std::max(m_limits.maxConnections, 1);
    m_limits.maxConnectionsPerAddress = std::max(m_limits.maxConnectionsPerAddress, 0);
    m_limits.maxRequestsPerWakeup = std::max(m_limits.maxRequestsPerWakeup, 1);
    m_limits.maxBytesPerWakeup = std::max<qsizetype>(m_limits.maxBytesPerWakeup, 1);
    m_limits.maxUnsentBytes = std::max<qsizetype>(m_limits.maxUnsentBytes, 1);
    m_limits.maxUnsentBytesTotal = std::max(m_limits.maxUnsentBytesTotal, m_limits.maxUnsentBytes);

    m_acceptRetry = new QTimer(this);
    m_acceptRetry->setSingleShot(true);
    m_acceptRetry->setInterval(kAcceptRetryMs);
    connect(m_acceptRetry, &QTimer::timeout, this, [this] {
        if (m_acceptNotifier)
            m_acceptNotifier->setEnabled(true); // a connection still waiting wakes us at once
    });

    // One coarse timer checks every deadline: per request only an integer changes.
    const int shortest = std::min({m_limits.readTimeoutMs, m_limits.idleTimeoutMs, kLingerMs});
    m_sweepTimer = new QTimer(this);
    m_sweepTimer->setInterval(std::clamp(shortest / 4, 5, 250));
    connect(m_sweepTimer, &QTimer::timeout, this, &Server::sweep);
    m_clock.start();
}

Server::~Server()
{
    // Connections are children: they go with us and hold no pointer that outlives
    // us (Responders see them vanish through their QPointer).
    m_connections.clear();
    if (m_listenFd >= 0) {
        delete m_acceptNotifier;
        ::close(m_listenFd);
    }
}

bool Server::listen(const QHostAddress &address, quint16 port, bool reusePort, QString *error)
{
    const auto setError = [error](const QString &text) {
        if (error)
            *error = text;
    };
    if (m_listenFd >= 0) {
        setError(u"already listening on port %1"_s.arg(m_port));
        return false;
    }
    QString why;
    const int fd = openListeningSocket(address, port, reusePort, &why);
    if (fd < 0) {
        setError(u"cannot listen: "_s + why);
        return false;
    }
    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    if (::getsockname(fd, reinterpret_cast<sockaddr *>(&bound), &length) != 0) {
        setError(u"cannot listen: getsockname: %1"_s.arg(qt_error_string(errno)));
        ::close(fd);
        return false;
    }
    m_port = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<const sockaddr_in6 *>(&bound)->sin6_port)
                                         : ntohs(reinterpret_cast<const sockaddr_in *>(&bound)->sin_port);
    m_listenFd = fd;
    m_acceptNotifier = new QSocketNotifier(fd, QSocketNotifier::Read, this);
    connect(m_acceptNotifier, &QSocketNotifier::activated, this, &Server::onAcceptable);
    m_stopped = false;
    return true;
}

quint16 Server::port() const
{
    return m_listenFd >= 0 ? m_port : 0;
}

ServerStats Server::stats() const
{
    ServerStats stats = m_stats;
    stats.connections = m_connectionCount;
    stats.acceptPaused = m_acceptPausedSince.isValid();
    return stats;
}

void Server::setHandler(Handler handler)
{
    m_handler = std::move(handler);
}

void Server::stopAccepting()
{
    if (m_stopped)
        return;
    m_stopped = true;
    if (m_listenFd >= 0) {
        delete m_acceptNotifier; // off the dispatcher before the number can be reused
        m_acceptNotifier = nullptr;
        ::close(m_listenFd);
        m_listenFd = -1;
    }
    m_acceptRetry->stop();
    if (m_inFlight == 0)
        scheduleIdle();
}

void Server::onAcceptable()
{
    // Our own accept loop: QTcpServer (Qt 6.4) retries accept4() on EMFILE on
    // every loop iteration without a word. A bounded batch per wakeup, so a
    // connection storm does not starve the open connections either.
    for (int i = 0; i < kAcceptsPerWakeup && m_listenFd >= 0; ++i) {
        sockaddr_storage peer{};
        socklen_t length = sizeof peer;
        const int fd = ::accept4(m_listenFd, reinterpret_cast<sockaddr *>(&peer), &length,
                                 SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            if (m_acceptPausedSince.isValid()) {
                qInfo("coupon::http: port %d: accepting again after %lld ms without descriptors", int(m_port),
                      static_cast<long long>(m_acceptPausedSince.elapsed()));
                m_acceptPausedSince.invalidate();
            }
            accept(fd, peerAddress(peer));
            continue;
        }
        switch (errno) {
        case EAGAIN:
#if EAGAIN != EWOULDBLOCK
        case EWOULDBLOCK:
#endif
            return;
        // The connection failed before we took it, or a network error Linux
        // passes on (accept(2)): the next one may be fine.
        case EINTR:
        case ECONNABORTED:
        case EPROTO:
        case ENETDOWN:
        case ENOPROTOOPT:
        case EHOSTDOWN:
        case ENONET:
        case EHOSTUNREACH:
        case EOPNOTSUPP:
        case ENETUNREACH:
        case EPERM: // a firewall rule
            continue;
        default:
            // EMFILE, ENFILE, ENOBUFS, ENOMEM, or something unforeseen: retrying at
            // once would spin. The connections wait in the backlog meanwhile.
            pauseAccepting(errno);
            return;
        }
    }
}

void Server::pauseAccepting(int error)
{
    m_acceptNotifier->setEnabled(false);
    if (!m_acceptPausedSince.isValid()) {
        m_acceptPausedSince.start();
        ++m_stats.acceptPauses;
        qWarning("coupon::http: port %d: accept() failed: %s; not accepting, retrying every %d ms until it works "
                 "(%d connections open; is ulimit -n too low for the connection cap %d?)",
                 int(m_port), qPrintable(qt_error_string(error)), kAcceptRetryMs, m_connectionCount,
                 m_limits.maxConnections);
    }
    m_acceptRetry->start();
}

// Connections from one address count together; an IPv6 client usually has a
// whole /64 to pick addresses from, so IPv6 counts by /64.
QByteArray Server::addressKey(const QHostAddress &peer) const
{
    bool isV4 = false;
    const quint32 v4 = peer.toIPv4Address(&isV4);
    if (isV4) {
        const quint32 big = htonl(v4);
        return QByteArray(reinterpret_cast<const char *>(&big), sizeof big);
    }
    const Q_IPV6ADDR v6 = peer.toIPv6Address();
    return QByteArray(reinterpret_cast<const char *>(v6.c), 8);
}

void Server::accept(int descriptor, const QHostAddress &peer)
{
    QByteArray key;
    bool reject = false;
    if (m_connectionCount >= m_limits.maxConnections) {
        reject = true;
        ++m_stats.refusedGlobal;
    } else if (m_limits.maxConnectionsPerAddress > 0
               && std::none_of(m_limits.uncappedPeers.cbegin(), m_limits.uncappedPeers.cend(),
                               [&](const auto &subnet) { return peer.isInSubnet(subnet); })) {
        key = addressKey(peer);
        if (m_perAddress.value(key) >= m_limits.maxConnectionsPerAddress) {
            reject = true;
            ++m_stats.refusedPerAddress;
            key.clear();
        }
    }
    if (reject && m_rejecting >= kMaxRejecting) {
        ::close(descriptor);
        return;
    }
    new detail::Connection(this, descriptor, peer, std::move(key), reject); // owned by us (parent), deletes itself
}

void Server::defer(detail::Connection *connection)
{
    m_deferred.emplace_back(connection);
    if (m_resumeQueued)
        return;
    m_resumeQueued = true;
    // A queued call: it runs in the loop's next pass (Qt leaves events posted
    // while posted events are sent for the next pass), after the sockets were
    // polled, so the connections that were waiting get their turn in between.
    QTimer::singleShot(0, this, &Server::resumeDeferred);
}

void Server::resumeDeferred()
{
    m_resumeQueued = false;
    std::vector<QPointer<QObject>> turn;
    turn.swap(m_deferred);
    for (const QPointer<QObject> &object : turn) {
        if (object)
            static_cast<detail::Connection *>(object.data())->resume();
    }
}

void Server::sweep()
{
    const qint64 now = m_clock.elapsed();
    QVarLengthArray<detail::Connection *, 32> due;
    for (detail::Connection *connection : m_connections) {
        const qint64 deadline = connection->deadline();
        if (deadline > 0 && now >= deadline)
            due.append(connection);
    }
    // Connections only deleteLater(), so the pointers stay valid through this loop.
    for (detail::Connection *connection : due)
        connection->onDeadline();
}

void Server::registerConnection(detail::Connection *connection)
{
    connection->m_slot = m_connections.size();
    m_connections.push_back(connection);
    if (connection->counted())
        ++m_connectionCount;
    else
        ++m_rejecting;
    m_connectionPeak = std::max(m_connectionPeak, m_connectionCount);
    if (!connection->addressKey().isEmpty())
        ++m_perAddress[connection->addressKey()];
    if (!m_sweepTimer->isActive())
        m_sweepTimer->start();
}

void Server::unregisterConnection(detail::Connection *connection)
{
    const size_t slot = connection->m_slot;
    if (slot < m_connections.size() && m_connections[slot] == connection) {
        m_connections[slot] = m_connections.back();
        m_connections[slot]->m_slot = slot;
        m_connections.pop_back();
    }
    if (connection->counted())
        --m_connectionCount;
    else
        --m_rejecting;
    if (m_connectionCount + kTrimAfterClosing <= m_connectionPeak && !m_trimQueued) {
        // A crowd left: glibc keeps what their buffers took (BENCHMARKS.md, "memory per
        // connection") unless asked to give back the free pages. Once the closing is over.
        m_trimQueued = true;
        QTimer::singleShot(kTrimDelayMs, this, [this] {
            m_trimQueued = false;
            m_connectionPeak = m_connectionCount;
            ::malloc_trim(0);
        });
    }
    if (!connection->addressKey().isEmpty()) {
        const auto it = m_perAddress.find(connection->addressKey());
        if (it != m_perAddress.end() && --*it <= 0)
            m_perAddress.erase(it);
    }
    if (m_connections.empty())
        m_sweepTimer->stop();
}

void Server::requestFinished()
{
    --m_inFlight;
    if (m_inFlight == 0 && m_stopped)
        scheduleIdle();
}

void Server::scheduleIdle()
{
    // Queued: a slot that deletes the server must not run inside respond().
    if (m_idleQueued)
        return;
    m_idleQueued = true;
    QMetaObject::invokeMethod(
        this,
        [this] {
            m_idleQueued = false;
            if (m_stopped && m_inFlight == 0)
                emit idle();
        },
        Qt::QueuedConnection);
}

const QByteArray &Server::dateHeader()
{
    const std::time_t seconds = std::time(nullptr);
    if (seconds != m_dateSecond) {
        static constexpr const char *kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
        static constexpr const char *kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        std::tm utc{};
        gmtime_r(&seconds, &utc);
        char text[64];
        // IMF-fixdate by hand: strftime's %a/%b follow the locale Qt sets up.
        const int length = std::snprintf(text, sizeof text, "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n",
                                         kDays[utc.tm_wday % 7], utc.tm_mday, kMonths[utc.tm_mon % 12],
                                         utc.tm_year + 1900, utc.tm_hour, utc.tm_min, utc.tm_sec);
        m_date = QByteArray(text, std::clamp(length, 0, int(sizeof text) - 1));
        m_dateSecond = seconds;
    }
    return m_date;
}

} // namespace coupon::http
