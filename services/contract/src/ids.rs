//! The ids the contract service stores, as types (stored as hyphenated UUID text; see
//! `hub_platform::sql`).
//!
//! The service's own entities have ids it mints. Ids of other services' entities
//! (competitions, referrals, frameworks, lots, homes) are declared here too, as plain
//! wrappers: the service never mints them, but storing them typed means a row that holds
//! one can be put into an event without parsing, and a broken one is read as an error
//! rather than passed on.

use hub_platform::typed_id;

typed_id! {
    /// An order issued on an award.
    pub struct OrderId;
}
typed_id! {
    /// A variation of a signed order.
    pub struct VariationId;
}
typed_id! {
    /// A placement (under an order or in a block bed).
    pub struct PlacementId;
}
typed_id! {
    /// A placement's Individual Placement Agreement.
    pub struct IpaId;
}
typed_id! {
    /// A review of an IPA.
    pub struct ReviewId;
}
typed_id! {
    /// A block contract.
    pub struct BlockContractId;
}
typed_id! {
    /// A child's stay in a block bed.
    pub struct StayId;
}
typed_id! {
    /// An extension of a block contract.
    pub struct ExtensionId;
}
typed_id! {
    /// A service contract.
    pub struct ServiceContractId;
}
typed_id! {
    /// An entry of a service contract's history.
    pub struct HistoryId;
}

typed_id! {
    /// A referral (the referral service's).
    pub struct ReferralId;
}
typed_id! {
    /// A competition (the competition service's).
    pub struct CompetitionId;
}
typed_id! {
    /// A framework (the competition service's).
    pub struct FrameworkId;
}
typed_id! {
    /// A lot of a framework (the competition service's).
    pub struct LotId;
}
typed_id! {
    /// A provider's home (the competition service's).
    pub struct HomeId;
}
