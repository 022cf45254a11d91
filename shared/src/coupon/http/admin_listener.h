#pragma once

#include "coupon/base/result.h"
#include "coupon/http/server.h"

namespace coupon::http {

// An operator's listener (/healthz, /readyz, /metrics; gateway.admin.listen,
// worker.admin.listen) on `host`:`port`, the value of the setting named
// `setting`: a host that is not an IP address, or a port that is taken,
// is an error naming the setting. No SO_REUSEPORT: each process answers for
// itself, so several on one host need a port each. The server is a child of
// `parent`; `limits` are its own, apart from any client traffic.
Result<Server *> listenAdmin(const QString &setting, const QString &host, quint16 port, const Limits &limits,
                             Server::Handler handler, QObject *parent);

} // namespace coupon::http
