#include "tcpproxy.h"

#include <QHostAddress>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>

namespace coupon::test {

class TcpProxy::Engine : public QObject
{
public:
    explicit Engine(quint16 upstream)
        : m_upstream(upstream)
    { }

    quint16 listen()
    {
        m_server = new QTcpServer(this);
        if (!m_server->listen(QHostAddress::LocalHost, 0))
            qFatal("proxy: cannot listen");
        connect(m_server, &QTcpServer::newConnection, this, &Engine::accept);
        return m_server->serverPort();
    }

    void setStalled(bool stalled)
    {
        const bool was = m_stalled;
        m_stalled = stalled;
        if (!was || stalled)
            return;
        // What arrived while stalled was left unread: pass it on now, as a
        // server that wakes up answers what it was sent.
        const auto sockets = findChildren<QTcpSocket *>();
        for (QTcpSocket *s : sockets) {
            if (s->bytesAvailable() > 0)
                emit s->readyRead();
        }
    }

    void setCut(bool cut)
    {
        m_cut = cut;
        if (cut) {
            const auto sockets = findChildren<QTcpSocket *>();
            for (QTcpSocket *s : sockets)
                s->abort();
        }
    }

private:
    void accept()
    {
        while (QTcpSocket *client = m_server->nextPendingConnection()) {
            client->setParent(this);
            if (m_cut) {
                client->abort();
                client->deleteLater();
                continue;
            }
            auto *upstream = new QTcpSocket(this);
            QPointer<QTcpSocket> c(client), u(upstream);
            auto pump = [this](QTcpSocket *from, QTcpSocket *to) {
                if (m_stalled)
                    return; // leave the bytes unread: the peer waits forever
                if (from && to)
                    to->write(from->readAll());
            };
            connect(client, &QTcpSocket::readyRead, this, [=] { pump(c, u); });
            connect(upstream, &QTcpSocket::readyRead, this, [=] { pump(u, c); });
            // Data the client sent before the upstream connection opened.
            connect(upstream, &QTcpSocket::connected, this, [=] { pump(c, u); });
            auto close = [=] {
                if (c) {
                    c->abort();
                    c->deleteLater();
                }
                if (u) {
                    u->abort();
                    u->deleteLater();
                }
            };
            connect(client, &QTcpSocket::disconnected, this, close);
            connect(upstream, &QTcpSocket::disconnected, this, close);
            connect(upstream, &QTcpSocket::errorOccurred, this, close);
            upstream->connectToHost(QHostAddress::LocalHost, m_upstream);
        }
    }

    quint16 m_upstream;
    QTcpServer *m_server = nullptr;
    bool m_cut = false;
    bool m_stalled = false;
};

TcpProxy::TcpProxy(quint16 upstreamPort)
{
    m_thread.setObjectName(QStringLiteral("tcp-proxy"));
    m_engine = new Engine(upstreamPort);
    m_engine->moveToThread(&m_thread);
    QObject::connect(&m_thread, &QThread::finished, m_engine, &QObject::deleteLater);
    m_thread.start();
    QMetaObject::invokeMethod(
        m_engine, [this] { m_port = m_engine->listen(); }, Qt::BlockingQueuedConnection);
}

TcpProxy::~TcpProxy()
{
    m_thread.quit();
    m_thread.wait();
}

void TcpProxy::cut()
{
    QMetaObject::invokeMethod(
        m_engine, [this] { m_engine->setCut(true); }, Qt::BlockingQueuedConnection);
}

void TcpProxy::stall()
{
    QMetaObject::invokeMethod(
        m_engine, [this] { m_engine->setStalled(true); }, Qt::BlockingQueuedConnection);
}

void TcpProxy::heal()
{
    QMetaObject::invokeMethod(
        m_engine,
        [this] {
            m_engine->setCut(false);
            m_engine->setStalled(false);
        },
        Qt::BlockingQueuedConnection);
}

} // namespace coupon::test
