#pragma once

// The gateway's routes: what /metrics counts requests by.

#include <array>

namespace coupon::gateway {

// Other is every path no endpoint serves (the 404s), so scanners and broken
// clients show up on their own line instead of inside a real endpoint's count.
enum class Route { Apply, Campaign, User, Health, Ready, Metrics, Other, Count };

// The route label in /metrics, in Route's order.
inline const char *routeName(Route route)
{
    static constexpr std::array<const char *, size_t(Route::Count)> names{"apply", "campaign", "user", "health",
                                                                          "ready", "metrics",  "other"};
    return names[size_t(route)];
}

// Why a request was turned away before it reached its endpoint's work (the
// reason label of coupon_gateway_refused_total).
enum class Refusal { Unauthorized, InvalidToken, UserMismatch, RateUser, RateAddress, IdempotencyQuota, Count };

inline const char *refusalLabel(Refusal refusal)
{
    static constexpr std::array<const char *, size_t(Refusal::Count)> names{
        "unauthorized",      "invalid_token",        "user_mismatch",
        "rate_limited_user", "rate_limited_address", "idempotency_quota"};
    return names[size_t(refusal)];
}

} // namespace coupon::gateway
