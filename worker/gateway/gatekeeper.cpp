#include "gateway/gatekeeper.h"

#include "gateway/answers.h"

#include <QLoggingCategory>
#include <QThread>

#include <cmath>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcGatekeeper, "coupon.gateway.auth")

namespace coupon::gateway {

template <typename Key>
int TokenBuckets<Key>::take(const Key &key, qint64 nowMs)
{
    if (m_rate <= 0)
        return 0;
    if (nowMs - m_sweptMs >= 1000)
        sweep(nowMs);
    auto it = m_buckets.find(key);
    if (it == m_buckets.end()) {
        if (m_buckets.size() >= kMaxTracked) {
            ++m_untracked;
            return 0;
        }
        it = m_buckets.insert(key, Bucket{double(m_burst), nowMs});
    }
    Bucket &b = it.value();
    b.tokens = std::min(double(m_burst), b.tokens + double(nowMs - b.atMs) * m_rate / 1000.0);
    b.atMs = nowMs;
    if (b.tokens >= 1.0) {
        b.tokens -= 1.0;
        return 0;
    }
    return std::max(1, int(std::ceil((1.0 - b.tokens) / m_rate)));
}

template <typename Key>
void TokenBuckets<Key>::sweep(qint64 nowMs)
{
    m_sweptMs = nowMs;
    // A bucket that has filled up again is the same as no bucket.
    const double refillMs = 1000.0 * m_burst / m_rate;
    for (auto it = m_buckets.begin(); it != m_buckets.end();) {
        if (double(nowMs - it->atMs) + it->tokens * 1000.0 / m_rate >= refillMs)
            it = m_buckets.erase(it);
        else
            ++it;
    }
}

template class TokenBuckets<qint64>;
template class TokenBuckets<QHostAddress>;

http::Response rateLimited(const QString &who, int retryAfterS)
{
    http::Response r = http::Response::error(
        429, u"rate_limited"_s, u"too many requests from this %1; try again in %2 s"_s.arg(who).arg(retryAfterS));
    r.headers.append({"Retry-After", QByteArray::number(retryAfterS)});
    return r;
}

namespace {

http::Response unauthorized(const QString &code, const QString &message)
{
    http::Response r = http::Response::error(401, code, message);
    // RFC 6750 3: the scheme, and why a token that was sent is refused.
    r.headers.append(
        {"WWW-Authenticate",
         code == u"invalid_token"_s ? QByteArray(R"(Bearer error="invalid_token")") : QByteArray("Bearer")});
    return r;
}

} // namespace

Gatekeeper::Gatekeeper(const GatewaySettings &settings)
    : m_settings(settings)
    , m_verifier(auth::Expectations{settings.auth.userClaim, settings.auth.issuer, settings.auth.audience,
                                    settings.auth.skewS})
    , m_users(settings.userRate, settings.userBurst)
    , m_addresses(settings.addressRate, settings.addressBurst)
    , m_context(std::make_unique<QObject>())
{
    // Asymmetric signatures are checked off the event loop, on the cores it
    // does not use. With fewer than 4 cores there are none to spare: handing
    // a token to a thread and back cost ~40 us more CPU than it saved on 2
    // cores (BENCHMARKS.md), so they are checked on the loop.
    const int cores = QThread::idealThreadCount();
    m_threads = settings.auth.threads >= 0 ? settings.auth.threads : (cores >= 4 ? cores - 1 : 0);
    m_pool.setMaxThreadCount(std::max(1, m_threads));
    m_pool.setObjectName(u"jwt-verify"_s);
    for (const QString &subnet : settings.trustedProxies)
        m_trusted.append(QHostAddress::parseSubnet(subnet));
}

Gatekeeper::~Gatekeeper()
{
    // Checks still running post to m_context: wait for them before it goes
    // (and with it whatever they posted).
    m_pool.waitForDone();
}

Status Gatekeeper::loadKeys()
{
    if (!m_settings.auth.enabled)
        return Ok{};
    if (m_settings.auth.keysPath.isEmpty())
        return Error(Errc::ConfigInvalid,
                     u"gateway.auth.keys: required when gateway.auth = jwt (a PEM public key or a JWKS file; "
                     "gateway.auth = none only behind a front that authenticates every caller)"_s);
    Result<std::shared_ptr<const auth::KeySet>> keys = auth::KeySet::fromFile(m_settings.auth.keysPath);
    if (!keys)
        return Error(Errc::ConfigInvalid, u"gateway.auth.keys: %1"_s.arg(keys.error().message));
    m_verifier.setKeys(*keys);
    ++m_keysGeneration;
    qCInfo(lcGatekeeper, "verifying tokens with %d key(s) from %s", (*keys)->size(),
           qPrintable(m_settings.auth.keysPath));
    return Ok{};
}

namespace {

// The bucket of an address: IPv6 by its /64 (one subscriber's prefix, as
// the server's per-address connection cap counts it), IPv4 as it is.
QHostAddress bucketOf(const QHostAddress &address)
{
    if (address.protocol() != QAbstractSocket::IPv6Protocol)
        return address;
    Q_IPV6ADDR bytes = address.toIPv6Address();
    for (int i = 8; i < 16; ++i)
        bytes[i] = 0;
    return QHostAddress(bytes);
}

// An X-Forwarded-For hop: an address, "1.2.3.4:5678" or "[::1]:80".
bool parseHop(QByteArray hop, QHostAddress *address)
{
    if (hop.startsWith('[')) {
        const qsizetype close = hop.indexOf(']');
        if (close < 0)
            return false;
        hop = hop.mid(1, close - 1);
    } else if (hop.count(':') == 1) {
        hop.truncate(hop.indexOf(':'));
    }
    return address->setAddress(QString::fromLatin1(hop));
}

} // namespace

bool Gatekeeper::isTrustedProxy(const QHostAddress &address) const
{
    for (const auto &subnet : m_trusted) {
        if (address.isInSubnet(subnet))
            return true;
    }
    return false;
}

QHostAddress Gatekeeper::clientAddress(const http::Request &request) const
{
    if (m_trusted.isEmpty() || !isTrustedProxy(request.peer))
        return request.peer;
    // Every X-Forwarded-For line, in order, read right to left: the first
    // address no trusted proxy added is the client's. Anything unreadable
    // stops the walk at the last hop we trust.
    QList<QByteArray> hops;
    for (const auto &[name, value] : request.headers) {
        if (name == "x-forwarded-for") {
            for (const QByteArray &hop : value.split(','))
                hops.append(hop.trimmed());
        }
    }
    QHostAddress client = request.peer;
    for (qsizetype i = hops.size() - 1; i >= 0; --i) {
        QHostAddress hop;
        if (!parseHop(hops[i], &hop))
            break;
        bool mapped = false;
        const QHostAddress v4(hop.toIPv4Address(&mapped));
        client = mapped ? v4 : hop;
        if (!isTrustedProxy(client))
            break;
    }
    return client;
}

Gatekeeper::Verdict Gatekeeper::admitAddress(const http::Request &request, qint64 nowMs)
{
    Verdict v;
    if (m_addresses.enabled()) {
        if (const int wait = m_addresses.take(bucketOf(clientAddress(request)), nowMs); wait > 0) {
            v.refusal = rateLimited(u"address"_s, wait);
            v.reason = Refusal::RateAddress;
        }
    }
    return v;
}

std::optional<QByteArray> Gatekeeper::bearer(const http::Request &request, Verdict *v)
{
    const QByteArray header = request.header("authorization");
    constexpr QByteArrayView scheme("bearer ");
    if (header.size() <= scheme.size()
        || QByteArrayView(header).first(scheme.size()).compare(scheme, Qt::CaseInsensitive) != 0) {
        v->refusal = unauthorized(u"unauthorized"_s, u"send Authorization: Bearer <token>"_s);
        v->reason = Refusal::Unauthorized;
        return std::nullopt;
    }
    return QByteArrayView(header).sliced(scheme.size()).trimmed().toByteArray();
}

Gatekeeper::Verdict Gatekeeper::verdictOf(const Result<qint64> &user)
{
    Verdict v;
    if (!user) {
        v.refusal = unauthorized(user.error().code, user.error().message);
        v.reason = Refusal::InvalidToken;
    } else {
        v.user = *user;
    }
    return v;
}

Gatekeeper::Verdict Gatekeeper::admit(const http::Request &request, qint64 nowMs, qint64 nowS, bool needToken)
{
    Verdict v = admitAddress(request, nowMs);
    if (v.refusal || !m_settings.auth.enabled || !needToken)
        return v;
    const std::optional<QByteArray> token = bearer(request, &v);
    if (!token)
        return v;
    return verdictOf(m_verifier.verify(*token, nowS));
}

void Gatekeeper::admitAsync(const http::Request &request, qint64 nowMs, qint64 nowS, bool needToken,
                            VerdictCallback done)
{
    Verdict v = admitAddress(request, nowMs);
    if (v.refusal || !m_settings.auth.enabled || !needToken)
        return done(std::move(v));
    std::optional<QByteArray> token = bearer(request, &v);
    if (!token)
        return done(std::move(v));
    if (const std::optional<qint64> user = m_verifier.remembered(*token, nowS)) {
        v.user = user;
        return done(std::move(v));
    }
    if (m_threads == 0 || !m_verifier.hasKeys() || m_verifier.symmetricOnly())
        return done(verdictOf(m_verifier.verify(*token, nowS)));
    if (m_verifying >= kMaxVerifying) {
        v.refusal = unavailable(u"overloaded"_s, u"too many tokens waiting to be checked; try again"_s);
        return done(std::move(v));
    }
    ++m_verifying;
    m_pool.start([this, context = m_context.get(), keys = m_verifier.keys(), expectations = m_verifier.expectations(),
                  generation = m_keysGeneration, token = std::move(*token), nowS, done = std::move(done)]() mutable {
        double exp = 0;
        Result<qint64> user = auth::Verifier::check(*keys, expectations, token, nowS, &exp);
        // Back on the event loop; dropped unanswered if the gateway is gone
        // (its responder then has no connection left to answer).
        QMetaObject::invokeMethod(
            context,
            [this, generation, token = std::move(token), user = std::move(user), exp, done = std::move(done)] {
                --m_verifying;
                if (user && generation == m_keysGeneration)
                    m_verifier.remember(token, *user, exp);
                done(verdictOf(user));
            },
            Qt::QueuedConnection);
    });
}

Gatekeeper::Verdict Gatekeeper::admitUser(qint64 user, qint64 nowMs)
{
    Verdict v;
    if (const int wait = m_users.take(user, nowMs); wait > 0) {
        v.refusal = rateLimited(u"user"_s, wait);
        v.reason = Refusal::RateUser;
    }
    return v;
}

} // namespace coupon::gateway
