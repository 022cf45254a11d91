#pragma once

// Every librdkafka handle coupon_core touches gets exactly one deleter and one
// unique_ptr alias here (modern-cpp-kafka's RdKafkaHelper.h, redis-plus-plus'
// connection.h). Call release() only where ownership moves into the C
// library, and say so in a comment at that spot.

#include <librdkafka/rdkafka.h>

#include <memory>

namespace coupon {

struct RdKafkaDeleter
{
    void operator()(rd_kafka_t *p) const { rd_kafka_destroy(p); }
    void operator()(rd_kafka_conf_t *p) const { rd_kafka_conf_destroy(p); }
    void operator()(rd_kafka_topic_t *p) const { rd_kafka_topic_destroy(p); }
    void operator()(rd_kafka_topic_partition_list_t *p) const { rd_kafka_topic_partition_list_destroy(p); }
    void operator()(rd_kafka_message_t *p) const { rd_kafka_message_destroy(p); }
    void operator()(rd_kafka_headers_t *p) const { rd_kafka_headers_destroy(p); }
    void operator()(rd_kafka_queue_t *p) const { rd_kafka_queue_destroy(p); }
    void operator()(rd_kafka_event_t *p) const { rd_kafka_event_destroy(p); }
    void operator()(rd_kafka_error_t *p) const { rd_kafka_error_destroy(p); }
    void operator()(rd_kafka_AdminOptions_t *p) const { rd_kafka_AdminOptions_destroy(p); }
    void operator()(rd_kafka_NewTopic_t *p) const { rd_kafka_NewTopic_destroy(p); }
    void operator()(const rd_kafka_metadata_t *p) const { rd_kafka_metadata_destroy(p); }
};

using KafkaHandle = std::unique_ptr<rd_kafka_t, RdKafkaDeleter>;
using KafkaConfHandle = std::unique_ptr<rd_kafka_conf_t, RdKafkaDeleter>;
using KafkaTopicHandle = std::unique_ptr<rd_kafka_topic_t, RdKafkaDeleter>;
using KafkaPartitionListHandle = std::unique_ptr<rd_kafka_topic_partition_list_t, RdKafkaDeleter>;
using KafkaMessageHandle = std::unique_ptr<rd_kafka_message_t, RdKafkaDeleter>;
using KafkaHeadersHandle = std::unique_ptr<rd_kafka_headers_t, RdKafkaDeleter>;
using KafkaQueueHandle = std::unique_ptr<rd_kafka_queue_t, RdKafkaDeleter>;
using KafkaEventHandle = std::unique_ptr<rd_kafka_event_t, RdKafkaDeleter>;
using KafkaErrorHandle = std::unique_ptr<rd_kafka_error_t, RdKafkaDeleter>;
using KafkaAdminOptionsHandle = std::unique_ptr<rd_kafka_AdminOptions_t, RdKafkaDeleter>;
using KafkaNewTopicHandle = std::unique_ptr<rd_kafka_NewTopic_t, RdKafkaDeleter>;
using KafkaMetadataHandle = std::unique_ptr<const rd_kafka_metadata_t, RdKafkaDeleter>;

} // namespace coupon
