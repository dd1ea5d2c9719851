//! What the contract service told finance about the sources of the ledger's lines, as finance
//! keeps it: a placement's start, rate changes and end; a block contract's letting, extensions
//! and bed states; a service contract's letting, extensions, variations and termination. Each
//! is kept once (a repeat is ignored) and the source's lines are derived from all of them
//! (`app::commitments`). No I/O.

use chrono::NaiveDate;
use hub_platform::Pence;

use super::ledger::BedStatus;
use crate::ids::{
    BlockContractId, OrderId, PlacementId, ReferralId, ServiceContractId, VariationId,
};

/// A placement's start (`contract.placement_started`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub placement_id: PlacementId,
    pub partnership: String,
    /// The council whose child it is.
    pub council: String,
    pub provider_id: String,
    pub order_id: Option<OrderId>,
    pub referral_id: Option<ReferralId>,
    /// A placement in a block bed: the block contract and the bed (its lines are the block's).
    pub block_contract_id: Option<BlockContractId>,
    pub bed: Option<i32>,
    pub start_date: NaiveDate,
    pub weekly_rate_pence: Pence,
    pub extras_weekly_pence: Pence,
}

/// A placement's rate from a day (one per IPA version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateChange {
    pub placement_id: PlacementId,
    pub ipa_version: i32,
    pub partnership: String,
    pub council: String,
    pub effective_from: NaiveDate,
    pub weekly_rate_pence: Pence,
    pub extras_weekly_pence: Pence,
}

/// A placement's end (a later one corrects it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacementEnd {
    pub placement_id: PlacementId,
    pub partnership: String,
    pub council: String,
    /// The last night.
    pub end_date: NaiveDate,
    pub reason: String,
}

/// A block contract as let (`contract.block_contract_let`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockContract {
    pub block_contract_id: BlockContractId,
    pub partnership: String,
    pub lead_council: String,
    pub provider_id: String,
    pub beds: i32,
    pub block_weekly_rate_pence: Pence,
    pub spot_weekly_rate_pence: Pence,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub planned_annual_saving_pence: Pence,
}

/// An extension option of a block contract used (one per extension number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockExtension {
    pub block_contract_id: BlockContractId,
    pub extensions_used: i32,
    pub partnership: String,
    pub previous_end_date: NaiveDate,
    pub new_end_date: NaiveDate,
}

/// What a block bed is from a day on: filled by a placement of a council's child, or void
/// (held for a council, or as before when `council` is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BedRecord {
    pub block_contract_id: BlockContractId,
    pub bed: i32,
    pub effective_from: NaiveDate,
    pub state: BedStatus,
    pub partnership: String,
    pub council: Option<String>,
    pub placement_id: Option<PlacementId>,
}

/// A service contract as let (`contract.service_contract_let`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceContract {
    pub contract_id: ServiceContractId,
    pub partnership: String,
    pub lead_council: String,
    pub provider_id: String,
    pub budget_line: String,
    pub value_pence: Pence,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
}

/// A service contract's extension (one per extension number), with the value it adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceExtension {
    pub contract_id: ServiceContractId,
    pub extensions_used: i32,
    pub partnership: String,
    pub previous_end_date: NaiveDate,
    pub new_end_date: NaiveDate,
    pub added_value_pence: Pence,
}

/// A variation of a live contract's value, phased over `effective_on ..= phased_to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variation {
    pub contract_id: ServiceContractId,
    pub variation_id: VariationId,
    pub partnership: String,
    pub effective_on: NaiveDate,
    pub phased_to: NaiveDate,
    pub value_change_pence: Pence,
}

/// A service contract's termination (the first stands).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Termination {
    pub contract_id: ServiceContractId,
    pub partnership: String,
    pub terminated_on: NaiveDate,
    pub reason: String,
}
