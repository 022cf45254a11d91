#include "coupon/kafka/kafka_errors.h"

using namespace Qt::StringLiterals;

namespace coupon::errors {

namespace {

// librdkafka says whether an rd_kafka_error_t is retriable, not a bare
// error code: these are the codes Kafka's protocol marks retriable
// (RetriableException), and librdkafka's own transient local errors.
bool retriable(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR: return true;
    default: return false;
    }
}

} // namespace

Error fromKafka(rd_kafka_resp_err_t err, const QString &what)
{
    const QString text = QString::fromUtf8(rd_kafka_err2str(err));
    return Error(Errc::Kafka, u"kafka."_s + QString::fromUtf8(rd_kafka_err2name(err)),
                 what.isEmpty() ? text : what + u": "_s + text, retriable(err));
}

Error fromKafka(const rd_kafka_error_t *error, const QString &what)
{
    const QString text = QString::fromUtf8(rd_kafka_error_string(error));
    return Error(Errc::Kafka, u"kafka."_s + QString::fromUtf8(rd_kafka_error_name(error)),
                 what.isEmpty() ? text : what + u": "_s + text, rd_kafka_error_is_retriable(error) != 0);
}

} // namespace coupon::errors
