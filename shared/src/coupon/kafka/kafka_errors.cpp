#include "coupon/kafka/kafka_errors.h"

using namespace Qt::StringLiterals;

namespace coupon::errors {

Error fromKafka(rd_kafka_resp_err_t err, const QString &what)
{
    const QString text = QString::fromUtf8(rd_kafka_err2str(err));
    return {u"kafka."_s + QString::fromUtf8(rd_kafka_err2name(err)), what.isEmpty() ? text : what + u": "_s + text};
}

Error fromKafka(const rd_kafka_error_t *error, const QString &what)
{
    const QString text = QString::fromUtf8(rd_kafka_error_string(error));
    return {u"kafka."_s + QString::fromUtf8(rd_kafka_error_name(error)), what.isEmpty() ? text : what + u": "_s + text};
}

} // namespace coupon::errors
