//! The read view of revoked token ids that request handlers consult without a round trip.
//! Only the token blacklist actor writes to it.

use std::ops::Deref;

use super::expiring_ids::ExpiringIds;

/// Revoked jtis, each kept until the token's expiry.
#[derive(Debug, Default)]
pub struct RevokedSet(ExpiringIds);

impl RevokedSet {
    pub fn with_capacity(capacity: usize) -> Self {
        Self(ExpiringIds::with_capacity(capacity))
    }
}

impl Deref for RevokedSet {
    type Target = ExpiringIds;

    fn deref(&self) -> &ExpiringIds {
        &self.0
    }
}
