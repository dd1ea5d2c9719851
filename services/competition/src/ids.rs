//! The ids of the service's rows: UUIDs stored as text (`hub_platform::typed_id!`), one type
//! per kind of row so that a lot's id cannot be passed where a framework's is meant.
//!
//! Ids of other services' entities that rows keep (a referral, a block contract) get a type
//! here too: the rows still hold them as UUIDs, and a type says which. Providers and councils
//! are named by organisation codes, not UUIDs, and stay strings.

hub_platform::typed_id! {
    /// A framework or purchasing system.
    pub struct FrameworkId;
}
hub_platform::typed_id! {
    /// A lot of a framework.
    pub struct LotId;
}
hub_platform::typed_id! {
    /// An admission round of a framework.
    pub struct RoundId;
}
hub_platform::typed_id! {
    /// A provider's home or fostering household.
    pub struct HomeId;
}
hub_platform::typed_id! {
    /// A live vacancy, published by a provider or offered from a block contract.
    pub struct VacancyId;
}
hub_platform::typed_id! {
    /// A mini-competition or direct award.
    pub struct CompetitionId;
}
hub_platform::typed_id! {
    /// A provider's bid in a competition.
    pub struct BidId;
}
hub_platform::typed_id! {
    /// An entry of a competition's history.
    pub struct LogEntryId;
}
hub_platform::typed_id! {
    /// A referral (the referral service's).
    pub struct ReferralId;
}
hub_platform::typed_id! {
    /// A block contract (the contract service's).
    pub struct BlockContractId;
}
