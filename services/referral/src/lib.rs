//! referral service
