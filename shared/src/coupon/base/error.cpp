#include "coupon/base/error.h"

using namespace Qt::StringLiterals;

namespace coupon {

QString codeOf(Errc errc)
{
    switch (errc) {
    case Errc::ConfigInvalid: return u"config.invalid"_s;
    case Errc::ConfigUnknown: return u"config.unknown"_s;
    case Errc::ConfigFile: return u"config.file"_s;
    case Errc::CampaignInvalid: return u"campaign.invalid"_s;
    case Errc::CampaignUnknown: return u"campaign.unknown"_s;
    case Errc::CampaignExists: return u"campaign.exists"_s;
    case Errc::CampaignState: return u"campaign.state"_s;
    case Errc::CampaignLimit: return u"campaign.limit"_s;
    case Errc::FailedEventUnknown: return u"failed_event.unknown"_s;
    case Errc::FailedEventResolved: return u"failed_event.resolved"_s;
    case Errc::FailedEventRetry: return u"failed_event.retry"_s;
    case Errc::BadUserId: return u"bad_user_id"_s;
    case Errc::BadJson: return u"bad_json"_s;
    case Errc::HttpTarget: return u"http.target"_s;
    case Errc::AuthInvalid: return u"invalid_token"_s;
    case Errc::AuthKeys: return u"auth.keys"_s;
    case Errc::RedisUnavailable: return u"redis.unavailable"_s;
    case Errc::RedisProtocol: return u"redis.protocol"_s;
    case Errc::RedisReply: return u"redis.reply"_s;
    case Errc::RedisNoScript: return u"redis.noscript"_s;
    case Errc::RedisNoReply: return u"redis.no_reply"_s;
    case Errc::RedisAuth: return u"redis.auth"_s;
    case Errc::MysqlConnection: return u"mysql.connection"_s;
    case Errc::MysqlQuery: return u"mysql.query"_s;
    case Errc::MysqlSchema: return u"mysql.schema"_s;
    case Errc::MysqlDriver: return u"mysql.driver"_s;
    case Errc::Kafka: return u"kafka"_s;
    case Errc::KafkaCreate: return u"kafka.create"_s;
    case Errc::KafkaClosed: return u"kafka.closed"_s;
    case Errc::KafkaLag: return u"kafka.lag"_s;
    case Errc::GatewayListen: return u"gateway.listen"_s;
    case Errc::RunHistory: return u"run.history"_s;
    }
    return u"unknown"_s;
}

bool isConfigError(const Error &error)
{
    return error.is(Errc::ConfigInvalid) || error.is(Errc::ConfigUnknown) || error.is(Errc::ConfigFile);
}

bool isRetriable(Errc errc)
{
    switch (errc) {
    case Errc::RedisUnavailable:
    case Errc::RedisNoScript:
    case Errc::RedisNoReply:
    case Errc::MysqlConnection:
    case Errc::KafkaLag: return true;
    default: return false;
    }
}

Error::Error(Errc kind, QString text)
    : errc(kind)
    , code(codeOf(kind))
    , message(std::move(text))
    , retriable(coupon::isRetriable(kind))
{ }

Error::Error(Errc kind, QString exactCode, QString text, bool mayRetry)
    : errc(kind)
    , code(std::move(exactCode))
    , message(std::move(text))
    , retriable(mayRetry)
{ }

} // namespace coupon
