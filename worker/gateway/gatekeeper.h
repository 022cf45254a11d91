#pragma once

// Who is calling, and whether they may: the client's address (through
// trusted proxies only), its token bucket, the JWT that names the user
// (gateway.auth = jwt) and the user's token bucket.
//
// Buckets live in this process: several gateways give a client several
// buckets (a load balancer that spreads a client over N gateways gives it N
// times the rate). They are swept once a second of those that are full
// again, and at most kMaxTracked of each kind are kept: beyond, a new key
// is let through untracked (counted) rather than refused, so a flood of
// addresses cannot lock real users out.

#include "coupon/auth/jwt.h"
#include "coupon/base/settings.h"
#include "coupon/http/server.h"
#include "gateway/routes.h"

#include <QHash>
#include <QHostAddress>
#include <QObject>
#include <QThreadPool>

#include <functional>

#include <memory>
#include <optional>
#include <utility>

namespace coupon::gateway {

// Token buckets keyed by Key: `rate` tokens a second up to `burst`.
template <typename Key>
class TokenBuckets
{
public:
    static constexpr qsizetype kMaxTracked = 1'000'000;

    TokenBuckets(int rate, int burst)
        : m_rate(rate)
        , m_burst(burst)
    { }

    bool enabled() const { return m_rate > 0; }
    // 0 when a token was taken; else whole seconds until one is there.
    int take(const Key &key, qint64 nowMs);
    qsizetype tracked() const { return m_buckets.size(); }
    qint64 untracked() const { return m_untracked; }

private:
    struct Bucket
    {
        double tokens = 0;
        qint64 atMs = 0;
    };
    void sweep(qint64 nowMs);

    int m_rate;
    int m_burst;
    QHash<Key, Bucket> m_buckets;
    qint64 m_sweptMs = 0;
    qint64 m_untracked = 0;
};

class Gatekeeper
{
public:
    explicit Gatekeeper(const GatewaySettings &settings);
    ~Gatekeeper();

    // Reads gateway.auth.keys again (at start, and on SIGHUP). A failed
    // reload keeps the keys in use.
    Status loadKeys();
    bool authEnabled() const { return m_settings.auth.enabled; }

    // The address a request is counted under: the TCP peer, or, when that is
    // a trusted proxy, the right-most X-Forwarded-For address that is not
    // (a hop may carry a port). IPv6 addresses share a bucket per /64.
    QHostAddress clientAddress(const http::Request &request) const;

    struct Verdict
    {
        std::optional<http::Response> refusal; // answer this and stop
        Refusal reason = Refusal::Count;
        std::optional<qint64> user; // jwt: the token's user
    };
    // The address bucket, then (jwt, when `needToken`) the bearer token.
    Verdict admit(const http::Request &request, qint64 nowMs, qint64 nowS, bool needToken = true);
    // The same, with an RS256 or ES256 signature (~40 and ~110 us here)
    // checked on a thread of the gateway's pool (gateway.auth.threads), not
    // on the event loop, when it has threads; a remembered token or an
    // HS256 one is checked at once. `done` runs on the event loop, now or later; past kMaxVerifying
    // checks waiting, 503 overloaded.
    static constexpr int kMaxVerifying = 10000;
    using VerdictCallback = std::function<void(Verdict)>;
    void admitAsync(const http::Request &request, qint64 nowMs, qint64 nowS, bool needToken, VerdictCallback done);
    // The user's bucket.
    Verdict admitUser(qint64 user, qint64 nowMs);

    qsizetype trackedUsers() const { return m_users.tracked(); }
    qsizetype trackedAddresses() const { return m_addresses.tracked(); }

private:
    bool isTrustedProxy(const QHostAddress &address) const;
    Verdict admitAddress(const http::Request &request, qint64 nowMs);
    // The bearer token, or nullopt with `v` set to the 401.
    static std::optional<QByteArray> bearer(const http::Request &request, Verdict *v);
    static Verdict verdictOf(const Result<qint64> &user);

    const GatewaySettings &m_settings;
    QList<std::pair<QHostAddress, int>> m_trusted;
    auth::Verifier m_verifier;
    TokenBuckets<qint64> m_users;
    TokenBuckets<QHostAddress> m_addresses;
    quint64 m_keysGeneration = 0;       // a check begun before a reload is not remembered after it
    int m_verifying = 0;                // checks handed to the pool, not answered yet
    int m_threads = 0;                  // the pool's threads; 0: checks run on the event loop
    std::unique_ptr<QObject> m_context; // the pool's answers come back to the event loop through it
    QThreadPool m_pool;                 // declared after m_context: it goes first
};

// 429 rate_limited with Retry-After.
http::Response rateLimited(const QString &who, int retryAfterS);

} // namespace coupon::gateway
