#pragma once

#include <QObject>
#include <QThread>

#include <memory>

class QTcpServer;
class QTcpSocket;

namespace coupon::test {

// A loopback TCP proxy in front of a real server, for outages a real server
// can't script: `cut()` drops every connection and refuses new ones until
// `heal()`. Runs on its own thread; the methods are safe from any thread.
class TcpProxy
{
public:
    TcpProxy(quint16 upstreamPort);
    ~TcpProxy();

    quint16 port() const { return m_port; }
    void cut();   // drop every connection, refuse new ones
    void stall(); // keep connections open but forward nothing: a hung server
    void heal();  // a stalled proxy then passes on what it held

private:
    class Engine;
    QThread m_thread;
    Engine *m_engine = nullptr;
    quint16 m_port = 0;
};

} // namespace coupon::test
