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

// KEYS: meta, users, count, pending. ARGV: user id, the Redis instance
// (run_id) of the connection the script is sent on.
// Returns {status, ticket, now_ms}; status is one of not_loaded,
// reconciling (the meta was stamped by another Redis instance: this one may
// have lost acknowledged writes, so nothing is decided until the campaign is
// rebuilt from the record), closed, duplicate, sold_out, accepted. Only `accepted` changes anything: the user
// joins the set, the counter grows by one (never past the limit) and the
// reservation is recorded as pending at the server's time.
const LuaScript &apply();

// KEYS: meta, users, count, pending. ARGV: user id, the Redis instance the
// reservation was made on, and optionally the pending score (reservation
// time) it must still have.
// Undoes a reservation that is still pending (the produce definitely
// failed, or settlement found no coupon once the topic was drained past
// it). Returns 1 when released, 0 when there was no such pending
// reservation (never touches a confirmed one, nor a later reservation of
// the same user), -1 when the campaign is not stamped with that instance
// (Redis changed under it: reconciliation owns the campaign now). A release also raises the meta's `epoch`, so a sold-out
// snapshot (SoldOutMemo) taken before it no longer matches.
const LuaScript &release();

// KEYS: meta, count. ARGV: limit, state, starts_ms, ends_ms, instance,
// "stamp" or "keep".
// Writes the campaign's meta and creates its counter at 0 if absent; sets a
// new `epoch` (Redis' clock in microseconds) so every reload is a new state.
// "stamp" (the users and count were just written from the record, or are
// new) stamps the meta with `instance`. "keep" leaves the stamp as it is: a
// meta another instance stamped, or none, stays unstamped (the reconciler
// rebuilds it), so an operator's open, close or new limit never makes stale
// or lost data count. Returns 1 when the meta now carries `instance`, 0 otherwise.
const LuaScript &loadMeta();

// KEYS: meta, count, users. ARGV: the most holders to copy, the instance.
// For SoldOutMemo, atomically: when the campaign is stamped with the
// instance, open and sold out and
// has at most ARGV[1] holders, {fingerprint, now_ms, starts_ms, ends_ms,
// holders...}; otherwise {fingerprint}. The fingerprint names every field the
// apply script decides on (limit|state|starts|ends|epoch|count|instance).
const LuaScript &soldOutSnapshot();

// KEYS: meta, count. Returns {fingerprint (as above), now_ms}.
const LuaScript &fingerprint();

// KEYS: the lease key. ARGV: holder id, lease ms. Takes the lease when free
// or renews it when ARGV[1] holds it: 1; held by another: 0.
const LuaScript &lease();
// KEYS: the lease key. ARGV: holder id. Gives it up if ARGV[1] holds it.
const LuaScript &unlease();

} // namespace coupon::scripts
