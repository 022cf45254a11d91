#include "coupon/http/admin_listener.h"

using namespace Qt::StringLiterals;

namespace coupon::http {

Result<Server *> listenAdmin(const QString &setting, const QString &host, quint16 port, const Limits &limits,
                             Server::Handler handler, QObject *parent)
{
    const QString where = u"%1 = \"%2:%3\""_s.arg(setting, host).arg(port);
    QHostAddress address;
    if (!address.setAddress(host))
        return Error(Errc::ConfigInvalid, where + u": not an IP address"_s);
    auto *server = new Server(limits, parent);
    server->setHandler(std::move(handler));
    QString error;
    if (!server->listen(address, port, false, &error)) {
        delete server;
        return Error(Errc::GatewayListen,
                     where + u": "_s + error + u" (each process on a host needs an admin port of its own)"_s);
    }
    return server;
}

} // namespace coupon::http
