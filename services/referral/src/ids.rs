//! Ids as this service stores them: typed, so a referral id cannot be passed where a
//! framework's is wanted, and a stored id that is not a UUID is an unreadable value (500,
//! alert) rather than a string carried on.
//!
//! The referral service owns referrals, their reads and their history; frameworks, lots and
//! competitions are the competition service's, declared here as the ids this service keeps
//! of them (the events carry them as bare UUIDs).

hub_platform::typed_id! {
    /// A referral.
    pub struct ReferralId;
}

hub_platform::typed_id! {
    /// One logged read of a referral (`/reads`).
    pub struct ReadId;
}

hub_platform::typed_id! {
    /// One transition in a referral's history (`/history`).
    pub struct TransitionId;
}

hub_platform::typed_id! {
    /// A framework of the competition service.
    pub struct FrameworkId;
}

hub_platform::typed_id! {
    /// A lot of a framework of the competition service.
    pub struct LotId;
}

hub_platform::typed_id! {
    /// A competition or direct award of the competition service.
    pub struct CompetitionId;
}
