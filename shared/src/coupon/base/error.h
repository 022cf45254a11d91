#pragma once

#include <QString>

namespace coupon {

// Every kind of error coupon_core reports. Each has one stable,
// machine-readable code (what couponctl prints and HTTP bodies carry) and
// says whether the same call may succeed if tried again later (a dependency
// that is down or slow) or not (bad input, bad configuration, wrong state):
// modern-cpp-kafka's Error::isRetriable(), for every layer.
enum class Errc : quint8 {
    // Configuration: stop and name the setting.
    ConfigInvalid, // config.invalid
    ConfigUnknown, // config.unknown
    ConfigFile,    // config.file
    // Input and campaign state: the same call fails again.
    CampaignInvalid,     // campaign.invalid
    CampaignUnknown,     // campaign.unknown
    CampaignExists,      // campaign.exists
    CampaignState,       // campaign.state
    CampaignLimit,       // campaign.limit
    FailedEventUnknown,  // failed_event.unknown: no failed event with that id
    FailedEventResolved, // failed_event.resolved: it was resolved already
    FailedEventRetry,    // failed_event.retry: cannot retry as asked (no usable original, unconfirmed correction)
    BadUserId,           // bad_user_id (an HTTP 400 code)
    BadJson,             // bad_json (an HTTP 400 code)
    HttpTarget,          // http.target
    // Identity (auth/).
    AuthInvalid, // invalid_token (an HTTP 401 code): the token is missing, malformed, expired or not ours
    AuthKeys,    // auth.keys: a key file that cannot be used
    // Redis.
    RedisUnavailable, // redis.unavailable: connect, I/O, EOF, timeout (retriable)
    RedisProtocol,    // redis.protocol
    RedisReply,       // redis.reply: an error reply; the message is Redis' text
    RedisNoScript,    // redis.noscript: load the script and run it again (retriable)
    RedisNoReply,     // redis.no_reply: sent, but no reply came: the command may have run (retriable)
    RedisAuth,        // redis.auth
    // MySQL.
    MysqlConnection, // mysql.connection: lost or refused; retry the whole unit of work (retriable)
    MysqlQuery,      // mysql.query
    MysqlSchema,     // mysql.schema
    MysqlDriver,     // mysql.driver
    // Kafka.
    Kafka,       // kafka.<librdkafka error name>; retriable as librdkafka says
    KafkaCreate, // kafka.create
    KafkaClosed, // kafka.closed
    KafkaLag,    // kafka.lag (retriable)
    // Services.
    GatewayListen, // gateway.listen
    // Tools.
    RunHistory, // run.history: a simulation run's record cannot be written or read
};

// A setting is missing or wrong: a process stops at start and names it.
struct Error;
bool isConfigError(const Error &error);

// The stable code of `errc` ("redis.unavailable", ...); Errc::Kafka's is "kafka".
QString codeOf(Errc errc);
// Whether an error of this kind may clear up by itself (Errc::Kafka: by default no).
bool isRetriable(Errc errc);

// What a fallible call in coupon_core returns instead of throwing.
// `message` is for humans and never contains a secret.
struct Error
{
    Error() = default;
    Error(Errc kind, QString text);
    // Errc::Kafka: the exact code ("kafka._MSG_TIMED_OUT") and librdkafka's verdict on retrying.
    Error(Errc kind, QString exactCode, QString text, bool mayRetry);

    Errc errc = Errc::ConfigInvalid;
    QString code; // stable and machine-readable: codeOf(errc), or the Kafka error's own
    QString message;
    bool retriable = false;

    bool is(Errc e) const { return errc == e; }
    bool isRetriable() const { return retriable; }
    QString toString() const { return code + QStringLiteral(": ") + message; }
};

} // namespace coupon
