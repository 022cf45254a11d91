#pragma once

#include "coupon/settings.h"

#include <optional>

namespace coupon::test {

// Settings for integration tests: $COUPON_CONFIG (scripts/test points it at
// the test stack's admin.ini) plus COUPON_* variables. Fails loudly, never
// skips: an integration test without its servers is a red test.
Settings integrationSettings();

} // namespace coupon::test
