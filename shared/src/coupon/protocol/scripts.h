#pragma once

// The Lua scripts of the apply protocol (docs/DESIGN.md). Each runs
// atomically in Redis over one campaign's hash-tagged keys.

#include "coupon/protocol/keys.h"

namespace coupon {

// A Lua script with its SHA1, computed locally so EVALSHA works without a
// round trip; the text is sent (SCRIPT LOAD) only when Redis says NOSCRIPT.
struct LuaScript
{
    explicit LuaScript(QByteArray source);
    QByteArray source;
    QByteArray sha1; // lower-case hex
};

// EVALSHA <sha1> <number of keys> keys... args...
RedisArgs evalshaCommand(const LuaScript &script, const RedisArgs &keys, const RedisArgs &args);

} // namespace coupon

namespace coupon::scripts {

// KEYS: meta, users, count, pending. ARGV: user id.
// Returns {status, ticket, now_ms}; status is one of not_loaded, closed,
// duplicate, sold_out, accepted. Only `accepted` changes anything: the user
// joins the set, the counter grows by one (never past the limit) and the
// reservation is recorded as pending at the server's time.
const LuaScript &apply();

// KEYS: meta, users, count, pending. ARGV: user id.
// Undoes a reservation that is still pending (the produce definitely
// failed, or the reaper found no coupon after the grace period). Returns 1
// when released, 0 when there was no pending reservation (never touches a
// confirmed one). A release also raises the meta's `epoch`, so a sold-out
// snapshot (SoldOutMemo) taken before it no longer matches.
const LuaScript &release();

// KEYS: meta, count. ARGV: limit, state, starts_ms, ends_ms.
// Writes the campaign's meta and creates its counter at 0 if absent; sets a
// new `epoch` (Redis' clock in microseconds) so every reload is a new state.
const LuaScript &loadMeta();

// KEYS: meta, count, users. ARGV: the most holders to copy.
// For SoldOutMemo, atomically: when the campaign is open and sold out and
// has at most ARGV[1] holders, {fingerprint, now_ms, starts_ms, ends_ms,
// holders...}; otherwise {fingerprint}. The fingerprint names every field the
// apply script decides on (limit|state|starts|ends|epoch|count).
const LuaScript &soldOutSnapshot();

// KEYS: meta, count. Returns {fingerprint (as above), now_ms}.
const LuaScript &fingerprint();

} // namespace coupon::scripts
