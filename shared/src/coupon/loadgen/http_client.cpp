#include "coupon/loadgen/http_client.h"

#include "coupon/base/threads.h"
#include "coupon/http/response_parser.h"
#include "coupon/loadgen/tokens.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QRegularExpression>
#include <QTcpSocket>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <memory>
#include <vector>

using namespace Qt::StringLiterals;

namespace coupon {

ApplyOutcome statusFromHttp(int code, QByteArrayView body)
{
    switch (code) {
    case 202: return ApplyOutcome::Accepted;
    case 409: return ApplyOutcome::Duplicate;
    case 410: return ApplyOutcome::SoldOut;
    case 403: return body.contains("\"user_mismatch\"") ? ApplyOutcome::Invalid : ApplyOutcome::Closed;
    case 404: return ApplyOutcome::NotLoaded;
    case 400:
    case 401:
    case 413:
    case 415: return ApplyOutcome::Invalid;
    case 503:
        if (body.contains("\"outcome_unknown\""))
            return ApplyOutcome::Uncertain;
        return body.contains("\"reconciling\"") ? ApplyOutcome::Reconciling : ApplyOutcome::Unavailable;
    default: return ApplyOutcome::Unavailable; // 429 too: nothing was taken, try later
    }
}

namespace {

// A lane: one apply in flight at a time, sent round robin over the targets
// (attempt k goes to target k mod n), each target over a keep-alive
// connection of this lane's own, opened when first needed.
class ApplyConnection : public QObject
{
public:
    struct Target
    {
        QString host;
        quint16 port = 0;
        QByteArray requestHead; // up to the headers that vary
    };
    struct Shared
    {
        const std::vector<qint64> *attempts;
        std::vector<qint64> *latencyNs;
        std::vector<ApplyOutcome> *outcomes;
        std::vector<char> *sent;
        size_t next = 0;
        size_t answered = 0;
        std::vector<Target> targets;
        const TokenMinter *tokens = nullptr;
        QElapsedTimer clock;
        SimulationProgress *progress;
        const std::atomic<bool> *cancel;
        QEventLoop *loop;
        int lanesDone = 0;
        int lanes = 0;
    };

    explicit ApplyConnection(Shared *shared)
        : m_shared(shared)
    {
        for (size_t i = 0; i < shared->targets.size(); ++i) {
            auto link = std::make_unique<Link>();
            link->target = &shared->targets[i];
            Link *l = link.get();
            connect(&l->socket, &QTcpSocket::connected, this, [this, l] {
                if (l == m_link && m_current >= 0 && !m_written)
                    write();
            });
            connect(&l->socket, &QTcpSocket::readyRead, this, [this, l] { read(*l); });
            connect(&l->socket, &QTcpSocket::errorOccurred, this, [this, l] { broken(*l); });
            l->socket.setSocketOption(QAbstractSocket::LowDelayOption, 1);
            m_links.push_back(std::move(link));
        }
        // From the event loop: a lane with nothing to do ends it, and must
        // not quit the loop before it runs.
        QTimer::singleShot(0, this, &ApplyConnection::sendNext);
    }

private:
    struct Link
    {
        const Target *target = nullptr;
        QTcpSocket socket;
        QByteArray buffer;
        http::ResponseParser parser; // from the start of buffer
    };

    static void open(Link &l)
    {
        l.buffer.clear();
        l.parser.reset();
        l.socket.abort();
        l.socket.connectToHost(l.target->host, l.target->port);
    }

    void finishLane()
    {
        if (m_done)
            return;
        m_done = true;
        if (++m_shared->lanesDone == m_shared->lanes)
            m_shared->loop->quit();
    }

    // Takes the next attempt and sends it on its target's connection
    // (once that connection is up).
    void sendNext()
    {
        if (m_current >= 0 || m_done)
            return; // a request is out on this lane
        if (m_shared->cancel && m_shared->cancel->load())
            return finishLane();
        if (m_shared->next >= m_shared->attempts->size())
            return finishLane();
        m_current = qint64(m_shared->next++);
        m_written = false;
        m_link = m_links[size_t(m_current) % m_links.size()].get();
        resume();
    }

    // Sends the attempt in hand, connecting first if need be.
    void resume()
    {
        switch (m_link->socket.state()) {
        case QAbstractSocket::ConnectedState: return write();
        case QAbstractSocket::UnconnectedState: return open(*m_link);
        default: return; // connecting: write() once connected
        }
    }

    void write()
    {
        m_written = true;
        const qint64 user = (*m_shared->attempts)[size_t(m_current)];
        (*m_shared->sent)[size_t(m_current)] = 1;
        const QByteArray body = "{\"userId\":" + QByteArray::number(user) + '}';
        const QByteArray authorization = m_shared->tokens ? m_shared->tokens->headerLine(user) : QByteArray();
        m_startedNs = m_shared->clock.nsecsElapsed();
        m_link->socket.write(m_link->target->requestHead + authorization
                             + "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body);
    }

    void record(ApplyOutcome status)
    {
        const size_t i = size_t(m_current);
        (*m_shared->latencyNs)[i] = m_shared->clock.nsecsElapsed() - m_startedNs;
        (*m_shared->outcomes)[i] = status;
        ++m_shared->answered;
        if (m_shared->progress) {
            m_shared->progress->byStatus[size_t(status)].fetch_add(1, std::memory_order_relaxed);
            m_shared->progress->recordLatency((*m_shared->latencyNs)[i]);
            m_shared->progress->done.fetch_add(1, std::memory_order_relaxed);
        }
        m_current = -1;
        m_written = false;
    }

    void broken(Link &l)
    {
        if (&l != m_link || m_current < 0) {
            // An idle connection closed (the gateway's keep-alive ran out):
            // opened again when its target's turn comes.
            l.socket.abort();
            return;
        }
        // The apply in hand, if it went out, counts as unavailable (the
        // gateway may still have taken it; a user would retry). One that
        // could not go out waits for the connection to come back.
        if (m_written)
            record(ApplyOutcome::Unavailable);
        if (++m_failures > 50) {
            m_current = -1; // never sent, if it was still in hand
            return finishLane();
        }
        QTimer::singleShot(std::min(1000, 10 * m_failures), this, [this] {
            if (m_current >= 0 && m_shared->cancel && m_shared->cancel->load()) {
                m_current = -1; // cancelled before it could go out
                return finishLane();
            }
            if (m_current >= 0)
                open(*m_link);
            else
                sendNext();
        });
    }

    void read(Link &l)
    {
        l.buffer += l.socket.readAll();
        if (&l != m_link || !m_written) {
            l.buffer.clear(); // nothing asked on this connection: nothing to read
            return;
        }
        qsizetype offset = 0;
        for (;;) {
            const http::ResponseParser::Progress status = l.parser.parse(QByteArrayView(l.buffer).sliced(offset));
            if (status == http::ResponseParser::Progress::NeedMore)
                break;
            if (status == http::ResponseParser::Progress::Failed) {
                // Not HTTP: the connection is no use any more.
                l.socket.abort();
                broken(l);
                return;
            }
            offset += l.parser.consumed();
            const http::ReceivedResponse &response = l.parser.response();
            if (m_current >= 0) {
                record(statusFromHttp(response.status, response.body));
                m_failures = 0;
            }
            if (response.closesConnection()) {
                l.buffer.clear();
                l.parser.reset();
                l.socket.abort();
                sendNext();
                return;
            }
            l.buffer.remove(0, offset);
            offset = 0;
            sendNext();
            if (&l != m_link || !m_written)
                return; // the next apply went elsewhere, or waits for a connection
        }
        l.buffer.remove(0, offset);
    }

    Shared *m_shared;
    std::vector<std::unique_ptr<Link>> m_links; // one per target
    Link *m_link = nullptr;                     // where the apply in hand goes
    qint64 m_current = -1;                      // the attempt in hand
    bool m_written = false;                     // whether it went out
    qint64 m_startedNs = 0;
    int m_failures = 0;
    bool m_done = false;
};

} // namespace

Result<QList<QUrl>> parseTargets(const QString &text)
{
    static const QRegularExpression separators(u"[\\s,]+"_s);
    QList<QUrl> targets;
    for (const QString &part : text.split(separators, Qt::SkipEmptyParts)) {
        const QUrl url(part, QUrl::StrictMode);
        if (!url.isValid() || url.scheme() != u"http"_s || url.host().isEmpty())
            return Error(Errc::HttpTarget, u"target \"%1\": expected http://HOST:PORT"_s.arg(part));
        targets << url;
    }
    if (targets.isEmpty())
        return Error(Errc::HttpTarget,
                     u"no target: expected http://HOST:PORT, several separated by commas or spaces"_s);
    return targets;
}

Result<SimulationReport> simulateHttp(const QUrl &target, const SimulationOptions &options,
                                      SimulationProgress *progress, const std::atomic<bool> *cancel)
{
    return simulateHttp(QList<QUrl>{target}, options, progress, cancel);
}

Result<SimulationReport> simulateHttp(const QList<QUrl> &targets, const SimulationOptions &options,
                                      SimulationProgress *progress, const std::atomic<bool> *cancel)
{
    if (targets.isEmpty())
        return Error(Errc::HttpTarget, u"no target: expected http://HOST:PORT"_s);
    for (const QUrl &target : targets) {
        if (!target.isValid() || target.scheme() != u"http"_s || target.host().isEmpty())
            return Error(Errc::HttpTarget, u"--target \"%1\": expected http://HOST:PORT"_s.arg(target.toString()));
    }

    const std::vector<qint64> attempts = simulationAttempts(options);
    std::vector<qint64> latencyNs(attempts.size(), 0);
    std::vector<ApplyOutcome> outcomes(attempts.size(), ApplyOutcome::Unavailable);
    std::vector<char> sent(attempts.size(), 0);
    SimulationProgress localProgress;
    SimulationProgress &live = progress ? *progress : localProgress;
    live.total.store(qint64(attempts.size()));

    double seconds = 0;
    // The lanes live on a private thread with its own event loop, so callers
    // on a GUI thread or with no loop at all can use this alike.
    std::unique_ptr<QThread> thread(QThread::create([&] {
        setCurrentThreadName("http-load");
        QEventLoop loop;
        ApplyConnection::Shared shared;
        shared.attempts = &attempts;
        shared.latencyNs = &latencyNs;
        shared.outcomes = &outcomes;
        shared.sent = &sent;
        for (const QUrl &target : targets) {
            shared.targets.push_back({target.host(), quint16(target.port(80)),
                                      "POST /api/v1/campaigns/" + options.campaign.toLatin1()
                                          + "/applications HTTP/1.1\r\nHost: " + target.host().toLatin1()
                                          + "\r\nContent-Type: application/json\r\n"});
        }
        shared.tokens = options.tokens.get();
        shared.progress = &live;
        shared.cancel = cancel;
        shared.loop = &loop;
        shared.lanes = std::max(1, options.concurrency);
        shared.clock.start();
        std::vector<std::unique_ptr<ApplyConnection>> lanes;
        lanes.reserve(size_t(shared.lanes));
        for (int i = 0; i < shared.lanes; ++i)
            lanes.push_back(std::make_unique<ApplyConnection>(&shared));
        loop.exec();
        seconds = double(shared.clock.nsecsElapsed()) / 1e9;
    }));
    thread->setObjectName(u"http-simulation"_s);
    thread->start();
    thread->wait();

    return summarizeSimulation(attempts, sent, outcomes, latencyNs, seconds, true);
}

} // namespace coupon
