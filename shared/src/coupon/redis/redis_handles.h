#pragma once

// Every hiredis handle coupon_core touches gets exactly one deleter and one
// unique_ptr alias here (modern-cpp-kafka's RdKafkaHelper.h, redis-plus-plus'
// connection.h). Call release() only where ownership moves into the C
// library, and say so in a comment at that spot.

#include <hiredis/hiredis.h>

#include <memory>

namespace coupon {

struct RedisDeleter
{
    void operator()(redisContext *p) const { redisFree(p); }
    void operator()(redisReply *p) const { freeReplyObject(p); }
};

using RedisContextHandle = std::unique_ptr<redisContext, RedisDeleter>;
using RedisReplyHandle = std::unique_ptr<redisReply, RedisDeleter>;

} // namespace coupon
