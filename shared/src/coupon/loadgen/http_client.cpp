#include "coupon/loadgen/http_client.h"

#include "coupon/base/threads.h"
#include "coupon/http/response_parser.h"
#include "coupon/loadgen/tokens.h"

#include <QElapsedTimer>
#include <QEventLoop>
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

// One keep-alive connection that runs applies one after another.
class ApplyConnection : public QObject
{
public:
    struct Shared
    {
        const std::vector<qint64> *attempts;
        std::vector<qint64> *latencyNs;
        std::vector<ApplyOutcome> *outcomes;
        std::vector<char> *sent;
        size_t next = 0;
        size_t answered = 0;
        QByteArray requestHead; // up to the headers that vary
        const TokenMinter *tokens = nullptr;
        QString host;
        quint16 port = 0;
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
        connect(&m_socket, &QTcpSocket::connected, this, &ApplyConnection::sendNext);
        connect(&m_socket, &QTcpSocket::readyRead, this, &ApplyConnection::read);
        connect(&m_socket, &QTcpSocket::errorOccurred, this, [this] { fail(); });
        m_socket.setSocketOption(QAbstractSocket::LowDelayOption, 1);
        connect_();
    }

private:
    void connect_()
    {
        m_buffer.clear();
        m_parser.reset();
        m_socket.abort();
        m_socket.connectToHost(m_shared->host, m_shared->port);
    }

    void finishLane()
    {
        if (m_done)
            return;
        m_done = true;
        if (++m_shared->lanesDone == m_shared->lanes)
            m_shared->loop->quit();
    }

    void sendNext()
    {
        if (m_current >= 0)
            return; // a request is out on this connection
        if (m_shared->cancel && m_shared->cancel->load())
            return finishLane();
        if (m_shared->next >= m_shared->attempts->size())
            return finishLane();
        m_current = qint64(m_shared->next++);
        (*m_shared->sent)[size_t(m_current)] = 1;
        const QByteArray body = "{\"userId\":" + QByteArray::number((*m_shared->attempts)[size_t(m_current)]) + '}';
        const QByteArray authorization = m_shared->tokens
            ? m_shared->tokens->headerLine((*m_shared->attempts)[size_t(m_current)])
            : QByteArray();
        m_startedNs = m_shared->clock.nsecsElapsed();
        m_socket.write(m_shared->requestHead + authorization + "Content-Length: " + QByteArray::number(body.size())
                       + "\r\n\r\n" + body);
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
    }

    void fail()
    {
        // The connection broke: the apply in hand counts as unavailable (the
        // gateway may still have taken it; a user would retry).
        if (m_current >= 0)
            record(ApplyOutcome::Unavailable);
        if (++m_failures > 50)
            return finishLane();
        QTimer::singleShot(std::min(1000, 10 * m_failures), this, [this] { connect_(); });
    }

    void read()
    {
        m_buffer += m_socket.readAll();
        qsizetype offset = 0;
        for (;;) {
            const http::ResponseParser::Progress status = m_parser.parse(QByteArrayView(m_buffer).sliced(offset));
            if (status == http::ResponseParser::Progress::NeedMore)
                break;
            if (status == http::ResponseParser::Progress::Failed) {
                // Not HTTP: the connection is no use any more.
                m_socket.abort();
                fail();
                return;
            }
            offset += m_parser.consumed();
            const http::ReceivedResponse &response = m_parser.response();
            if (m_current >= 0) {
                record(statusFromHttp(response.status, response.body));
                m_failures = 0;
            }
            if (response.closesConnection()) {
                connect_();
                return;
            }
            sendNext();
        }
        m_buffer.remove(0, offset);
    }

    Shared *m_shared;
    QTcpSocket m_socket;
    QByteArray m_buffer;
    http::ResponseParser m_parser; // from the start of m_buffer
    qint64 m_current = -1;
    qint64 m_startedNs = 0;
    int m_failures = 0;
    bool m_done = false;
};

} // namespace

Result<SimulationReport> simulateHttp(const QUrl &target, const SimulationOptions &options,
                                      SimulationProgress *progress, const std::atomic<bool> *cancel)
{
    if (!target.isValid() || target.scheme() != u"http"_s || target.host().isEmpty())
        return Error(Errc::HttpTarget, u"--target \"%1\": expected http://HOST:PORT"_s.arg(target.toString()));

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
        shared.host = target.host();
        shared.port = quint16(target.port(80));
        shared.requestHead = "POST /api/v1/campaigns/" + options.campaign.toLatin1()
            + "/applications HTTP/1.1\r\nHost: " + target.host().toLatin1() + "\r\nContent-Type: application/json\r\n";
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
