//! Ids as finance stores them: typed, so a budget's id cannot be passed where an upload's is
//! wanted, and a stored id that is not a UUID is an unreadable value (500, alert) rather than
//! a string carried on.
//!
//! Finance owns budgets, uploads, payments and commitment lines; placements, orders,
//! referrals, block contracts, service contracts and their variations are the contract and
//! referral services' things, declared here as the ids finance keeps of them (the events carry
//! them as bare UUIDs). A commitment line names its source and the contract its cost is under
//! by kind: [`SourceId`] and [`ContractId`] hold any of the ids a line can name.
//!
//! Not ids here: provider ids and council GSS codes (not UUIDs), a payment's own
//! `contract_id` (the payer's reference, up to 64 characters, checked as text), and a line's
//! `cause_event_id` (an event's id, or `partnership/year` for a ledger opened through a year).

hub_platform::typed_id! {
    /// A partnership's pooled budget for a financial year.
    pub struct BudgetId;
}

hub_platform::typed_id! {
    /// One upload of payments (`/v1/actuals/uploads/{id}`).
    pub struct UploadId;
}

hub_platform::typed_id! {
    /// One payment (an actual line) recorded by an upload.
    pub struct PaymentId;
}

hub_platform::typed_id! {
    /// One commitment line of the ledger.
    pub struct LineId;
}

hub_platform::typed_id! {
    /// A placement of the contract service.
    pub struct PlacementId;
}

hub_platform::typed_id! {
    /// An order (the individual placement agreement) of the contract service.
    pub struct OrderId;
}

hub_platform::typed_id! {
    /// A referral of the referral service.
    pub struct ReferralId;
}

hub_platform::typed_id! {
    /// A block contract of the contract service.
    pub struct BlockContractId;
}

hub_platform::typed_id! {
    /// A service contract of the contract service.
    pub struct ServiceContractId;
}

hub_platform::typed_id! {
    /// A variation of a service contract's value.
    pub struct VariationId;
}

hub_platform::typed_id! {
    /// What a commitment line is costed from, by its `source_kind`: a placement, a block
    /// contract (its beds) or a service contract.
    pub struct SourceId;
}

hub_platform::typed_id! {
    /// What a commitment line's cost is under: a placement's order, a block contract or a
    /// service contract.
    pub struct ContractId;
}

/// The ids that name a source or a contract of a line, as those.
macro_rules! widen {
    ($($from:ty => $($to:ty),+;)+) => {$($(
        impl From<$from> for $to {
            fn from(id: $from) -> Self {
                Self(id.0)
            }
        }
    )+)+};
}

widen! {
    PlacementId => SourceId;
    BlockContractId => SourceId, ContractId;
    ServiceContractId => SourceId, ContractId;
    OrderId => ContractId;
}
