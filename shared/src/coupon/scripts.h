#pragma once

// The Lua scripts of the apply protocol (docs/DESIGN.md). Each runs
// atomically in Redis over one campaign's hash-tagged keys.

#include "coupon/redis.h"

namespace coupon::scripts {

// KEYS: meta, users, count, pending. ARGV: user id.
// Returns {status, ticket, now_ms}; status is one of not_loaded, closed,
// duplicate, sold_out, accepted. Only `accepted` changes anything: the user
// joins the set, the counter grows by one (never past the limit) and the
// reservation is recorded as pending at the server's time.
const LuaScript &apply();

// KEYS: users, count, pending. ARGV: user id.
// Undoes a reservation that is still pending (the produce definitely
// failed, or the reaper found no coupon after the grace period). Returns 1
// when released, 0 when there was no pending reservation (never touches a
// confirmed one).
const LuaScript &release();

// KEYS: meta, count. ARGV: limit, state, starts_ms, ends_ms.
// Writes the campaign's meta and creates its counter at 0 if absent.
const LuaScript &loadMeta();

} // namespace coupon::scripts
