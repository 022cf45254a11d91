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

} // namespace coupon::gateway
