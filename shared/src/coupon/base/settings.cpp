#include "coupon/base/settings.h"

#include <QFileInfo>
#include <QSettings>

#include <arpa/inet.h>

#include <limits>
#include <optional>

using namespace Qt::StringLiterals;

namespace coupon {

namespace {

enum class Kind { Text, NonEmpty, Port, Int, Secret, Bool, HostPort, HostPortOrOff, HostPorts, Subnets, Choice };

struct Spec
{
    const char *key;
    const char *defaultValue;
    Kind kind;
    qint64 min = 0;
    qint64 max = 0;
    const char *choices = nullptr; // Kind::Choice: the values allowed, '|'-separated
};

// The defaults reproduce the tutorial's topology on one machine: everything on
// loopback, topic coupon_create, consumer group group_1.
constexpr Spec kSpecs[] = {
    {"redis.host", "127.0.0.1", Kind::NonEmpty},
    {"redis.port", "6379", Kind::Port},
    {"redis.user", "", Kind::Text},
    {"redis.password", "", Kind::Secret},
    {"redis.db", "0", Kind::Int, 0, 15},
    {"redis.connect.timeout.ms", "1000", Kind::Int, 1, 600000},
    {"redis.command.timeout.ms", "1000", Kind::Int, 1, 600000},
    {"redis.sentinels", "", Kind::HostPorts},
    {"redis.master.name", "coupon", Kind::NonEmpty},
    {"redis.sentinel.user", "", Kind::Text},
    {"redis.sentinel.password", "", Kind::Secret},
    {"redis.sentinel.check.ms", "1000", Kind::Int, 100, 600000},
    {"mysql.host", "127.0.0.1", Kind::NonEmpty},
    {"mysql.port", "3306", Kind::Port},
    {"mysql.database", "coupon", Kind::NonEmpty},
    {"mysql.user", "coupon_admin", Kind::NonEmpty},
    {"mysql.password", "", Kind::Secret},
    {"mysql.options", "", Kind::Text},
    {"kafka.topic", "coupon_create", Kind::NonEmpty},
    {"kafka.bootstrap.servers", "127.0.0.1:9092", Kind::NonEmpty},
    {"worker.group", "group_1", Kind::NonEmpty},
    {"worker.batch.size", "2000", Kind::Int, 1, 100000},
    {"worker.batch.ms", "20", Kind::Int, 0, 60000},
    {"worker.reconcile", "true", Kind::Bool},
    {"worker.reconcile.interval.ms", "500", Kind::Int, 50, 60000},
    {"worker.settle.grace.ms", "0", Kind::Int, 0, 86400000},
    {"worker.admin.listen", "127.0.0.1:8091", Kind::HostPortOrOff},
    {"campaign.default", "default", Kind::NonEmpty},
    {"log.level", "info", Kind::Choice, 0, 0, "debug|info|warning|error"},
    {"apply.soldout.memo.ms", "100", Kind::Int, 0, 10000},
    {"apply.soldout.memo.max.users", "1000000", Kind::Int, 0, 100000000},
    {"gateway.listen", "127.0.0.1:8080", Kind::HostPort},
    {"gateway.reuseport", "true", Kind::Bool},
    {"gateway.max.inflight", "10000", Kind::Int, 1, 1000000},
    {"gateway.read.timeout.ms", "5000", Kind::Int, 100, 600000},
    {"gateway.idempotency.ttl.s", "600", Kind::Int, 1, 30 * 86400},
    {"gateway.idempotency.quota", "8", Kind::Int, 1, 1000},
    {"gateway.trusted.proxies", "", Kind::Subnets},
    {"gateway.auth", "jwt", Kind::Choice, 0, 0, "jwt|none"},
    {"gateway.auth.keys", "", Kind::Text},
    {"gateway.auth.user.claim", "sub", Kind::NonEmpty},
    {"gateway.auth.issuer", "", Kind::Text},
    {"gateway.auth.audience", "", Kind::Text},
    {"gateway.auth.skew.s", "30", Kind::Int, 0, 3600},
    {"gateway.auth.threads", "-1", Kind::Int, -1, 256},
    {"gateway.limit.user.rate", "2", Kind::Int, 0, 1000000},
    {"gateway.limit.user.burst", "5", Kind::Int, 1, 1000000},
    {"gateway.limit.address.rate", "1000", Kind::Int, 0, 10000000},
    {"gateway.limit.address.burst", "2000", Kind::Int, 1, 10000000},
    {"gateway.admin.listen", "127.0.0.1:8081", Kind::HostPort},
    {"gateway.max.connections", "0", Kind::Int, 0, 10000000},
    {"gateway.max.connections.per.address", "256", Kind::Int, 0, 10000000},
    {"gateway.max.unsent.bytes", "16384", Kind::Int, 1024, 64 * 1024 * 1024},
    {"gateway.max.unsent.total.bytes", "33554432", Kind::Int, 65536, qint64(64) * 1024 * 1024 * 1024},
    {"auth.signing.key", "", Kind::Text},
};

const Spec *findSpec(const QString &key)
{
    for (const Spec &spec : kSpecs) {
        if (key == QLatin1String(spec.key))
            return &spec;
    }
    return nullptr;
}

bool isKafkaPassthrough(const QString &key)
{
    return key.startsWith(u"kafka."_s) && key.size() > 6;
}

// "10.0.0.0/8", or one address as "10.1.2.3/32" ("::1/128"); nullopt when
// it is neither. inet_pton: Qt Network's QHostAddress is not for this layer.
std::optional<QString> parseSubnet(const QString &text)
{
    const QString item = text.trimmed();
    const qsizetype slash = item.indexOf(u'/');
    const QByteArray address = (slash < 0 ? item : item.left(slash)).toLatin1();
    unsigned char buffer[16]; // an in6_addr
    int bits = 0;
    if (inet_pton(AF_INET, address.constData(), buffer) == 1)
        bits = 32;
    else if (inet_pton(AF_INET6, address.constData(), buffer) == 1)
        bits = 128;
    else
        return std::nullopt;
    if (slash < 0)
        return item + u'/' + QString::number(bits);
    bool ok = false;
    const int prefix = item.mid(slash + 1).toInt(&ok);
    if (!ok || prefix < 0 || prefix > bits)
        return std::nullopt;
    return item;
}

// "host:port", the port 0..65535 (0: a free one).
bool isHostPort(const QString &value)
{
    const qsizetype colon = value.lastIndexOf(u':');
    bool ok = false;
    const int port = colon > 0 ? value.mid(colon + 1).toInt(&ok) : 0;
    return colon > 0 && ok && port >= 0 && port <= 65535;
}

Error invalid(const QString &key, const QString &value, const QString &why)
{
    const QString shown = isSecretKey(key) ? u"***"_s : u'"' + value + u'"';
    return Error(Errc::ConfigInvalid, key + u" = "_s + shown + u": "_s + why);
}

Status validate(const QString &key, const QString &value)
{
    const Spec *spec = findSpec(key);
    if (!spec)
        return Ok{};
    switch (spec->kind) {
    case Kind::Text:
    case Kind::Secret: return Ok{};
    case Kind::NonEmpty:
        if (value.trimmed().isEmpty())
            return invalid(key, value, u"must not be empty"_s);
        return Ok{};
    case Kind::Port: {
        bool ok = false;
        const int port = value.toInt(&ok);
        if (!ok || port < 1 || port > 65535)
            return invalid(key, value, u"must be a TCP port, 1..65535"_s);
        return Ok{};
    }
    case Kind::Bool:
        if (value != u"true"_s && value != u"false"_s)
            return invalid(key, value, u"must be true or false"_s);
        return Ok{};
    case Kind::HostPortOrOff:
        if (value.isEmpty() || value == u"off"_s)
            return Ok{};
        if (!isHostPort(value))
            return invalid(
                key, value,
                u"must be host:port, e.g. 127.0.0.1:8091 (port 0 picks a free one), or off (or empty) for none"_s);
        return Ok{};
    case Kind::HostPort:
        if (!isHostPort(value))
            return invalid(key, value, u"must be host:port, e.g. 127.0.0.1:8080 (port 0 picks a free one)"_s);
        return Ok{};
    case Kind::HostPorts:
        for (const QString &item : value.split(u',', Qt::SkipEmptyParts)) {
            // A Sentinel's port is a real one: 0 ("pick a free one") means nothing here.
            if (!isHostPort(item.trimmed()) || item.trimmed().endsWith(u":0"_s))
                return invalid(key, value,
                               u"must be host:port pairs, comma-separated, e.g. 10.0.0.1:26379,10.0.0.2:26379"_s);
        }
        return Ok{};
    case Kind::Subnets:
        for (const QString &item : value.split(u',', Qt::SkipEmptyParts)) {
            if (!parseSubnet(item))
                return invalid(key, value,
                               u"must be IP addresses or subnets, comma-separated, e.g. 10.0.0.0/8,192.168.1.7"_s);
        }
        return Ok{};
    case Kind::Choice:
        if (!QString::fromLatin1(spec->choices).split(u'|').contains(value))
            return invalid(key, value,
                           u"must be one of: %1"_s.arg(QString::fromLatin1(spec->choices).replace(u'|', u", "_s)));
        return Ok{};
    case Kind::Int: {
        bool ok = false;
        const qint64 number = value.toLongLong(&ok);
        if (!ok || number < spec->min || number > spec->max)
            return invalid(key, value, u"must be an integer in %1..%2"_s.arg(spec->min).arg(spec->max));
        return Ok{};
    }
    }
    return Ok{};
}

QString keyFromEnvironment(const QString &name)
{
    // COUPON_KAFKA_SASL_MECHANISM -> kafka.sasl.mechanism. librdkafka's property
    // names are dotted throughout, so the mapping is unambiguous.
    return name.mid(7).toLower().replace(u'_', u'.');
}

} // namespace

bool isSecretKey(const QString &key)
{
    if (const Spec *spec = findSpec(key))
        return spec->kind == Kind::Secret;
    // librdkafka secrets: sasl.password, ssl.key.password, sasl.oauthbearer.client.secret, ...
    return key.contains(u"password"_s) || key.contains(u"secret"_s);
}

QString Settings::environmentName(const QString &key)
{
    return u"COUPON_"_s + QString(key).replace(u'.', u'_').toUpper();
}

QStringList Settings::knownKeys()
{
    QStringList keys;
    for (const Spec &spec : kSpecs)
        keys << QString::fromLatin1(spec.key);
    return keys;
}

Result<Settings> Settings::load(const SettingsSources &sources)
{
    QMap<QString, QString> values;
    for (const Spec &spec : kSpecs)
        values.insert(QString::fromLatin1(spec.key), QString::fromLatin1(spec.defaultValue));

    auto accept = [&values](const QString &key, const QString &value, const QString &origin) -> Status {
        if (!findSpec(key) && !isKafkaPassthrough(key))
            return Error(Errc::ConfigUnknown, u"unknown setting %1 (from %2)"_s.arg(key, origin));
        values.insert(key, value);
        return Ok{};
    };

    if (!sources.iniPath.isEmpty()) {
        const QFileInfo info(sources.iniPath);
        if (!info.isFile() || !info.isReadable())
            return Error(Errc::ConfigFile,
                         u"cannot read config file %1 (--config / COUPON_CONFIG)"_s.arg(sources.iniPath));
        QSettings ini(sources.iniPath, QSettings::IniFormat);
        if (ini.status() != QSettings::NoError)
            return Error(Errc::ConfigFile, u"malformed config file %1"_s.arg(sources.iniPath));
        const QStringList keys = ini.allKeys();
        for (const QString &iniKey : keys) {
            // [redis] port=1 is "redis/port" in QSettings.
            const QString key = QString(iniKey).replace(u'/', u'.');
            const QVariant raw = ini.value(iniKey);
            // QSettings splits unquoted values with commas into lists.
            const QString value = raw.typeId() == QMetaType::QStringList ? raw.toStringList().join(u',')
                                                                         : raw.toString();
            if (Status st = accept(key, value, sources.iniPath); !st)
                return st.error();
        }
    }

    const QStringList names = sources.environment.keys();
    for (const QString &name : names) {
        if (!name.startsWith(u"COUPON_"_s))
            continue;
        const QString key = keyFromEnvironment(name);
        // COUPON_CONFIG, COUPON_STACK_DIR and friends belong to the scripts.
        if (!findSpec(key) && !isKafkaPassthrough(key))
            continue;
        values.insert(key, sources.environment.value(name));
    }

    for (const auto &[key, value] : sources.overrides) {
        if (Status st = accept(key, value, u"--set"_s); !st)
            return st.error();
    }

    for (auto it = values.cbegin(); it != values.cend(); ++it) {
        if (Status st = validate(it.key(), it.value()); !st)
            return st.error();
    }

    Settings s;
    s.m_effective = values;
    s.redis.host = values[u"redis.host"_s];
    s.redis.port = static_cast<quint16>(values[u"redis.port"_s].toUInt());
    s.redis.user = values[u"redis.user"_s];
    s.redis.password = values[u"redis.password"_s];
    s.redis.database = values[u"redis.db"_s].toInt();
    s.redis.connectTimeoutMs = values[u"redis.connect.timeout.ms"_s].toInt();
    s.redis.commandTimeoutMs = values[u"redis.command.timeout.ms"_s].toInt();
    for (const QString &item : values[u"redis.sentinels"_s].split(u',', Qt::SkipEmptyParts)) {
        const QString hostPort = item.trimmed();
        const qsizetype colon = hostPort.lastIndexOf(u':');
        QString host = hostPort.left(colon);
        if (host.startsWith(u'[') && host.endsWith(u']'))
            host = host.mid(1, host.size() - 2); // [::1]:26379
        s.redis.sentinels.append({host, static_cast<quint16>(hostPort.mid(colon + 1).toUInt())});
    }
    s.redis.masterName = values[u"redis.master.name"_s];
    s.redis.sentinelUser = values[u"redis.sentinel.user"_s];
    s.redis.sentinelPassword = values[u"redis.sentinel.password"_s];
    s.redis.sentinelCheckMs = values[u"redis.sentinel.check.ms"_s].toInt();
    s.mysql.host = values[u"mysql.host"_s];
    s.mysql.port = static_cast<quint16>(values[u"mysql.port"_s].toUInt());
    s.mysql.database = values[u"mysql.database"_s];
    s.mysql.user = values[u"mysql.user"_s];
    s.mysql.password = values[u"mysql.password"_s];
    s.mysql.connectOptions = values[u"mysql.options"_s];
    s.kafka.topic = values[u"kafka.topic"_s];
    for (auto it = values.cbegin(); it != values.cend(); ++it) {
        if (isKafkaPassthrough(it.key()) && it.key() != u"kafka.topic"_s)
            s.kafka.properties.insert(it.key().mid(6), it.value());
    }
    s.worker.group = values[u"worker.group"_s];
    s.worker.batchSize = values[u"worker.batch.size"_s].toInt();
    s.worker.batchMs = values[u"worker.batch.ms"_s].toInt();
    s.worker.reconcile = values[u"worker.reconcile"_s] == u"true"_s;
    s.worker.reconcileIntervalMs = values[u"worker.reconcile.interval.ms"_s].toInt();
    s.worker.settleGraceMs = values[u"worker.settle.grace.ms"_s].toLongLong();
    if (const QString admin = values[u"worker.admin.listen"_s]; !admin.isEmpty() && admin != u"off"_s) {
        s.worker.adminHost = admin.left(admin.lastIndexOf(u':'));
        s.worker.adminPort = static_cast<quint16>(admin.mid(admin.lastIndexOf(u':') + 1).toUInt());
    }
    s.defaultCampaign = values[u"campaign.default"_s];
    s.logLevel = values[u"log.level"_s];
    s.apply.soldOutMemoMs = values[u"apply.soldout.memo.ms"_s].toInt();
    s.apply.soldOutMemoMaxUsers = values[u"apply.soldout.memo.max.users"_s].toLongLong();
    const QString listen = values[u"gateway.listen"_s];
    s.gateway.listenHost = listen.left(listen.lastIndexOf(u':'));
    s.gateway.listenPort = static_cast<quint16>(listen.mid(listen.lastIndexOf(u':') + 1).toUInt());
    s.gateway.reusePort = values[u"gateway.reuseport"_s] == u"true"_s;
    s.gateway.maxInFlight = values[u"gateway.max.inflight"_s].toInt();
    s.gateway.readTimeoutMs = values[u"gateway.read.timeout.ms"_s].toInt();
    s.gateway.idempotencyTtlS = values[u"gateway.idempotency.ttl.s"_s].toInt();
    s.gateway.idempotencyQuota = values[u"gateway.idempotency.quota"_s].toInt();
    for (const QString &item : values[u"gateway.trusted.proxies"_s].split(u',', Qt::SkipEmptyParts))
        s.gateway.trustedProxies.append(*parseSubnet(item));
    s.gateway.auth.enabled = values[u"gateway.auth"_s] == u"jwt"_s;
    s.gateway.auth.keysPath = values[u"gateway.auth.keys"_s];
    s.gateway.auth.userClaim = values[u"gateway.auth.user.claim"_s];
    s.gateway.auth.issuer = values[u"gateway.auth.issuer"_s];
    s.gateway.auth.audience = values[u"gateway.auth.audience"_s];
    s.gateway.auth.skewS = values[u"gateway.auth.skew.s"_s].toInt();
    s.gateway.auth.threads = values[u"gateway.auth.threads"_s].toInt();
    s.gateway.userRate = values[u"gateway.limit.user.rate"_s].toInt();
    s.gateway.userBurst = values[u"gateway.limit.user.burst"_s].toInt();
    s.gateway.addressRate = values[u"gateway.limit.address.rate"_s].toInt();
    s.gateway.addressBurst = values[u"gateway.limit.address.burst"_s].toInt();
    s.signingKeyPath = values[u"auth.signing.key"_s];
    const QString admin = values[u"gateway.admin.listen"_s];
    s.gateway.adminHost = admin.left(admin.lastIndexOf(u':'));
    s.gateway.adminPort = static_cast<quint16>(admin.mid(admin.lastIndexOf(u':') + 1).toUInt());
    s.gateway.maxConnections = values[u"gateway.max.connections"_s].toInt();
    s.gateway.maxConnectionsPerAddress = values[u"gateway.max.connections.per.address"_s].toInt();
    s.gateway.maxUnsentBytes = values[u"gateway.max.unsent.bytes"_s].toLongLong();
    s.gateway.maxUnsentTotalBytes = values[u"gateway.max.unsent.total.bytes"_s].toLongLong();
    return s;
}

QStringList Settings::describe() const
{
    QStringList lines;
    for (auto it = m_effective.cbegin(); it != m_effective.cend(); ++it) {
        const bool hide = isSecretKey(it.key()) && !it.value().isEmpty();
        lines << it.key() + u" = "_s + (hide ? u"***"_s : it.value());
    }
    return lines;
}

} // namespace coupon
