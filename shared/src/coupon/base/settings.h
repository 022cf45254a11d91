#pragma once

#include "coupon/base/result.h"

#include <QList>
#include <QMap>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

#include <utility>

namespace coupon {

// A setting whose value is never shown (--print-config, error messages):
// the secret settings, and any librdkafka property named like a password or
// secret (sasl.password, ssl.key.password, sasl.oauthbearer.client.secret).
bool isSecretKey(const QString &key);

struct RedisSettings
{
    QString host;
    quint16 port = 0;
    // An ACL user (Redis 6+): AUTH user password. Empty: AUTH password alone
    // (the default user), or no AUTH at all when the password is empty too.
    QString user;
    QString password; // never logged
    int database = 0;
    int connectTimeoutMs = 0;
    int commandTimeoutMs = 0;
    // redis.sentinels: when set, host and port are not used; the master is
    // whatever these Sentinels name for masterName, asked on every connect
    // and every sentinelCheckMs while connected (redis/sentinel.h).
    QList<std::pair<QString, quint16>> sentinels;
    QString masterName;
    QString sentinelUser;
    QString sentinelPassword; // never logged
    int sentinelCheckMs = 0;
    bool usesSentinels() const { return !sentinels.isEmpty(); }
};

struct MysqlSettings
{
    QString host;
    quint16 port = 0;
    QString database;
    QString user;
    QString password; // never logged
    // Passed to QSqlDatabase::setConnectOptions, e.g. "SSL_CA=/etc/ca.pem" for TLS.
    QString connectOptions;
};

struct KafkaSettings
{
    QString topic;
    // Every `kafka.<name>` setting other than kafka.topic, handed to librdkafka
    // as is (bootstrap.servers, security.protocol, sasl.*, ssl.*, ...).
    QMap<QString, QString> properties;

    QString bootstrapServers() const { return properties.value(QStringLiteral("bootstrap.servers")); }
};

struct WorkerSettings
{
    QString group;
    int batchSize = 0;
    int batchMs = 0;
    // The reconciler (one worker at a time holds its lease): rebuilds
    // campaigns a Redis lost or may have lost writes of, and settles
    // pending reservations older than the grace (0: the producer's delivery
    // timeout + 1 s).
    bool reconcile = true;
    int reconcileIntervalMs = 0;
    qint64 settleGraceMs = 0;
    // worker.admin.listen: /healthz, /readyz, /metrics; adminHost empty:
    // none ("off" or empty).
    QString adminHost;
    quint16 adminPort = 0;
};

struct ApplySettings
{
    // The sold-out memo (SoldOutMemo): how long a snapshot of a sold-out
    // campaign answers applies in process before Redis confirms it is
    // unchanged (0: off), and the most holders a snapshot may copy.
    int soldOutMemoMs = 0;
    qint64 soldOutMemoMaxUsers = 0;
};

// Who is applying (gateway.auth*): with `enabled` (gateway.auth = jwt) the
// user is the subject of a verified JWT; without, the body's userId, which
// nothing checks (only behind a front that authenticates).
struct AuthSettings
{
    bool enabled = true;
    QString keysPath;  // PEM public key or JWKS file (reloaded on SIGHUP)
    QString userClaim; // the claim that names the user, "sub" by default
    QString issuer;    // empty: iss not checked
    QString audience;  // empty: aud not checked
    int skewS = 0;     // leeway for exp and nbf
    // Threads that check RS256/ES256 signatures off the event loop; 0: on
    // the event loop; -1: the cores less one with 4 cores or more, else 0.
    int threads = -1;
};

struct GatewaySettings
{
    QString listenHost;
    quint16 listenPort = 0;
    bool reusePort = true;    // several gateway processes on one port
    int maxInFlight = 0;      // applies in flight; beyond, 503 at once
    int readTimeoutMs = 0;    // a request must arrive within this
    int idempotencyTtlS = 0;  // how long an Idempotency-Key's answer is kept
    int idempotencyQuota = 0; // live Idempotency-Key records per user and campaign
    // Peers whose X-Forwarded-For is believed (the right-most address not in
    // this list is the client); everyone else is the TCP peer. Subnets as
    // "10.0.0.0/8", one address as "10.1.2.3/32" (QHostAddress::parseSubnet).
    QStringList trustedProxies;
    AuthSettings auth;
    // Token buckets: requests per second and burst, per user and per client
    // address (rate 0: no limit).
    int userRate = 0;
    int userBurst = 0;
    int addressRate = 0;
    int addressBurst = 0;
    // The operators' listener: /healthz, /readyz (with the reason), /metrics.
    QString adminHost;
    quint16 adminPort = 0;
    int maxConnections = 0;           // open client connections; 0: from ulimit -n (see Gateway::start)
    int maxConnectionsPerAddress = 0; // from one client address (IPv6: /64); 0: no cap
    qint64 maxUnsentBytes = 0;        // answers a client has not read, per connection
    qint64 maxUnsentTotalBytes = 0;   // the same over all connections
};

// Where settings come from, lowest precedence first: built-in defaults, the INI
// file, COUPON_* environment variables, then `--set key=value` flags.
struct SettingsSources
{
    QString iniPath; // empty: no file
    QProcessEnvironment environment;
    QList<std::pair<QString, QString>> overrides;
};

// One typed, validated view of the configuration. Keys are dotted and
// lower-case (`redis.port`); the INI file spells them as `[redis] port=...`,
// the environment as COUPON_REDIS_PORT.
class Settings
{
public:
    RedisSettings redis;
    MysqlSettings mysql;
    KafkaSettings kafka;
    WorkerSettings worker;
    ApplySettings apply;
    GatewaySettings gateway;
    QString defaultCampaign;
    // log.level: debug, info, warning or error (the services; worker/service_log.h).
    QString logLevel;
    // auth.signing.key: the private key (PEM) or JWKS that couponctl token,
    // simulate and the console sign test tokens with; empty: they send none.
    QString signingKeyPath;

    // Errors: "config.file" (unreadable INI), "config.unknown" (a key no part
    // of the system reads), "config.invalid" (the message names the setting
    // and the bad value). Secrets are never part of a message.
    static Result<Settings> load(const SettingsSources &sources);

    // The effective key/value pairs with every secret replaced by "***".
    QStringList describe() const;

    // The environment variable that sets `key`: redis.port -> COUPON_REDIS_PORT.
    static QString environmentName(const QString &key);
    // All keys this version knows (kafka.* passthrough keys aside).
    static QStringList knownKeys();

private:
    QMap<QString, QString> m_effective;
};

} // namespace coupon
