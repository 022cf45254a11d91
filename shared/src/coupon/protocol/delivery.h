#pragma once

#include "coupon/base/result.h"

#include <cstdint>
#include <functional>

namespace coupon {

// What Kafka said about one produced message, in the protocol's terms (the
// Kafka layer reads librdkafka's error and persistence status into this).
struct DeliveryReport
{
    enum class Outcome {
        Persisted,         // acknowledged by all in-sync replicas
        NotPersisted,      // definitely not written: safe to release the reservation
        PossiblyPersisted, // unknown: the reservation stays pending for the reaper
    };
    Outcome outcome = Outcome::NotPersisted;
    int32_t partition = -1;
    int64_t offset = -1;
    Error error; // unless Persisted: code "kafka.<librdkafka error name>", message librdkafka's text
};
using DeliveryCallback = std::function<void(const DeliveryReport &)>;

} // namespace coupon
